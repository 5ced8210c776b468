"""Money at the counter in a real browser (issue #19): staff at 1366 px, zh-Hans.

An out-of-warranty repair paid by WeChat QR (sandbox: the scan simulated) and handed over; another
paid in cash with its receipt printed; a hand-over refused while money is due, then waived by a
manager. Each journey checks the database afterwards.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.choices import EntryKind
from payments.models import LedgerEntry, Payment
from repairs.models import RepairTicket

from . import test_staff_ticket as _staff
from .conftest import assert_accessible
from .test_staff_ticket import click_action, doc_shot, open_ticket, received

shop = _staff.shop  # the shop of test_staff_ticket (the staff login fixture is in conftest.py)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def repaired(shop) -> RepairTicket:
    from tests.factories.repairs import run

    a = shop["actors"]
    return run(
        received(shop),
        ("start_diagnosis", a["eng"]),
        ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}),
        ("approve", a["desk"]),
        ("start_repair", a["eng"]),
        ("finish", a["eng"]),
        ("qc_pass", a["eng2"]),
    )


def test_wechat_qr_paid_then_handed_over(staff_page, shop):
    ticket = repaired(shop)
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    assert desk.locator("#amount-due").inner_text() == "¥659.00"
    doc_shot(desk, "payments-box")
    with desk.expect_navigation():
        desk.locator("#pay-wechat-button").click()
    desk.locator("#payment-qr svg").wait_for()
    assert desk.locator("#qr-title").inner_text() == "微信支付：¥659.00"
    assert_accessible(desk)
    doc_shot(desk, "payments-qr")
    payment = Payment.objects.get(ticket_id=ticket.pk)
    assert (payment.status, payment.method, payment.amount) == ("pending", "wechat_pay", Decimal("659.00"))

    # the customer scans (sandbox: simulated); the page comes back to the ticket, paid
    with desk.expect_navigation():
        desk.locator("#simulate-scan").click()
    desk.locator("#ticket-actions").wait_for()
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.receipt_no
    assert desk.locator("#amount-due").inner_text() == "¥0.00"
    assert payment.receipt_no in desk.locator("#payments-list").inner_text()

    click_action(desk, "hand_over", "客户已验机")
    assert RepairTicket.objects.get(pk=ticket.pk).status == "delivered"


def test_cash_paid_and_the_receipt_printed(staff_page, shop):
    ticket = repaired(shop)
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    desk.locator("#cash-amount").fill("659.00")
    with desk.expect_navigation():
        desk.locator("#pay-cash-button").click()
    assert "659.00" in desk.locator(".messagelist").inner_text()
    payment = Payment.objects.get(ticket_id=ticket.pk)
    assert (payment.status, payment.method) == ("succeeded", "cash")
    assert LedgerEntry.objects.filter(payment=payment, kind=EntryKind.PAID).count() == 1

    with desk.expect_navigation():
        desk.locator("#payments-list .payment-receipt").click()
    assert desk.locator("#receipt-no").inner_text() == payment.receipt_no
    assert desk.locator("#receipt-total").inner_text() == "¥659.00"
    assert desk.locator("#qr svg").count() == 1
    doc_shot(desk, "payments-receipt")
    # the QR leads to the public check page: genuine, with the masked name only
    # Follow the link as printed (its token is signed with a timestamp: one made again a second later differs).
    from urllib.parse import urlsplit

    printed = urlsplit(desk.locator(".link").inner_text().strip())
    assert printed.path.startswith("/receipts/")
    desk.goto(printed.path)
    assert desk.locator("#receipt-genuine").count() == 1
    assert desk.locator("#receipt-amount").inner_text() == "¥659.00"
    assert "王小明" not in desk.content() and "王*明" in desk.content()


def test_hand_over_refused_while_due_then_a_manager_waives(staff_page, shop):
    ticket = repaired(shop)
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    assert desk.locator("#waive-form").count() == 0  # the desk cannot waive
    # while money is due the hand-over is not offered (the same guard refuses it: 409 payment_required)
    assert desk.locator("#action-hand_over").count() == 0
    assert desk.locator("#amount-due").inner_text() == "¥659.00"
    assert RepairTicket.objects.get(pk=ticket.pk).status == "ready"

    manager = staff_page(shop["users"]["manager"], "zh-hans")
    open_ticket(manager, ticket)
    manager.locator("#waive-reason").fill("屏幕保修期内返修")
    with manager.expect_navigation():
        manager.locator("#waive-button").click()
    assert manager.locator("#amount-due").inner_text() == "¥0.00"
    assert LedgerEntry.objects.filter(ticket_id=ticket.pk, kind=EntryKind.WAIVED).count() == 1
    click_action(manager, "hand_over")
    assert RepairTicket.objects.get(pk=ticket.pk).status == "delivered"


def test_loaner_deposit_taken_and_refunded_with_a_deduction_through_the_ledger(staff_page, shop):
    import re

    from loaners.models import Loan
    from payments.models import Refund
    from payments.selectors import subject_balance
    from tests.factories.loaners import DepositRuleFactory, LoanerFactory
    from tests.factories.repairs import run

    DepositRuleFactory(deposit=Decimal("2000.00"))
    LoanerFactory(home_center=shop["center"])
    ticket = run(received(shop), ("start_diagnosis", shop["actors"]["eng"]))
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    desk.locator("#lend-loaner").click()
    desk.wait_for_url(re.compile(r"/admin/loaners/loan/checkout/"))
    method = desk.locator("select[name=payment_method]")
    assert method.input_value() == ""  # nothing chosen for the desk: "waived" is not a default
    assert "免" not in method.locator("option").first.inner_text()
    desk.locator("#tier-flagship").check()
    method.select_option("cash")
    desk.locator("input[name=terms_accepted]").check()
    desk.locator("form [type=submit].default").click()
    desk.wait_for_url(re.compile(r"/admin/loaners/loan/\d+/change/"))
    loan = Loan.objects.get(ticket_id=ticket.pk)
    deposit = Payment.objects.get(loan=loan)
    assert (deposit.method, deposit.status, deposit.amount) == ("cash", "succeeded", Decimal("2000.00"))

    open_ticket(desk, ticket)
    desk.locator("#loan-return").click()
    desk.wait_for_url(re.compile(rf"/admin/loaners/loan/{loan.pk}/return/"))
    desk.locator("select[name=condition]").select_option("damaged")
    desk.locator("select[name=d-0-kind]").select_option("damage")
    desk.locator("input[name=d-0-reason]").fill("屏幕划痕")
    desk.locator("input[name=d-0-amount]").fill("150.00")
    desk.locator("input[name=preview]").click()
    desk.locator("#return-preview").wait_for()
    desk.locator("input[name=confirm]").click()
    desk.wait_for_url(re.compile(rf"/admin/loaners/loan/{loan.pk}/receipt/"))

    refund = Refund.objects.get(payment=deposit)
    assert (refund.amount, refund.status) == (Decimal("1850.00"), "succeeded")
    balance = subject_balance(loan_id=loan.pk)
    assert (balance.amount_due, balance.amount_paid) == (Decimal("0.00"), Decimal("150.00"))


def test_customer_pays_from_the_tracking_page_on_a_phone(browser, live_server, settings, shop, zh_translations):
    """A customer at 360 px: the tracking page's pay link, WeChat Pay, the sandbox's pay screen."""
    import re

    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}
    ticket = repaired(shop)
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, base_url=live_server.url, locale="zh-CN", device_scale_factor=1
    )
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        phone.goto(f"/track/{ticket.service_no}/?phone_last4=5678")
        assert "¥659.00" in phone.locator("#pay-box").inner_text()
        phone.locator("#pay-link").click()
        phone.wait_for_url(re.compile(r"/pay/"))
        assert_accessible(phone)
        with phone.expect_navigation():
            phone.locator("#pay-wechat").click()
        phone.locator("#customer-qr svg").wait_for()
        payment = Payment.objects.get(ticket_id=ticket.pk)
        assert (payment.status, payment.method) == ("pending", "wechat_pay")
        phone.locator("#open-payment").click()
        phone.wait_for_url(re.compile(r"/payments/sandbox/"))
        with phone.expect_navigation():
            phone.locator("#sandbox-confirm").click()
        assert phone.locator("#sandbox-paid").count() == 1
        payment.refresh_from_db()
        assert payment.status == "succeeded"
        phone.goto(f"/track/{ticket.service_no}/?phone_last4=5678")
        assert phone.locator("#pay-box").count() == 0  # paid: shown at once (the tracking cache version)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
