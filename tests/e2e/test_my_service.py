"""“My service” in the browser at 360 px, in zh-Hans: sign in with the SMS code, see the repairs,
open one, approve its quote; and approving from a digits lookup with a code (docs/security.md)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from repairs.models import Quote, RepairTicket
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory
from tests.sms import SENT_SMS, MemorySMSBackend  # noqa: F401 (dotted path below)

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "tests.sms.MemorySMSBackend"
    SENT_SMS.clear()
    yield SENT_SMS
    SENT_SMS.clear()


@pytest.fixture
def phone_page(browser, live_server):
    """A 360 px wide phone in Chinese (the customer's default)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, device_scale_factor=1, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _quoted_repair(phone="13812345678"):
    from servicehub.actors import actor_for_user

    center = ServiceCenterFactory(opened_on=dt.date(2020, 1, 1), name="上海南京东路授权服务中心")
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))
    desk = actor_for_user(staff(center, "front_desk"))
    eng = actor_for_user(staff(center, "engineer", certified=True))
    ticket = walk_in(center, desk, device=device, phone=phone, name="王小明")
    return run(ticket, ("start_diagnosis", eng), ("send_quote", eng, {"lines": [{"repair": "screen"}]}))


def _last_code(sms, phone="+8613812345678") -> str:
    texts = [m["text"] for m in sms if m["to"] == phone]
    assert texts
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def _viewport_shot(page, name):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / f"security-{name}.png"))


def _no_horizontal_scroll(page):
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide


def _fits(page, selector):
    """The part this work added fits the 360 px screen. (The quote table itself is wider at
    360 px -- a layout matter of the tracking page left to the customer-pages work.)"""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box


def test_my_service_sign_in_see_repairs_and_approve_at_360px_in_chinese(phone_page, sms, zh_translations):
    # given a repair waiting for the customer's OK, and another past one
    ticket = _quoted_repair()
    page = phone_page

    # when the customer signs in to "my service" with the code from the text message
    page.goto("/me/")
    assert "我的服务" in page.locator("h1").inner_text()
    assert_accessible(page)
    page.locator("#id_phone").fill("138 1234 5678")
    page.locator("form.me-sign-in button[type=submit]").click()
    page.locator("#id_code").wait_for()
    assert "验证码" in page.locator("main").inner_text()
    _viewport_shot(page, "me-code")
    page.locator("#id_code").fill(_last_code(sms))
    page.locator("form.me-sign-in button[type=submit]").click()
    page.wait_for_url(re.compile(r"/me/$"))

    # then they see their repair without knowing its number, on a 360 px screen
    main = page.locator("main").inner_text()
    assert "进行中的维修" in main and ticket.service_no in main
    assert "有一份报价等待您确认。" in main
    _no_horizontal_scroll(page)
    assert_accessible(page)
    _viewport_shot(page, "me-home")

    # and open it and approve the quote as the signed-in customer
    page.get_by_role("link", name=ticket.service_no).click()
    page.wait_for_url(re.compile(f"/track/{ticket.service_no}/"))
    assert page.locator("table.quote").count() == 1
    _fits(page, "form.decision")
    page.locator("button[name=decision][value=approve]").click()
    page.locator("[role=status]").first.wait_for()
    assert RepairTicket.objects.get(pk=ticket.pk).status == "repairing"
    quote = Quote.objects.get(ticket=ticket)
    assert quote.status == "approved" and quote.decided_by_label == "customer"

    # and sign out: the page asks for the phone again
    page.goto("/me/")
    page.locator("form[action='/me/logout/'] button").click()
    page.locator("#id_phone").wait_for()


