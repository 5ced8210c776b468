"""Money after the repair in a real browser (issue #19 part 2): the customer asks for a fapiao on the
tracking page at 360 px in zh-Hans; the desk closes the day with one difference and its reason at 1366 px;
HQ opens the revenue dashboard. Each journey then checks the database."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.utils import timezone, translation

from accounting.models import DailyClose, FapiaoRequest
from centers.models import StaffMembership
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.payments import pay, refund
from tests.factories.repairs import staff, walk_in
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import StatutoryPolicyFactory

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()
VALID_USCC = "91110000600037341L"


def doc_shot(page, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=str(DOCS_IMG / f"close-{name}.png"), full_page=full_page)


@pytest.fixture
def shop(db):
    center = ServiceCenterFactory(code="SC-E2E", name="上海南京东路服务中心")
    StatutoryPolicyFactory(category="phone")
    desk = staff(center, "front_desk", username="desk")
    ticket = walk_in(center, actor_for_user(desk), phone="13812345678", name="王小明")
    return {"center": center, "desk": desk, "ticket": ticket}


@pytest.fixture
def phone_page(browser, live_server, zh_translations):
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, device_scale_factor=1, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_customer_requests_a_company_fapiao_on_the_tracking_page_at_360px(phone_page, shop, zh_translations):
    ticket = shop["ticket"]
    pay(ticket, "659.00", "wechat_pay")
    page = phone_page
    page.goto("/track/")
    page.locator("#id_service_no").fill(ticket.service_no)
    page.locator("#id_phone_last4").fill("5678")
    page.locator("form.track-form button[type=submit]").click()
    page.wait_for_url(re.compile(f"/track/{ticket.service_no}/"))

    page.locator("#fapiao-page-link").click()
    page.locator("#fapiao-form").wait_for()
    if zh_translations:
        assert page.locator("h1").inner_text() == "电子发票"
    assert "659.00" in page.locator("#content, main, body").first.inner_text()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling

    # a company with a mistyped tax number: clear words, nothing written
    page.locator("input[name=buyer_type][value=company]").check()
    page.locator("#id_title").fill("上海某某科技有限公司")
    page.locator("#id_tax_number").fill("91110000600037341X")
    page.locator("#fapiao-form button[type=submit]").click()
    page.locator("#form-errors").wait_for()
    if zh_translations:
        assert "统一社会信用代码" in page.locator("#form-errors").inner_text()
    assert not FapiaoRequest.objects.exists()
    doc_shot(page, "fapiao-error", full_page=True)

    page.locator("#id_tax_number").fill(VALID_USCC.lower())
    page.locator("#id_email").fill("ap@example.com")
    page.locator("#fapiao-form button[type=submit]").click()
    page.locator("#fapiao-number").wait_for()
    if zh_translations:
        assert "您的发票已开具" in page.locator("#fapiao-status").inner_text()
    doc_shot(page, "fapiao-issued", full_page=True)

    fapiao = FapiaoRequest.objects.get()
    assert (fapiao.status, fapiao.amount, fapiao.tax_number, fapiao.requested_via) == (
        "issued",
        Decimal("659.00"),
        VALID_USCC,
        "tracking",
    )
    assert page.locator("#fapiao-number").inner_text() == fapiao.invoice_number
    # the link (absolute, on PUBLIC_BASE_URL) opens the document
    href = page.locator("#fapiao-link").get_attribute("href")
    assert href == fapiao.pdf_url
    page.goto(urlsplit(href).path)
    assert fapiao.invoice_number in page.content() and "上海某某科技有限公司" in page.content()
    page.go_back()
    # back on the repair's page, the status shows beside the button
    page.get_by_role("link", name="返回维修详情" if zh_translations else "Back to the repair").click()
    page.locator("#fapiao-track-status").wait_for()
    if zh_translations:
        assert page.locator("#fapiao-track-status").inner_text() == "您的发票已开具"


def test_desk_closes_the_day_with_one_difference_and_its_reason(staff_page, shop, zh_translations):
    ticket, center = shop["ticket"], shop["center"]
    cash = pay(ticket, "300.00", "cash")
    refund(cash, "50.00")
    pay(ticket, "199.00", "card")
    pay(ticket, "129.00", "wechat_pay")
    page = staff_page(shop["desk"])
    page.goto("/admin/accounting/dailyclose/")
    page.locator("#close-form").wait_for()
    assert "¥250.00" in page.locator("#line-cash").inner_text()
    assert "¥199.00" in page.locator("#line-card").inner_text()
    assert_accessible(page)
    doc_shot(page, "daily-close")

    # counted 10 short, no reason yet: refused with words, nothing closed
    page.locator("#id_cash_counted").fill("240.00")
    with page.expect_navigation():
        page.locator("#close-button").click()
    page.locator("#close-error").wait_for()
    if zh_translations:
        assert "请先说明原因" in page.locator("#close-error").inner_text()
    assert "-10.00" in page.locator("#line-cash").inner_text()
    assert not DailyClose.objects.filter(status="closed").exists()

    page.locator("#id_reason_cash").fill("找零多给了 10 元")
    with page.expect_navigation():
        page.locator("#close-button").click()
    page.locator("#close-status").wait_for()
    if zh_translations:
        assert "已日结" in page.locator(".messagelist").inner_text()
    doc_shot(page, "daily-close-closed", full_page=True)

    close = DailyClose.objects.get(center=center, business_date=timezone.localdate())
    assert (close.status, close.closed_by) == ("closed", shop["desk"])
    line = close.lines.get(method="cash")
    assert (line.expected, line.actual, line.difference, line.reason) == (
        Decimal("250.00"),
        Decimal("240.00"),
        Decimal("-10.00"),
        "找零多给了 10 元",
    )
    assert close.history.get().action == "closed"
    assert page.locator("#close-button").count() == 0  # a closed day offers no second close


def test_hq_opens_the_revenue_dashboard_and_sees_the_centers_figures(staff_page, shop, zh_translations):
    ticket = shop["ticket"]
    pay(ticket, "300.00", "cash")
    pay(ticket, "129.00", "alipay")
    hq = StaffUserFactory(username="hq")
    hq.save()
    StaffMembership.objects.create(user=hq, center=None, role="hq")
    page = staff_page(hq)
    page.goto("/admin/")
    page.locator("a[href='/admin/accounting/revenuereport/']").first.click()
    page.locator("#revenue-centers").wait_for()
    row = page.locator("#center-SC-E2E").inner_text()
    assert "¥300.00" in row and "¥129.00" in row and "¥429.00" in row
    assert page.locator("#revenue-total").inner_text() == "¥429.00"
    assert page.locator("#fig-by-day svg").count() == 1
    assert_accessible(page)
    doc_shot(page, "revenue", full_page=True)


def _open_ticket_from_the_list(page, ticket):
    """The desk finds the repair by its service number in the tickets list and opens its workspace."""
    page.goto("/admin/repairs/repairticket/")
    page.locator("#searchbar").fill(ticket.service_no)
    with page.expect_navigation():
        page.locator("#searchbar").press("Enter")
    with page.expect_navigation():
        page.locator("#result_list").get_by_role("link", name=ticket.service_no).click()
    page.locator("#ticket-fapiao").wait_for()


def test_desk_requests_a_company_fapiao_from_the_ticket_workspace(staff_page, shop, zh_translations):
    ticket = shop["ticket"]
    cash = pay(ticket, "300.00", "cash")
    refund(cash, "50.00")
    page = staff_page(shop["desk"])
    _open_ticket_from_the_list(page, ticket)
    box = page.locator("#ticket-fapiao")
    if zh_translations:
        assert box.locator("h2").inner_text() == "发票"
        assert "扣除退款后的实付：¥250.00" in box.inner_text()
    else:
        assert "¥250.00" in box.inner_text()
    assert_accessible(page)

    # a company with a mistyped tax number: a readable error, nothing written
    form = page.locator("#fapiao-desk-form")
    form.locator("input[name=buyer_type][value=company]").check()
    form.locator("#fapiao-title-input").fill("上海某某科技有限公司")
    form.locator("#fapiao-tax").fill("91110000600037341X")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    errors = page.locator(".messagelist .error")
    errors.wait_for()
    if zh_translations:
        assert "统一社会信用代码" in errors.inner_text()
    else:
        assert "unified social credit code" in errors.inner_text()
    assert not FapiaoRequest.objects.exists()
    assert page.locator("#fapiao-desk-form").count() == 1  # the box still offers the form

    # the right code: requested, issued by the sandbox provider (the eager task), its status shown
    form = page.locator("#fapiao-desk-form")
    form.locator("input[name=buyer_type][value=company]").check()
    form.locator("#fapiao-title-input").fill("上海某某科技有限公司")
    form.locator("#fapiao-tax").fill(VALID_USCC)
    form.locator("#fapiao-email").fill("ap@example.com")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.locator("#fapiao-state").wait_for()

    fapiao = FapiaoRequest.objects.get(ticket=ticket)
    assert (fapiao.buyer_type, fapiao.title, fapiao.tax_number, fapiao.amount, fapiao.requested_via) == (
        "company",
        "上海某某科技有限公司",
        VALID_USCC,
        Decimal("250.00"),
        "desk",
    )
    assert fapiao.status == "issued" and fapiao.invoice_number
    state = page.locator("#fapiao-state").inner_text()
    with translation.override("zh-hans" if zh_translations else "en"):
        status_label = str(fapiao.get_status_display())
    assert state.startswith(status_label) and VALID_USCC in state and "¥250.00" in state
    if zh_translations:
        assert status_label == "已开具"
        assert "已申请发票。" in page.locator(".messagelist").inner_text()
    assert fapiao.invoice_number in box.inner_text()
    assert page.locator("#fapiao-desk-form").count() == 0  # one fapiao per repair: no second form
