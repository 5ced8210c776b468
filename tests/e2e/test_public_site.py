"""The public site in a real browser at phone size: book, slot full, mail-in, warranty & plan,
track & approve a quote, language switch; axe-core on every public page."""

import datetime as dt
import re

import pytest

from booking import services as booking_services
from booking.models import Appointment, MailInRequest
from centers.choices import CenterKind
from payments.models import Payment
from tests.factories.booking import SlotRuleFactory, booking_input, local, next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, make_imei, screen_care

from .conftest import assert_accessible, set_english, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_contact_device(page, *, phone, imei, model_code="PHN-1"):
    page.get_by_label("IMEI", exact=True).fill(imei)
    page.get_by_label("Device model").select_option(model_code)
    page.get_by_label("What is wrong?").select_option("screen")
    page.get_by_label("Describe the problem").fill("The screen is cracked")
    page.get_by_label("Your name").fill("Wang Xiaoming")
    page.get_by_label("Mobile phone").fill(phone)


def test_book_a_slot_end_to_end(page, live_server):
    center = open_center(name="Huangpu Service Center")
    DeviceModelFactory(code="PHN-1", name="Phone One")
    set_english(page, live_server)
    day = tomorrow()

    page.goto(f"/book/?center={center.code}&date={day.isoformat()}")
    assert_accessible(page)
    shot(page, "book-form")
    page.get_by_label("10:00–10:30").check()
    phone = next_phone()
    _fill_contact_device(page, phone=phone, imei=make_imei())
    page.get_by_label("I need the sign-language video service").check()
    page.get_by_role("button", name="Book this time").click()

    page.wait_for_url(re.compile(r"/book/.+/done/"))
    assert page.locator("h1").inner_text() == "You are booked"
    appointment = Appointment.objects.get()
    assert page.locator("#service-no").inner_text() == appointment.ticket.service_no
    assert appointment.start == local(day, 10) and appointment.needs == {"sign_language": True}
    assert page.locator(".qr svg").count() == 1
    assert_accessible(page)
    shot(page, "book-confirmation")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    ics = open(download_info.value.path(), encoding="utf-8").read()
    assert "BEGIN:VEVENT" in ics and appointment.ticket.service_no in ics


def test_day_switch_with_htmx_keeps_the_form(page, live_server):
    center = open_center()
    DeviceModelFactory(code="PHN-1")
    set_english(page, live_server)
    page.goto(f"/book/?center={center.code}")
    page.get_by_label("Your name").fill("Typed before switching")
    second_day = tomorrow() + dt.timedelta(days=1)
    page.locator(f'.days a[href*="date={second_day.isoformat()}"]').click()
    page.wait_for_url(re.compile(f"date={second_day.isoformat()}"))
    # htmx swapped only the slot picker: what was typed is still there.
    assert page.get_by_label("Your name").input_value() == "Typed before switching"
    assert page.locator(f'input[name=start][value="{local(second_day, 9).isoformat()}"]').count() == 1


def test_slot_full_offers_nearest_free_slots(page, live_server):
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    DeviceModelFactory(code="PHN-1")
    set_english(page, live_server)

    page.goto(f"/book/?center={center.code}&date={day.isoformat()}")
    page.get_by_label("10:00–10:30").check()
    _fill_contact_device(page, phone=next_phone(), imei=make_imei())
    # Someone else takes the last seat while this customer is typing.
    booking_services.appointment_book(center=center, start=local(day, 10), **booking_input())
    page.get_by_role("button", name="Book this time").click()

    alternatives = page.locator("#alternatives")
    alternatives.wait_for()
    assert "fully booked" in alternatives.inner_text()
    assert page.get_by_label("Your name").input_value() == "Wang Xiaoming"
    assert_accessible(page)
    shot(page, "book-slot-full")
    alternatives.locator("input[type=radio]").first.check()
    page.get_by_role("button", name="Book this time").click()
    page.wait_for_url(re.compile(r"/book/.+/done/"))
    assert Appointment.objects.count() == 2
    assert Appointment.objects.exclude(start=local(day, 10)).get().start == local(day, 9, 30)