def test_approve_from_a_digits_lookup_with_the_sms_code_at_360px_in_chinese(phone_page, sms, zh_translations):
    ticket = _quoted_repair()
    page = phone_page
    page.goto("/track/")
    page.locator("#id_service_no").fill(ticket.service_no)
    page.locator("#id_phone_last4").fill("5678")
    page.locator("form.track-form button[type=submit]").click()
    page.wait_for_url(re.compile(f"/track/{ticket.service_no}/"))
    # The lookup shows the quote but offers no approval without a code.
    assert page.locator("table.quote").count() == 1
    assert page.locator("button[name=decision]").count() == 0
    page.get_by_role("button", name="获取验证码").click()
    page.locator("#id_code").wait_for()
    assert_accessible(page)
    _fits(page, "#quote-code")
    page.locator("#quote-code").scroll_into_view_if_needed()
    _viewport_shot(page, "track-code")
    page.locator("#id_code").fill(_last_code(sms))
    page.locator("button[name=decision][value=approve]").click()
    page.locator("[role=status]").first.wait_for()
    assert RepairTicket.objects.get(pk=ticket.pk).status == "repairing"
    assert Quote.objects.get(ticket=ticket).status == "approved"


def test_my_service_pay_link_pays_what_is_due_by_wechat_pay_at_360px(
    browser, live_server, settings, sms, zh_translations
):
    """Signed in to "my service" on a 360x740 phone: the repair's amount due, its pay link, the sandbox's
    WeChat Pay screen; back on /me/ nothing is due any more."""
    from decimal import Decimal

    from payments.models import Payment
    from payments.selectors import ticket_money
    from servicehub.actors import actor_for_user

    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}  # the QR's absolute link
    ticket = _quoted_repair()
    run(ticket, ("approve", actor_for_user(staff(ticket.center, "front_desk"))))
    due = ticket_money(ticket).amount_due
    assert due > 0 and Quote.objects.get(ticket=ticket).status == "approved"
    shown = f"¥{due:.2f}"

    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=1, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/me/")
        page.locator("#id_phone").fill("13812345678")
        page.locator("form.me-sign-in button[type=submit]").click()
        page.locator("#id_code").fill(_last_code(sms))
        page.locator("form.me-sign-in button[type=submit]").click()
        page.wait_for_url(re.compile(r"/me/$"))

        # the repair in progress shows what is due, as a pay link
        pay_link = page.locator(f"#me-pay-{ticket.service_no}")
        assert shown in pay_link.inner_text()
        if zh_translations:
            assert pay_link.inner_text().strip() == f"支付 {shown}"
        _no_horizontal_scroll(page)
        _fits(page, f"#me-pay-{ticket.service_no}")
        pay_link.click()
        page.wait_for_url(re.compile(r"/pay/"))
        assert shown in page.locator("#pay-due").inner_text()
        assert_accessible(page)

        # WeChat Pay: the QR, then the sandbox's stand-in for the WeChat screen
        with page.expect_navigation():
            page.locator("#pay-wechat").click()
        page.locator("#customer-qr svg").wait_for()
        payment = Payment.objects.get(ticket_id=ticket.pk)
        assert (payment.status, payment.method, payment.amount) == ("pending", "wechat_pay", due)
        page.locator("#open-payment").click()
        page.wait_for_url(re.compile(r"/payments/sandbox/"))
        assert page.locator("#sandbox-amount").inner_text() == shown
        with page.expect_navigation():
            page.locator("#sandbox-confirm").click()
        page.locator("#sandbox-paid").wait_for()

        payment.refresh_from_db()
        assert payment.status == "succeeded" and payment.receipt_no
        assert Payment.objects.filter(ticket_id=ticket.pk, status="succeeded").count() == 1
        assert ticket_money(ticket).amount_due == Decimal("0.00")

        # back from the pay screen to the pay page (nothing due now), and on to the repair
        with page.expect_navigation():
            page.locator("#sandbox-back").click()
        page.locator("#pay-nothing").wait_for()
        with page.expect_navigation():
            page.locator("#pay-track").click()
        assert ticket.service_no in page.locator("main").inner_text()  # signed in: opens without the digits
        assert page.locator("#pay-box").count() == 0
        # back in "my service": still in progress, nothing due, no pay link
        page.goto("/me/")
        in_progress = page.locator("section[aria-labelledby=me-repairs]").inner_text()
        assert ticket.service_no in in_progress  # the repair goes on (repairing), only the money is settled
        assert page.locator(f"#me-pay-{ticket.service_no}").count() == 0
        assert shown not in page.locator("main").inner_text()
        _no_horizontal_scroll(page)
    finally:
        context.close()
