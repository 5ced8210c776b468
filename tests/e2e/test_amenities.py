"""Amenities at the desk in a real browser (issue #22), zh-Hans, on a 768 px tablet: a front-desk worker opens the
amenity desk from the quick-visits desk, lends an umbrella against a 20 CNY cash deposit, and takes it back. The
database then holds the returned loan, the deposit's payment and its refund, and a balanced ledger."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from loaners.models import Amenity, AmenityLoan
from payments.choices import EntryKind
from payments.models import LedgerEntry, Payment, Refund
from payments.selectors import subject_balance
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()
TABLET = {"width": 768, "height": 1024}


def test_desk_lends_an_umbrella_for_a_20_cny_cash_deposit_and_takes_it_back(staff_page, zh_translations):
    center = ServiceCenterFactory(code="SC-AD", name="上海南京东路服务中心")
    umbrellas = Amenity.objects.create(
        center=center, kind="umbrella", name_zh="雨伞", name_en="Umbrella", deposit=Decimal("20.00"), on_hand=6
    )
    Amenity.objects.create(center=center, kind="power_bank", name_zh="充电宝", name_en="Power bank", on_hand=3)
    worker = staff(center, "front_desk", username="desk-ad")

    page = staff_page(worker)
    page.set_viewport_size(TABLET)
    page.goto("/admin/outreach/visit/desk/")
    with page.expect_navigation():
        page.locator("#open-amenity-desk").click()
    assert page.url.endswith("/admin/loaners/amenityloan/desk/?center=SC-AD")

    # lend: pick the umbrella, type the name and phone, cash, tap 借出
    page.get_by_label("雨伞" if zh_translations else "Umbrella").check()
    page.get_by_label("借用人姓名" if zh_translations else "Borrower's name").fill("王阿姨")
    page.get_by_label("电话号码" if zh_translations else "Phone number", exact=True).fill("138 1234 5678")
    page.get_by_label("现金" if zh_translations else "Cash").check()
    with page.expect_navigation():
        page.get_by_role("button", name="借出" if zh_translations else "Lend", exact=True).click()
    success = page.locator(".messagelist .success").inner_text()
    loan = AmenityLoan.objects.get()
    payment = Payment.objects.get(amenity_loan=loan)
    assert payment.receipt_no in success
    if zh_translations:
        assert "押金 20.00 元" in success
    assert page.locator("#out-count").inner_text() == "1"
    row = page.locator(f"#loan-{loan.pk}")
    assert "王阿姨" in row.inner_text() and "5678" in row.inner_text()
    stock = page.locator("#stock-umbrella").inner_text()
    assert stock == ("在架 5 · 借出 1" if zh_translations else "5 on hand · 1 out")
    assert_accessible(page)
    page.screenshot(path=str(DOCS_IMG / "outreach-amenities-desk.png"), full_page=False)

    # the umbrella comes back: tap 归还 on its row
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^归还" if zh_translations else "^Return")).click()
    message = page.locator(".messagelist .success").inner_text()
    if zh_translations:
        assert "请退还押金 20.00 元" in message
    assert page.locator("#nothing-out").count() == 1

    loan.refresh_from_db()
    assert (loan.status, loan.returned_at_center, loan.closed_by, loan.lent_by) == ("returned", center, worker, worker)
    assert (loan.borrower_name, loan.borrower_phone, loan.deposit, loan.payment_method) == (
        "王阿姨",
        "+8613812345678",
        Decimal("20.00"),
        "cash",
    )
    payment.refresh_from_db()
    assert (payment.method, payment.amount, payment.refunded, payment.status) == (
        "cash",
        Decimal("20.00"),
        Decimal("20.00"),
        "succeeded",
    )
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status) == (payment, Decimal("20.00"), "succeeded")
    kinds = sorted(LedgerEntry.objects.filter(amenity_loan=loan).values_list("kind", "amount"))
    assert kinds == sorted(
        [
            (EntryKind.DUE, Decimal("20.00")),
            (EntryKind.PAID, Decimal("20.00")),
            (EntryKind.REFUNDED, Decimal("20.00")),
            (EntryKind.WAIVED, Decimal("20.00")),
        ]
    )
    balance = subject_balance(amenity_loan_id=loan.pk)
    assert (balance.amount_due, balance.amount_paid) == (0, 0)  # balanced: nothing owed, nothing kept
    umbrellas.refresh_from_db()
    assert umbrellas.on_hand == 6