def test_mail_in_request(page, live_server):
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    hub = ServiceCenterFactory(
        code="HUB-GD",
        name="Shenzhen Mail-in Hub",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )
    DeviceModelFactory(code="PHN-1")
    set_english(page, live_server)
    page.goto("/mail-in/")
    assert_accessible(page)
    page.get_by_label("Pickup address").fill("广东省深圳市南山区科技园路1号")
    _fill_contact_device(page, phone=next_phone(), imei=make_imei())
    page.get_by_role("button", name="Request pickup").click()
    page.locator("#service-no").wait_for()
    req = MailInRequest.objects.get()
    assert page.locator("#service-no").inner_text() == req.ticket.service_no
    assert page.locator("#hub").inner_text() == hub.name
    assert req.ticket.shipments.get().leg == "customer_to_hub"
    assert_accessible(page)
    shot(page, "mail-in-done")


def test_mail_in_bad_address_message_next_to_field(page, live_server):
    set_english(page, live_server)
    DeviceModelFactory(code="PHN-1")
    page.goto("/mail-in/")
    page.get_by_label("Pickup address").fill("somewhere")
    _fill_contact_device(page, phone=next_phone(), imei=make_imei())
    page.get_by_role("button", name="Request pickup").click()
    field = page.locator(".field.has-error").first
    field.wait_for()
    assert "province" in field.inner_text()
    assert page.get_by_label("Pickup address").input_value() == "somewhere"
    assert_accessible(page)
    shot(page, "mail-in-error")


@pytest.fixture
def phone(browser, live_server, settings):
    """A customer's phone: 360 x 740, Chinese (the default language for customers)."""
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}  # the QR's pay screen
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, base_url=live_server.url, locale="zh-CN", device_scale_factor=1
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_warranty_check_and_sandbox_plan_purchase(phone, zh_translations):
    page = phone
    StatutoryPolicyFactory(category="phone")
    screen_care()
    device = DeviceFactory(model=DeviceModelFactory(code="PHN-1", name="Phone One", tier="flagship"))
    page.goto("/warranty/")
    assert_accessible(page)
    page.locator("input[name=imei]").fill(device.imei)
    page.locator("main form button[type=submit]").click()
    page.locator("#coverage").wait_for()
    assert ("在保修期内" if zh_translations else "In warranty") in page.locator("#coverage").inner_text()
    assert_accessible(page)
    shot(page, "warranty-result")
    page.locator("#plans a.btn").first.click()
    assert ("沙箱" if zh_translations else "SANDBOX") in page.locator(".notice.sandbox").inner_text()
    assert_accessible(page)
    price = page.locator("#checkout-price").inner_text()
    with page.expect_navigation():
        page.locator("#checkout-wechat").click()
    page.locator("#order-qr svg").wait_for()
    purchase = device.plan_purchases.get()
    assert (purchase.channel, purchase.status) == ("web", "pending")  # covers nothing until paid
    assert_accessible(page)
    # The QR opens the provider's pay screen (the sandbox here): pay, and come back to the order.
    page.locator("#order-open-payment").click()
    page.wait_for_url(re.compile(r"/payments/sandbox/"))
    assert page.locator("#sandbox-amount").inner_text() == price
    with page.expect_navigation():
        page.locator("#sandbox-confirm").click()
    with page.expect_navigation():
        page.locator("#sandbox-back").click()
    page.locator("#order-active").wait_for()
    shot(page, "plan-bought")
    purchase.refresh_from_db()
    payment = Payment.objects.get(plan_purchase=purchase)
    assert purchase.status == "active" and (payment.status, payment.method) == ("succeeded", "wechat_pay")
    assert payment.receipt_no in page.locator("#order-receipt").inner_text()
    page.locator("#order-coverage").click()
    page.locator("#coverage").wait_for()
    assert f"{purchase.ends_on:%Y-%m-%d}" in page.locator("main").inner_text()  # the coverage lists the plan
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_language_switch(page, live_server, zh_translations):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    if zh_translations:
        assert page.locator("h1").inner_text() == "有什么可以帮您？"
        shot(page, "home-zh-before")
    page.get_by_label(re.compile("Language|语言")).select_option("en")
    page.get_by_role("button", name=re.compile("Switch|切换")).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "How can we help?"
    shot(page, "home-en")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    if zh_translations:
        assert page.get_by_role("link", name="预约维修").count() == 1
    shot(page, "home-zh")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_public_page_is_accessible(page, live_server, lang, zh_translations):
    center = open_center(name="Axe Center")
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    last4 = appointment.customer.phone[-4:]
    no = appointment.ticket.service_no
    pages = [
        ("home", "/"),
        ("centers", "/centers/"),
        ("centers-search", f"/centers/?q={center.name}"),
        ("center", f"/centers/{center.code}/"),
        ("verify", "/centers/verify/"),
        ("verify-result", "/centers/verify/?phone=021-00000000"),
        ("book-centers", "/book/"),
        ("book", f"/book/?center={center.code}"),
        ("mail-in", "/mail-in/"),
        ("on-site", "/on-site/"),
        ("warranty", "/warranty/"),
        ("warranty-error", "/warranty/?imei=123"),
        ("callback", "/callback/"),
        ("appointment-change", f"/appointments/{no}/?phone_last4={last4}"),
        ("survey", f"/survey/{no}/?phone_last4={last4}"),
        ("book-done", f"/book/{no}/done/?phone_last4={last4}"),
    ]
    for name, path in pages:
        page.goto(path)
        assert_accessible(page)
        shot(page, f"{lang}-{name}")


