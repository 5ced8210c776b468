"""The roster in the staff pages: a manager puts herself on tomorrow's shift (Chinese, 1366 px)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from centers.models import StaffShift
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

from .conftest import assert_accessible

pytestmark = pytest.mark.browser


def test_manager_plans_tomorrows_shift_from_the_roster(staff_page, zh_translations):  # noqa: F811
    center = ServiceCenterFactory(code="SC-ROSTER", name="上海徐家汇服务中心")
    manager = staff(center, "manager", username="roster_mgr")
    manager.is_staff = True
    manager.save()
    page = staff_page(manager)
    page.goto("/admin/centers/staffshift/")
    assert_accessible(page)
    page.locator(".object-tools a.addlink").click()
    page.wait_for_url(re.compile(r"/admin/centers/staffshift/add/"))
    page.locator("#id_center").select_option(str(center.pk))
    page.locator("#id_user").select_option(str(manager.pk))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.locator("#id_starts_at_0").fill(f"{tomorrow:%Y-%m-%d}")
    page.locator("#id_starts_at_1").fill("09:00:00")
    # a shift that ends before it starts is refused in words, and nothing is written
    page.locator("#id_ends_at_0").fill(f"{tomorrow:%Y-%m-%d}")
    page.locator("#id_ends_at_1").fill("08:00:00")
    page.locator("input[name=_save]").click()
    error = page.locator(".errorlist").first.inner_text()
    assert ("班次须在开始之后结束" if zh_translations else "A shift ends after it starts.") in error
    assert not StaffShift.objects.exists()
    page.locator("#id_ends_at_1").fill("17:30:00")
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/centers/staffshift/$"))
    shift = StaffShift.objects.get()
    starts, ends = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
    assert (shift.center_id, shift.user_id) == (center.pk, manager.pk)
    assert (starts.date(), starts.hour, ends.hour, ends.minute) == (tomorrow, 9, 17, 30)
    assert "roster_mgr" in page.locator("#result_list").inner_text()
