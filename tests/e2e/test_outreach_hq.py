"""Issue #22 in the staff pages (Chinese, 1366 px): a manager marks a front-desk worker as a signer and the roster
shows it on her shift; HQ opens its dashboard and finds the amenity loans and the hotline callbacks counted."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from booking import services as booking_services
from centers.models import StaffMembership, StaffShift
from loaners import services as loaner_services
from loaners.models import Amenity
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.outreach.visits_fixtures import hq_user

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_marks_a_signer_and_the_roster_shows_her_shift(staff_page, zh_translations):
    center = ServiceCenterFactory(code="SC-SIGNR", name="上海静安服务中心")
    manager = staff(center, "manager", username="mgr-signr")
    # Memberships are edited by those given the model permissions (docs/admin.md); shifts by the center's managers.
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_staffmembership", "change_staffmembership"])
    )
    desk = staff(center, "front_desk", username="desk-signr")
    membership = StaffMembership.objects.get(user=desk, center=center)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    StaffShift.objects.create(center=center, user=desk, starts_at=start, ends_at=start + dt.timedelta(hours=8))

    page = staff_page(manager)
    page.goto("/admin/centers/staffmembership/")
    with page.expect_navigation():
        page.locator("#result_list").get_by_role("link", name=re.compile("desk-signr")).first.click()
    page.get_by_label("会手语" if zh_translations else "Signs (sign language)").check()
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    membership.refresh_from_db()
    assert membership.skills == ["sign_language"]

    page.goto("/admin/centers/staffshift/")
    row = page.locator("#result_list tbody tr").filter(has_text="desk-signr")
    assert row.locator("img[alt=True]").count() == 1  # the "signs" column
    assert_accessible(page)


def test_hq_finds_amenity_loans_and_callbacks_on_its_dashboard(staff_page, zh_translations):
    center = ServiceCenterFactory(code="SC-HQ22", name="上海徐汇服务中心")
    desk = staff(center, "front_desk", username="desk-hq22")
    actor = actor_for_user(desk)
    umbrella = Amenity.objects.create(
        center=center, kind="umbrella", name_zh="雨伞", name_en="Umbrella", deposit=Decimal("20.00"), on_hand=5
    )
    for phone in ("13800000001", "13800000002"):
        loaner_services.amenity_lend(
            amenity_id=umbrella.pk, borrower_name="客人", borrower_phone=phone, payment_method="cash", actor=actor
        )
    hq = hq_user("hq-22")
    callback = booking_services.callback_request_create(
        name="李阿姨", phone="13900000003", topic="repair", preferred_window="morning"
    )
    booking_services.callback_outcome_log(callback_id=callback.pk, outcome="no_answer", actor=actor_for_user(hq))

    page = staff_page(hq)
    page.goto("/admin/ops/hq/")
    loans = page.locator("#fig-amenity_loans")
    loans.scroll_into_view_if_needed()
    row = loans.locator("tbody tr").filter(has_text="SC-HQ22")
    assert "2" in row.locator("td").all_inner_texts()  # two lent this month
    callbacks = page.locator("#fig-callbacks_by_outcome")
    assert callbacks.count() == 1
    assert callbacks.locator("svg").count() == 1  # the chart
    still_open = callbacks.locator("tbody tr").filter(has_text="仍待回电" if zh_translations else "Still open")
    assert still_open.locator("td").all_inner_texts()[-1] == "1"  # the no-answer call keeps it open
    assert page.locator("#fig-accessibility_sessions").count() == 1
    assert page.locator("#fig-store_reports").count() == 1
    assert_accessible(page)