def test_find_a_center_with_my_location(page, live_server):
    near = open_center(name="Near Center", lat=31.2305, lng=121.4738)
    open_center(name="Far Center", lat=39.9, lng=116.4)  # Beijing, outside the radius
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 31.2304, "longitude": 121.4737})
    set_english(page, live_server)
    page.goto("/centers/")
    page.get_by_role("button", name="Use my location").click()
    results = page.locator("#center-results .card")
    results.first.wait_for()
    assert results.count() == 1
    text = results.first.inner_text()
    assert near.name in text and "km away" in text and "Official" in text
    assert "near=31.23040%2C121.47370" in page.url  # the position is in the address bar (shareable)
    assert_accessible(page)
    shot(page, "centers-my-location")


def test_center_search_without_javascript(browser, live_server):
    open_center(name="No-JS Center")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, base_url=live_server.url, locale="en-US"
    )
    try:
        page = context.new_page()
        page.goto("/centers/")
        assert page.get_by_role("button", name="Use my location").is_hidden()
        page.get_by_label("Province, city, district or street address").fill("No-JS")
        page.get_by_role("button", name="Search").click()
        page.locator("#center-results .card").first.wait_for()
        assert "No-JS Center" in page.locator("#center-results").inner_text()
    finally:
        context.close()


def test_book_without_javascript(browser, live_server):
    center = open_center()
    DeviceModelFactory(code="PHN-1")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False, base_url=live_server.url, locale="en-US"
    )
    try:
        page = context.new_page()
        page.goto(f"/book/?center={center.code}")
        second_day = tomorrow() + dt.timedelta(days=1)
        page.locator(f'.days a[href*="date={second_day.isoformat()}"]').click()  # a plain link without htmx
        page.get_by_label("11:00–11:30").check()
        _fill_contact_device(page, phone=next_phone(), imei=make_imei())
        page.get_by_role("button", name="Book this time").click()
        page.wait_for_url(re.compile(r"/book/.+/done/"))
        assert Appointment.objects.get().start == local(second_day, 11)
        shot(page, "book-no-js-done")
    finally:
        context.close()
