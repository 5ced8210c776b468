"""Overdue amenities and the stock history in a real browser (issue #22), zh-Hans, on a 768 px tablet.

A power bank lent three days ago is overdue; the 10:00 job reminded its borrower. The front-desk worker opens
the amenity desk, finds it at the top under "overdue" with its days and the reminder, and takes it back. The
center's manager then opens the stock history and finds the lend and the return. The database holds the
returned loan and exactly those two moves."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from loaners.jobs import job_amenity_overdue_reminders
from loaners.models import Amenity, AmenityLoan, AmenityStockMove
from loaners.services import amenity_lend
from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}


def test_the_desk_sees_an_overdue_power_bank_takes_it_back_and_the_manager_finds_both_moves(
    staff_page, zh_translations
):
    center = ServiceCenterFactory(code="SC-OD", name="杭州西湖服务中心")
    banks = Amenity.objects.create(
        center=center, kind="power_bank", name_zh="充电宝", name_en="Power bank", on_hand=4, loan_days=1
    )
    loan = amenity_lend(amenity_id=banks.pk, borrower_name="李先生", borrower_phone="139 1234 0001", actor=SYSTEM)
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    AmenityLoan.objects.filter(pk=loan.pk).update(
        lent_at=three_days_ago - dt.timedelta(days=1), due_back_at=three_days_ago
    )
    assert job_amenity_overdue_reminders()["reminded"] == 1
    worker = staff(center, "front_desk", username="desk-od")
    manager = staff(center, "manager", username="mgr-od")

    page = staff_page(worker)
    page.set_viewport_size(TABLET)
    page.goto("/admin/loaners/amenityloan/desk/?center=SC-OD")
    overdue = page.locator(f"#overdue-{loan.pk}")
    assert page.locator("#overdue-count").inner_text() == "1"
    text = overdue.inner_text()
    assert "李先生" in text and "0001" in text and "1234" not in text  # the phone masked
    assert re.search(r"\b3 ?(天|days)", text)  # whole days since it was due
    assert "—" not in overdue.locator("td").last.inner_text()  # the reminder's time, not "not sent"

    with page.expect_navigation():
        page.locator(f"#loan-{loan.pk}").get_by_role(
            "button", name=re.compile("^归还" if zh_translations else "^Return")
        ).click()
    assert page.locator("#nothing-overdue").count() == 1
    loan.refresh_from_db()
    assert (loan.status, loan.closed_by, loan.returned_at_center) == ("returned", worker, center)

    page = staff_page(manager)
    page.set_viewport_size(TABLET)
    page.goto("/admin/loaners/amenitystockmove/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    listed = rows.all_inner_texts()
    assert any(("借出" if zh_translations else "Lent") in r and "-1" in r for r in listed)
    assert any(("归还" if zh_translations else "Returned") in r and "+1" in r for r in listed)
    assert page.locator(".object-tools a.addlink").count() == 0  # nothing to add by hand
    page.goto("/admin/loaners/amenity/")
    assert page.locator(".object-tools a.addlink").count() == 1  # the control: where a manager may add, it shows

    moves = sorted(AmenityStockMove.objects.filter(amenity=banks).values_list("reason", "delta", "on_hand_after"))
    assert moves == [("lend", -1, 3), ("return", 1, 4)]
    banks.refresh_from_db()
    assert banks.on_hand == 4
