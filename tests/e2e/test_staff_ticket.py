"""The ticket workspace in a real browser: staff log in through /admin/login/ at 1366x900 and click
what they click at the counter and at the bench, in zh-Hans or English; every journey then checks the
database (status, the timeline row, who did it).

These are the journeys that answered 403 before issue #14: action forms nested in Django's change
form lost their own <form> tag, so the first button of each group submitted the change form.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from loaners.models import DepositEntry, Loan
from repairs.models import Quote, RepairTicket, TicketEvent
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import DepositRuleFactory, LoanerFactory
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)


def doc_shot(page, name: str) -> None:
    """A viewport-only screenshot for docs/repairs.md (small PNGs, committed)."""
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / f"counter-{name}.png"), full_page=False)


@pytest.fixture
def shop(db):
    """A center with a desk, two certified engineers and a manager; an out-of-warranty phone with a catalog."""
    center = ServiceCenterFactory(code="SC-E2E", name="上海南京东路服务中心")
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    users = {
        "desk": staff(center, "front_desk", username="desk"),
        "eng": staff(center, "engineer", certified=True, username="eng"),
        "eng2": staff(center, "engineer", certified=True, username="qc"),
        "manager": staff(center, "manager", username="manager"),
    }
    actors = {k: actor_for_user(u) for k, u in users.items()}
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))
    return {"center": center, "users": users, "actors": actors, "device": device, "model": model}


def received(shop, **kw) -> RepairTicket:
    return walk_in(
        shop["center"],
        shop["actors"]["desk"],
        device=shop["device"],
        phone="13812345678",
        name="王小明",
        accessories=["充电器", "手机壳"],
        **kw,
    )


def open_ticket(page, ticket):
    page.goto(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    page.locator("#ticket-actions").wait_for()


def click_action(page, code: str, note: str = ""):
    form = page.locator(f"#action-{code}")
    if note:
        form.locator("input[name=note]").fill(note)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def last_event(ticket) -> TicketEvent:
    return TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("-at", "-pk").first()


def test_engineer_diagnoses_quotes_with_preview_desk_records_approval_engineer_repairs(staff_page, shop):
    ticket = received(shop)
    eng = staff_page(shop["users"]["eng"], "zh-hans")
    open_ticket(eng, ticket)
    assert eng.locator("#ticket-status").inner_text() == "已收机，等待检测"
    assert "充电器、手机壳" in eng.locator("#ticket-device").inner_text()
    assert "王*明" in eng.locator("#ticket-customer").inner_text()  # the bench sees the customer masked
    assert_accessible(eng)

    # Start diagnosis: the first button of the page, which answered 403 before
    assert eng.locator("#action-start_diagnosis button").inner_text() == "开始检测"
    click_action(eng, "start_diagnosis", "屏幕碎裂")
    assert RepairTicket.objects.get(pk=ticket.pk).status == "diagnosing"
    event = last_event(ticket)
    assert (event.action, event.actor, event.note) == ("start_diagnosis", shop["users"]["eng"], "屏幕碎裂")
    assert "开始检测" in eng.locator("#ticket-timeline").inner_text()

    # the quote builder: choose lines, see the preview with each line's price, then send
    eng.locator("#repair-screen").check()
    eng.locator("#repair-mainboard").check()
    eng.locator("#refurb-mainboard").check()
    eng.locator("#quote-preview-button").click()
    eng.locator("#quote-preview").wait_for()
    assert eng.locator("#preview-total").inner_text() == "¥1528.70"
    assert "¥719.70" in eng.locator("#quote-preview").inner_text()
    assert Quote.objects.filter(ticket_id=ticket.pk).count() == 0  # a preview saves nothing
    doc_shot(eng, "quote-preview")
    with eng.expect_navigation():
        eng.locator("#quote-send-button").click()
    quote = Quote.objects.get(ticket_id=ticket.pk)
    assert (quote.total, quote.status) == (Decimal("1528.70"), "pending")
    assert RepairTicket.objects.get(pk=ticket.pk).status == "awaiting_approval"
    assert last_event(ticket).actor == shop["users"]["eng"]
    assert eng.locator("#ticket-status").inner_text() == "等待客户确认报价"

    # the customer says yes at the counter: the desk (in English) records it
    desk = staff_page(shop["users"]["desk"], "en")
    open_ticket(desk, ticket)
    assert desk.locator("#ticket-status").inner_text() == "Waiting for the customer's approval"
    assert "+8613812345678" in desk.locator("#ticket-customer").inner_text()
    doc_shot(desk, "workspace")
    click_action(desk, "approve", "customer said yes by phone")
    quote.refresh_from_db()
    assert (quote.status, quote.decided_by_label) == ("approved", "desk")
    event = last_event(ticket)
    assert (event.action, event.actor, event.to_status) == ("approve", shop["users"]["desk"], "repairing")
    assert "Done: Customer approved the quote." in desk.locator(".messagelist").inner_text()

    # the engineer takes the device and finishes the repair
    open_ticket(eng, ticket)
    click_action(eng, "start_repair")
    assert RepairTicket.objects.get(pk=ticket.pk).engineer == shop["users"]["eng"]
    click_action(eng, "finish", "换屏 + 特惠主板")
    ticket.refresh_from_db()
    assert ticket.status == "quality_check"
    event = last_event(ticket)
    assert (event.action, event.actor, event.note) == ("finish", shop["users"]["eng"], "换屏 + 特惠主板")


def test_quality_check_by_another_person_fails_once_then_passes_by_keyboard(staff_page, shop):
    a = shop["actors"]
    ticket = run(
        received(shop),
        ("start_diagnosis", a["eng"]),
        ("send_quote", a["eng"], {"lines": [{"repair": "battery"}]}),
        ("approve", a["desk"]),
        ("start_repair", a["eng"]),
        ("finish", a["eng"]),
    )
    # the repairing engineer is not offered QC at all
    eng = staff_page(shop["users"]["eng"], "en")
    open_ticket(eng, ticket)
    assert eng.locator("#action-qc_pass").count() == 0 and eng.locator("#action-qc_fail").count() == 0

    qc = staff_page(shop["users"]["eng2"], "en")
    open_ticket(qc, ticket)
    # keyboard only: type the note, Enter submits that action's own form
    qc.locator("#note-qc_fail").focus()
    qc.keyboard.type("battery cover gap")
    with qc.expect_navigation():
        qc.keyboard.press("Enter")
    ticket.refresh_from_db()
    assert ticket.status == "repairing"
    event = last_event(ticket)
    assert (event.action, event.actor, event.note) == ("qc_fail", shop["users"]["eng2"], "battery cover gap")
    assert "Quality check failed" in qc.locator("#ticket-timeline").inner_text()

    run(ticket, ("finish", a["eng"]))
    open_ticket(qc, ticket)
    qc.locator("#action-qc_pass button").focus()
    with qc.expect_navigation():
        qc.keyboard.press("Enter")
    ticket.refresh_from_db()
    assert ticket.status == "ready"
    event = last_event(ticket)
    assert (event.action, event.actor) == ("qc_pass", shop["users"]["eng2"])
    assert qc.locator("#ticket-status").inner_text() == "Ready for the customer to collect"


def test_desk_hands_over_and_closes(staff_page, shop):
    a = shop["actors"]
    ticket = run(
        received(shop),
        ("start_diagnosis", a["eng"]),
        ("send_quote", a["eng"], {"lines": [{"repair": "battery"}]}),
        ("approve", a["desk"]),
        ("start_repair", a["eng"]),
        ("finish", a["eng"]),
        ("qc_pass", a["eng2"]),
        ("pay", a["desk"]),  # paid at the counter (tests/e2e/test_payments.py clicks that)
    )
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    assert desk.locator("#action-hand_over button").inner_text() == "交机给客户"
    click_action(desk, "hand_over", "客户已验机")
    ticket.refresh_from_db()
    assert ticket.status == "delivered"
    assert (last_event(ticket).action, last_event(ticket).actor) == ("hand_over", shop["users"]["desk"])

    assert desk.locator("#ticket-status").inner_text() == "已交还客户"
    click_action(desk, "close")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    event = last_event(ticket)
    assert (event.action, event.actor, event.from_status) == ("close", shop["users"]["desk"], "delivered")
    assert desk.locator("#ticket-actions").inner_text().strip().endswith("此环节没有需要您处理的操作。")


def test_cancel_asks_first_a_dismissed_confirmation_changes_nothing(staff_page, shop):
    ticket = received(shop)
    desk = staff_page(shop["users"]["desk"], "en")
    open_ticket(desk, ticket)

    # the first click only asks
    click_action(desk, "cancel", "customer wants it back")
    desk.locator("#confirm-yes").wait_for()
    assert "cannot be undone" in desk.locator("#confirm-text").inner_text()
    assert_accessible(desk)
    doc_shot(desk, "confirm-cancel")
    # "No" has the focus: Enter dismisses, back on the ticket, nothing changed
    desk.keyboard.press("Enter")
    desk.wait_for_url(re.compile(rf"/admin/repairs/repairticket/{ticket.pk}/change/$"))
    ticket.refresh_from_db()
    assert ticket.status == "received"
    assert TicketEvent.objects.filter(ticket_id=ticket.pk, action="cancel").count() == 0

    # asked again and confirmed: cancelled, by the desk, with the note
    click_action(desk, "cancel", "customer wants it back")
    desk.locator("#confirm-yes").click()
    desk.wait_for_url(re.compile(rf"/admin/repairs/repairticket/{ticket.pk}/change/$"))
    ticket.refresh_from_db()
    assert ticket.status == "cancelled"
    event = TicketEvent.objects.get(ticket_id=ticket.pk, action="cancel")
    assert (event.actor, event.note, event.from_status) == (shop["users"]["desk"], "customer wants it back", "received")
    assert desk.locator("#ticket-status").inner_text() == "Cancelled"


def test_loaner_checkout_and_return_with_a_deduction_from_the_ticket_page(staff_page, shop):
    DepositRuleFactory(deposit=Decimal("2000.00"))
    LoanerFactory(home_center=shop["center"])
    ticket = run(received(shop), ("start_diagnosis", shop["actors"]["eng"]))
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)

    desk.locator("#lend-loaner").click()
    desk.wait_for_url(re.compile(r"/admin/loaners/loan/checkout/"))
    desk.locator("#tier-flagship").check()
    desk.locator("select[name=payment_method]").select_option("cash")
    desk.locator("input[name=terms_accepted]").check()
    desk.locator("form [type=submit].default").click()
    desk.wait_for_url(re.compile(r"/admin/loaners/loan/\d+/change/"))
    loan = Loan.objects.get(ticket_id=ticket.pk)
    assert (loan.status, loan.deposit, loan.lent_by) == ("out", Decimal("2000.00"), shop["users"]["desk"])

    open_ticket(desk, ticket)
    assert "2000.00" in desk.locator("#ticket-loan").inner_text()
    desk.locator("#loan-return").click()
    desk.wait_for_url(re.compile(rf"/admin/loaners/loan/{loan.pk}/return/"))
    desk.locator("select[name=condition]").select_option("damaged")
    desk.locator("select[name=d-0-kind]").select_option("damage")
    desk.locator("input[name=d-0-reason]").fill("屏幕划痕")
    desk.locator("input[name=d-0-amount]").fill("150.00")
    desk.locator("input[name=preview]").click()
    desk.locator("#return-preview").wait_for()
    assert desk.locator("#preview-refund").inner_text() == "1850.00"
    desk.locator("input[name=confirm]").click()
    desk.wait_for_url(re.compile(rf"/admin/loaners/loan/{loan.pk}/receipt/"))

    loan.refresh_from_db()
    assert (loan.status, loan.deducted, loan.refunded, loan.returned_by) == (
        "returned",
        Decimal("150.00"),
        Decimal("1850.00"),
        shop["users"]["desk"],
    )
    deduction = DepositEntry.objects.get(loan=loan, kind="deduction")
    assert (deduction.amount, deduction.reason) == (Decimal("150.00"), "屏幕划痕")
    with desk.expect_navigation():
        desk.locator("#back-to-ticket").click()  # the receipt leads back to the ticket
    assert desk.url.endswith(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    assert desk.locator("#lend-loaner").count() == 1 and desk.locator("#loan-return").count() == 0


def test_manager_opens_the_dashboards_and_cash_report_from_the_ticket(staff_page, shop):
    ticket = received(shop)
    manager = staff_page(shop["users"]["manager"], "en")
    open_ticket(manager, ticket)
    with manager.expect_navigation() as nav:
        manager.locator("#dashboard-link").click()
    assert nav.value.status == 200
    assert manager.url.endswith(f"/admin/ops/dashboard/?center={shop['center'].code}")
    assert "Front desk dashboard" in manager.locator("#content").inner_text()

    open_ticket(manager, ticket)
    with manager.expect_navigation() as nav:
        manager.locator("#hq-dashboard-link").click()
    assert nav.value.status == 200
    assert "HQ dashboard" in manager.locator("#content").inner_text()

    open_ticket(manager, ticket)
    with manager.expect_navigation() as nav:
        manager.locator("#cash-report").click()
    assert nav.value.status == 200
    assert manager.url.endswith(f"/admin/loaners/loan/cash-report/?center={shop['center'].code}")
    # opening pages changed nothing on the ticket
    assert RepairTicket.objects.get(pk=ticket.pk).status == "received"
    assert TicketEvent.objects.filter(ticket_id=ticket.pk).count() == 2  # book, check_in


def test_front_desk_opening_an_hq_page_gets_a_readable_page(staff_page, shop):
    ticket = received(shop)
    desk = staff_page(shop["users"]["desk"], "zh-hans")
    open_ticket(desk, ticket)
    assert desk.locator("#hq-dashboard-link").count() == 0  # not offered to the desk
    response = desk.goto("/admin/ops/hq/")
    assert response.status == 403
    text = desk.locator("#content").inner_text()
    assert "此页面不对您的岗位开放" in text and "desk" in text
    assert "Traceback" not in desk.content() and "403 Forbidden" not in desk.content()
    assert "ServiceHub 员工站" in desk.locator("#site-name").inner_text()
    assert_accessible(desk)
    doc_shot(desk, "not-for-your-role")
    desk.locator("#go-home").click()
    desk.wait_for_url(re.compile(r"/admin/$"))
    assert RepairTicket.objects.get(pk=ticket.pk).status == "received"
