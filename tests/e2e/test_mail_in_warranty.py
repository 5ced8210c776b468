"""Mail-in, on-site and warranty -> prices -> booking, in a real browser, as the customer does them:
at 360 px in zh-Hans (and one journey at 1366 px in English); no horizontal overflow, axe-core clean,
and the outcome checked in the database."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from booking.models import MailInRequest, OnSiteRequest
from centers.choices import CenterKind
from logistics.models import Shipment
from logistics.services import shipment_create, shipment_event_record, shipment_tracking_assign
from notifications.models import Notification
from repairs.models import RepairTicket
from servicehub.actors import SYSTEM
from tests.factories.booking import next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.repairs import catalog
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, make_imei

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)


def _page(browser, live_server, *, width=360, height=780, language="zh-hans"):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=1,
        base_url=live_server.url,
        locale="zh-CN" if language == "zh-hans" else "en-US",
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context, context.new_page()


def assert_fits(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"horizontal overflow on {page.url}: {width}"


def doc_shot(page, name: str) -> None:
    """A small viewport-only screenshot for docs/web.md."""
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / f"web-{name}.png"), full_page=False)


def _submit(page):
    page.locator("main form button[type=submit]").last.click()


def test_mail_in_pickup_window_sms_courier_and_both_legs_zh_360(browser, live_server, zh_translations):
    assert zh_translations, "msgfmt is needed to see the Chinese pages"
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    ServiceCenterFactory(
        code="HUB-GD",
        name="广东寄修中心",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )
    DeviceModelFactory(code="PHN-1", name="Phone One")
    context, page = _page(browser, live_server)
    phone = next_phone()

    page.goto("/mail-in/")
    assert_fits(page)
    assert_accessible(page)
    page.locator("#id_pickup_address").fill("广东省深圳市南山区科技园路1号")
    assert page.locator("#id_pickup_date").input_value() == tomorrow().isoformat()
    page.locator("label:has(input[name=pickup_window][value=afternoon])").click()
    page.locator("#id_imei").fill(make_imei())
    page.locator("#id_model").select_option("PHN-1")
    page.locator("#id_fault_category").select_option("battery")
    page.locator("#id_issue").fill("电池不耐用")
    page.locator("#id_name").fill("张三")
    page.locator("#id_phone").fill(phone)
    _submit(page)

    page.wait_for_url(re.compile(r"/mail-in/\w+/done/\?phone_last4=\d{4}$"))
    req = MailInRequest.objects.get()
    assert page.locator("#service-no").inner_text() == req.ticket.service_no
    assert page.locator("#pickup-window").inner_text().endswith("13:00–17:00")
    assert page.locator("#courier").inner_text() == "顺丰速运"
    assert_fits(page)
    assert_accessible(page)
    doc_shot(page, "mail-in-done")
    page.reload()  # POST/redirect/GET: a refresh books nothing
    assert MailInRequest.objects.count() == 1 and RepairTicket.objects.count() == 1

    sms = Notification.objects.get(kind="pickup_scheduled", channel="sms")
    assert sms.language == "zh-hans" and sms.recipient.endswith(phone[-8:])
    assert f"{tomorrow():%Y-%m-%d} 13:00–17:00" in sms.body and "顺丰速运" in sms.body

    pickup = Shipment.objects.get(ticket=req.ticket, leg="customer_to_hub")
    shipment_tracking_assign(shipment_id=pickup.pk, tracking_no="SF1000000001", actor=SYSTEM)
    assert "SF1000000001" in Notification.objects.get(kind="courier_assigned", channel="sms").body
    now = timezone.now()
    shipment_event_record(shipment_id=pickup.pk, event="picked_up", at=now - dt.timedelta(hours=3), actor=SYSTEM)
    shipment_event_record(shipment_id=pickup.pk, event="delivered", at=now - dt.timedelta(hours=1), actor=SYSTEM)
    shipment_create(ticket=RepairTicket.objects.get(pk=req.ticket_id), leg="hub_to_customer", courier="SF Express")

    page.locator("main a.btn").click()
    page.wait_for_url(re.compile(r"/track/\w+/"))
    assert "SF1000000001" in page.locator("#leg-customer_to_hub").inner_text()
    assert page.locator("#leg-customer_to_hub .leg-status").inner_text() == "已签收"
    assert page.locator("#leg-hub_to_customer .leg-courier").inner_text() == "顺丰速运"
    assert page.locator("table.hours").count() == 0
    assert_fits(page)
    assert_accessible(page)
    doc_shot(page, "tracking-mail-in")
    context.close()


def test_on_site_smart_screen_with_serial_zh_360(browser, live_server, zh_translations):
    assert zh_translations
    province, city, county = region_chain()
    center = open_center(region=county, city=city, province=province, name="黄浦授权服务中心")
    DeviceModelFactory(code="TV-1", name="智慧屏 V5", category="smart_screen")
    context, page = _page(browser, live_server)

    page.goto("/on-site/")
    assert_fits(page)
    assert_accessible(page)
    page.locator("label:has(input[name=device_kind][value=smart_screen])").click()
    page.locator("#id_address").fill("上海市黄浦区南京东路100号")
    page.locator("label:has(input[name=window][value=morning])").click()
    page.locator("#id_serial").fill("TV-SN-20261201")
    page.locator("#id_model").select_option("TV-1")
    page.locator("#id_fault_category").select_option("screen")  # nothing is preselected
    page.locator("#id_issue").fill("没有画面")
    page.locator("#id_name").fill("李四")
    # Forgot the phone: every error at once, in words, and what was typed is kept.
    _submit(page)
    assert page.locator("#form-errors li").count() == 1
    assert page.locator("#id_serial").input_value() == "TV-SN-20261201"
    doc_shot(page, "on-site-errors")
    page.locator("#id_phone").fill(next_phone())
    _submit(page)

    page.wait_for_url(re.compile(r"/on-site/\w+/done/"))
    req = OnSiteRequest.objects.get()
    assert (req.center, req.ticket.device.serial, req.ticket.device.imei, req.window) == (
        center,
        "TV-SN-20261201",
        None,
        "morning",
    )
    assert req.ticket.channel == "on_site" and req.cannot_travel is False
    assert_fits(page)
    assert_accessible(page)
    doc_shot(page, "on-site-done")
    context.close()


def _out_of_warranty_device():
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="PHN-1", name="Phone One", tier="flagship")
    catalog(model)
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=800))


def test_warranty_to_prices_to_booking_zh_360(browser, live_server, zh_translations):
    assert zh_translations
    device = _out_of_warranty_device()
    open_center()
    context, page = _page(browser, live_server)

    page.goto("/warranty/")
    page.locator("#id_imei").fill(device.imei)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/warranty/\?imei="))
    assert page.locator("#verdict").inner_text() == "已过保修期"
    assert page.locator("#price-battery").count() == 1 and "¥129.00" in page.locator("#price-battery").inner_text()
    assert_fits(page)
    assert_accessible(page)
    doc_shot(page, "warranty")

    page.locator("#prices-link").click()
    page.wait_for_url(re.compile(r"/prices/PHN-1/$"))
    assert "¥659.00" in page.locator("#price-screen").inner_text()
    assert "¥869.70" in page.locator("#price-mainboard").inner_text()  # refurbished board + labor
    assert_fits(page)
    assert_accessible(page)
    doc_shot(page, "prices")

    page.locator("#book-link").click()
    page.wait_for_url(re.compile(r"/book/$"))
    assert RepairTicket.objects.count() == 0  # looking at prices books nothing
    context.close()


def test_warranty_unknown_purchase_date_and_prices_en_1366(browser, live_server):
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="PHN-1", name="Phone One", tier="flagship")
    catalog(model)
    device = DeviceFactory(model=model, sold_at=None)  # first registered by an online booking
    context, page = _page(browser, live_server, width=1366, height=900, language="en")

    page.goto("/warranty/")
    page.get_by_label("IMEI").fill(device.imei)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/warranty/\?imei="))
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("We do not know when this device was bought") and "proof of purchase" in verdict
    assert "Out of warranty" not in page.content()
    assert page.locator("#price-table").count() == 1
    assert_fits(page)
    assert_accessible(page)
    page.locator("#prices-link").click()
    page.wait_for_url(re.compile(r"/prices/PHN-1/$"))
    assert page.locator("h1").inner_text() == "Repair prices: Phone One"
    assert_fits(page)
    assert_accessible(page)
    context.close()
    device.refresh_from_db()
    assert device.sold_at is None  # checking writes nothing
