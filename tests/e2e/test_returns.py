"""三包 and courier journeys in a real browser (issue #23), zh-Hans by default:

* a day-5 performance fault: the engineer records the inspection, the desk exchanges the phone with the new
  IMEI registered (staff at 1366 px); the database holds the decision, the replacement and the ticket's move;
* a mail-in repair shipped back from the workspace (the sandbox courier books it): the customer sees the
  waybill number on the tracking page at 360 px;
* the desk logs a progress call from its call list; the timeline has it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from logistics.models import ProgressCall, Shipment
from repairs.models import RepairTicket, TicketEvent
from returns.models import ReturnDecision
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import make_ticket
from tests.factories.repairs import staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, make_imei
from warranty.models import Device

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()


def doc_shot(page, name: str) -> None:
    page.screenshot(path=str(DOCS_IMG / f"returns-{name}.png"), full_page=False)


def submit(page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def test_day_5_performance_fault_exchanged_at_the_desk(staff_page, zh_translations):  # noqa: F811
    center = ServiceCenterFactory(code="SC-3B", name="上海南京东路服务中心")
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P70", name="Phone 70")
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=5))
    desk, eng = staff(center, "front_desk", username="desk3b"), staff(center, "engineer", certified=True)
    ticket = walk_in(center, actor_for_user(desk), device=device, fault="other", name="王小明")
    new_imei = make_imei()

    # the engineer confirms a performance fault
    page = staff_page(eng)
    page.goto(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    box = page.locator("#returns-box")
    if zh_translations:
        assert "三包" in box.locator("h2").inner_text()
    page.locator("#finding-fault").check()
    page.locator("#returns-findings").fill("自动重启，外观无损，无进液")
    submit(page, "#returns-inspect")
    assert page.locator("#returns-inspection").count() == 1
    assert page.locator("#returns-decide").count() == 0  # the engineer does not decide

    # the desk exchanges it, scanning the new phone's IMEI
    page = staff_page(desk)
    page.goto(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    assert page.locator("#kind-exchange").is_enabled() and page.locator("#kind-return").is_enabled()
    assert_accessible(page)
    page.locator("#kind-exchange").check()
    page.locator("#returns-reason").fill("顾客要求换新机")
    page.locator("#returns-imei").fill(new_imei)
    doc_shot(page, "decision-form")
    submit(page, "#returns-decide")
    assert page.locator("#returns-decision .decision-imei").inner_text() == new_imei
    assert "5" in page.locator("#returns-decision .decision-rule").inner_text()
    doc_shot(page, "decision-done")

    decision = ReturnDecision.objects.get(ticket=ticket)
    assert (decision.kind, decision.day, decision.window_days) == ("exchange", 5, 15)
    replacement = Device.objects.get(imei=new_imei)
    assert decision.replacement_id == replacement.pk and replacement.model_id == model.pk
    assert timezone.now() - replacement.sold_at < dt.timedelta(minutes=5)  # 三包 restarts today
    assert RepairTicket.objects.get(pk=ticket.pk).status == "ready"
    assert TicketEvent.objects.filter(ticket=ticket, action="exchange", actor__username="desk3b").exists()


@pytest.fixture
def mail_in_ready(db):
    hub = ServiceCenterFactory(code="HUB-E2E", kind="mail_in_hub", name="广东寄修中心", address="广州市天河区")
    desk = staff(hub, "front_desk", username="hubdesk")
    ticket = make_ticket(center=hub, status="ready", channel="mail_in", phone="+8613812345678")
    Shipment.objects.create(
        ticket=ticket,
        leg="customer_to_hub",
        courier="sf_express",
        tracking_no="SF0000000001",
        address="上海市黄浦区南京东路 1 号",
        status="delivered",
        delivered_at=timezone.now(),
    )
    return hub, desk, ticket


def test_mail_in_shipped_back_and_the_customer_sees_the_waybill_at_360(
    staff_page,  # noqa: F811
    browser,
    live_server,
    mail_in_ready,
):
    _hub, desk, ticket = mail_in_ready
    page = staff_page(desk)
    page.goto(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    form = page.locator("#action-ship_back")
    assert form.locator("#ship-back-tracking").is_hidden()  # the manual fallback stays folded away
    submit(page, "#action-ship_back")
    shipment = Shipment.objects.get(ticket=ticket, leg="hub_to_customer")
    assert shipment.tracking_no.startswith("SBX") and shipment.address == "上海市黄浦区南京东路 1 号"
    assert RepairTicket.objects.get(pk=ticket.pk).status == "returning"
    assert shipment.tracking_no in page.locator("ul.messagelist").inner_text()

    context = browser.new_context(viewport={"width": 360, "height": 780}, base_url=live_server.url, locale="zh-CN")
    customer = context.new_page()
    customer.goto(f"/track/{ticket.service_no}/?phone_last4=5678")
    leg = customer.locator("#leg-hub_to_customer")
    assert leg.locator(".leg-tracking").inner_text() == shipment.tracking_no
    assert customer.locator("#leg-customer_to_hub .leg-tracking").inner_text() == "SF0000000001"
    assert customer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(customer)
    customer.screenshot(path=str(DOCS_IMG / "returns-tracking-waybill.png"), full_page=False)
    context.close()


def test_desk_logs_a_progress_call_from_the_call_list(staff_page, mail_in_ready):  # noqa: F811
    hub, desk, _ready = mail_in_ready
    ticket = make_ticket(center=hub, status="received", channel="mail_in", phone="+8613912345678")
    page = staff_page(desk)
    page.goto("/admin/logistics/progresscall/")
    row = page.locator(f"tr[data-service-no='{ticket.service_no}']")
    assert row.locator("a.phone").get_attribute("href") == "tel:+8613912345678"
    assert_accessible(page)
    doc_shot(page, "call-list")
    row.locator("input[name=note]").fill("已告知设备已到寄修中心")
    with page.expect_navigation():
        row.locator("button[value=reached]").click()
    assert page.locator(f"tr[data-service-no='{ticket.service_no}']").count() == 0
    call = ProgressCall.objects.get(ticket=ticket)
    assert (call.stage, call.outcome, call.user_id) == ("received", "reached", desk.pk)
    event = TicketEvent.objects.get(ticket=ticket, action="progress_call")
    assert "已告知设备已到寄修中心" in event.note
    assert re.search(r"/admin/logistics/progresscall/$", page.url)
