"""Public pages through Django's test client: render, validate, call services, keep input."""

import datetime as dt

import pytest
from django.urls import reverse

from booking.models import Appointment, CallbackRequest, MailInRequest, OnSiteRequest, Survey
from centers.choices import CenterKind
from repairs.models import RepairTicket
from tests.factories.booking import SlotRuleFactory, booking_input, local, next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, make_imei, screen_care

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


def _book_post(center, start, **overrides):
    data = booking_input(model=DeviceModelFactory(code="PHN-1"))
    post = {
        "center": center.code,
        "date": start.date().isoformat(),
        "start": start.isoformat(),
        "name": data["name"],
        "phone": data["phone"],
        "imei": data["imei"],
        "model": data["model_code"],
        "fault_category": "screen",
        "issue": "Cracked screen",
    }
    post.update(overrides)
    return post


@pytest.mark.parametrize(
    "name",
    ["home", "web_centers", "web_verify", "web_book", "web_mail_in", "web_on_site", "web_warranty", "web_callback"],
)
def test_public_pages_render_in_both_languages(client, name):
    for lang, marker in (("en", 'lang="en"'), ("zh-hans", 'lang="zh-hans"')):
        client.cookies["django_language"] = lang
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert marker in response.content.decode()
        assert 'action="/i18n/setlang/"' in response.content.decode()


def test_pages_load_no_third_party_assets(client):
    html = client.get("/centers/").content.decode()
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


@pytest.mark.parametrize(
    "path",
    ["/", "/centers/", "/mail-in/", "/on-site/", "/warranty/", "/prices/", "/callback/", "/centers/verify/", "/track/"],
)
def test_htmx_only_on_pages_that_use_it(client, path):
    html = client.get(path).content.decode()
    assert "hx-get" not in html
    assert "htmx-2.0.11.min.js" not in html


def test_htmx_on_pages_that_swap(client):
    # the booking's day switch swaps the slot picker in place (the center search reloads the page)
    center = open_center()
    html = client.get(f"/book/?center={center.code}").content.decode()
    assert "hx-get" in html
    assert "htmx-2.0.11.min.js" in html


def test_footer_hotline_tel_link(client, settings):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "HOTLINE": "400-123-4567"}
    html = client.get("/warranty/").content.decode()
    assert '<a class="hotline" href="tel:4001234567">400-123-4567</a>' in html


def test_language_switch_sets_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/book/"})
    assert response.status_code == 302 and response["Location"] == "/book/"
    assert "Book a repair" in client.get("/book/").content.decode()


# --- centers -------------------------------------------------------------------------------


def test_center_search_by_city_lists_centers_with_distance(en):
    province, city, county = region_chain()
    county.lat, county.lng = 31.23, 121.47
    county.save()
    near = open_center(name="Huangpu Center", lat=31.231, lng=121.471)
    response = en.get("/centers/", {"q": "上海市黄浦区"})
    html = response.content.decode()
    assert response.status_code == 200
    assert near.name in html and "km away" in html and "Official" in html


def test_center_search_by_location(en, django_assert_max_num_queries):
    open_center(name="Near One", lat=31.23, lng=121.47)
    with django_assert_max_num_queries(6):
        response = en.get("/centers/", {"lat": "31.2300", "lng": "121.4700"})
    assert "Near One" in response.content.decode()


def test_center_search_needs_input(en):
    response = en.get("/centers/", {"q": ""})
    assert "Enter a province, city, district or address, or use your location." in response.content.decode()


def test_center_page_shows_hours_holiday_and_service_day(en, django_assert_max_num_queries):
    from centers.models import OpeningException, ServiceDay

    center = open_center(name="Center Page")
    day = tomorrow()
    OpeningException.objects.create(center=center, date=day, closed=True, reason="National Day")
    ServiceDay.objects.create(center=center, date=day + dt.timedelta(days=2), perks=["cleaning"])
    with django_assert_max_num_queries(8):
        response = en.get(f"/centers/{center.code}/")
    html = response.content.decode()
    assert "National Day" in html and "Free cleaning" in html and "09:00–18:00" in html


def test_unknown_center_page_is_404(en):
    assert en.get("/centers/NOPE/").status_code == 404


def test_verify_official_by_phone(en):
    center = open_center(phone="021-61234567")
    html = en.get("/centers/verify/", {"phone": "+86 21 6123 4567"}).content.decode()
    assert "Yes: this is an official service center." in html and center.name in html
    assert "Phone · Tablet · Walk-in · Appointment" in html  # services as translated labels, not codes
    html = en.get("/centers/verify/", {"phone": "021-99999999"}).content.decode()
    assert "No official center matches" in html


# --- booking -------------------------------------------------------------------------------


def test_booking_flow_books_and_confirms_with_qr_and_ics(en):
    center = open_center()
    start = local(tomorrow(), 10)
    page = en.get("/book/", {"center": center.code, "date": tomorrow().isoformat()})
    assert start.isoformat() in page.content.decode()
    response = en.post(f"/book/?center={center.code}", _book_post(center, start, sign_language="on"))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.needs == {"sign_language": True}
    done = en.get(response["Location"])
    html = done.content.decode()
    assert appointment.ticket.service_no in html and "<svg" in html
    ics = en.get(
        f"/book/{appointment.ticket.service_no}/calendar.ics", {"phone_last4": appointment.customer.phone[-4:]}
    )
    assert ics["Content-Type"].startswith("text/calendar")
    body = ics.content.decode()
    assert "BEGIN:VEVENT" in body and f"UID:{appointment.ticket.service_no}@servicehub" in body
    assert "DTSTART:" + start.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ") in body


def test_confirmation_needs_the_right_phone_digits(en):
    center = open_center()
    from booking import services

    appointment = services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    assert en.get(f"/book/{appointment.ticket.service_no}/done/", {"phone_last4": "0000"}).status_code == 404


def test_booking_bad_input_keeps_what_was_typed_and_saves_nothing(en):
    center = open_center()
    start = local(tomorrow(), 10)
    response = en.post(f"/book/?center={center.code}", _book_post(center, start, phone="12", issue="Broken lens"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "valid phone number" in html.lower() or "phone" in html.lower()
    assert 'value="12"' in html and "Broken lens" in html
    assert not RepairTicket.objects.exists() and not Appointment.objects.exists()


def test_booking_full_slot_offers_nearest_free_slots(en):
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    from booking import services

    services.appointment_book(center=center, start=local(day, 10), **booking_input())
    response = en.post(f"/book/?center={center.code}", _book_post(center, local(day, 10), phone=next_phone()))
    html = response.content.decode()
    assert response.status_code == 409
    assert "fully booked" in html
    assert local(day, 9, 30).isoformat() in html and local(day, 10, 30).isoformat() in html
    assert Appointment.objects.count() == 1


def test_booking_center_list_when_no_center(en):
    region_chain()
    open_center(name="Bookable")
    open_center(name="Walk-in only", services=["phone", "walk_in"])
    html = en.get("/book/").content.decode()
    assert "Step 1 of 3" in html and "Bookable" not in html  # no list of every center before a search
    html = en.get("/book/", {"q": "上海市黄浦区"}).content.decode()
    assert "Bookable" in html and "Walk-in only" not in html


def test_htmx_day_switch_returns_only_the_picker(en):
    center = open_center()
    response = en.get("/book/", {"center": center.code, "date": tomorrow().isoformat()}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="slot-picker">') and "<html" not in html


# --- change / cancel from tracking ---------------------------------------------------------


def _booked(center=None, start=None):
    from booking import services

    center = center or open_center()
    return services.appointment_book(center=center, start=start or local(tomorrow(), 10), **booking_input())


def test_track_extras_offers_change_link(en):
    from django.template.loader import render_to_string

    from web.templatetags.web_extras import track_extras

    appointment = _booked()
    last4 = appointment.customer.phone[-4:]
    ticket = appointment.ticket
    context = {"ticket": ticket, "phone_last4": last4, "extras": track_extras(ticket)}
    html = render_to_string("repairs/_track_extras.html", context)
    assert f"/appointments/{appointment.ticket.service_no}/?phone_last4={last4}" in html


def test_cancel_from_tracking(en):
    appointment = _booked()
    last4 = appointment.customer.phone[-4:]
    url = f"/appointments/{appointment.ticket.service_no}/"
    response = en.post(url, {"phone_last4": last4, "action": "cancel"})
    assert response.status_code == 200 and "Cancel your booking?" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"  # nothing changes before the customer confirms
    response = en.post(url, {"phone_last4": last4, "action": "cancel_confirmed"})
    assert response.status_code == 200 and "Your booking is cancelled" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_cancel_with_wrong_digits_is_404_and_changes_nothing(en):
    appointment = _booked()
    response = en.post(f"/appointments/{appointment.ticket.service_no}/", {"phone_last4": "0000", "action": "cancel"})
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_reschedule_from_tracking(en):
    appointment = _booked()
    last4 = appointment.customer.phone[-4:]
    new = local(tomorrow(), 14)
    data = {"phone_last4": last4, "action": "reschedule", "date": tomorrow().isoformat(), "start": new.isoformat()}
    response = en.post(f"/appointments/{appointment.ticket.service_no}/", data)
    assert response.status_code == 200 and "Move your booking?" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == local(tomorrow(), 10)  # not moved before the customer confirms
    response = en.post(f"/appointments/{appointment.ticket.service_no}/", data | {"action": "reschedule_confirmed"})
    assert response.status_code == 200 and "Your booking is moved" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == new


# --- mail-in, on-site ----------------------------------------------------------------------


def _hub():
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    return ServiceCenterFactory(
        code="HUB-GD",
        name="Guangdong hub",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )


def test_mail_in_page_creates_ticket_and_pickup(en):
    hub = _hub()
    DeviceModelFactory(code="PHN-1")
    response = en.post(
        "/mail-in/",
        {
            "pickup_address": "广东省深圳市南山区科技园路1号",
            "name": "张三",
            "phone": next_phone(),
            "imei": make_imei(),
            "model": "PHN-1",
            "fault_category": "battery",
            "issue": "Battery drains",
            "pickup_date": tomorrow().isoformat(),
            "pickup_window": "afternoon",
        },
    )
    req = MailInRequest.objects.get()
    assert response.status_code == 302  # POST/redirect/GET: a refresh of the confirmation never resubmits
    assert response["Location"] == (
        f"/mail-in/{req.ticket.service_no}/done/?phone_last4={req.ticket.customer.phone[-4:]}"
    )
    assert req.hub == hub and (req.province, req.city, req.county) == ("广东省", "深圳市", "南山区")
    assert req.ticket.channel == "mail_in" and req.ticket.shipments.get().leg == "customer_to_hub"
    html = en.get(response["Location"]).content.decode()
    assert req.ticket.service_no in html
    assert f"{tomorrow():%Y-%m-%d}" in html and "13:00–17:00" in html


def test_mail_in_unparseable_address_keeps_input(en):
    _hub()
    response = en.post(
        "/mail-in/",
        {
            "pickup_address": "somewhere nice",
            "name": "张三",
            "phone": next_phone(),
            "imei": make_imei(),
            "model": "",
            "fault_category": "battery",
            "issue": "Battery drains",
        },
    )
    html = response.content.decode()
    assert "could not find the province" in html and 'value="somewhere nice"' in html
    assert not RepairTicket.objects.exists()


def test_on_site_request_for_smart_screen(en):
    center = open_center()
    DeviceModelFactory(code="TV-1", category="smart_screen")
    response = en.post(
        "/on-site/",
        {
            "center": center.code,
            "address": "上海市黄浦区南京东路100号",
            "preferred_date": tomorrow().isoformat(),
            "window": "morning",
            "name": "李四",
            "phone": next_phone(),
            "serial": "TVSERIAL001",
            "model": "TV-1",
            "fault_category": "other",
            "issue": "No picture",
            "device_kind": "smart_screen",
        },
    )
    assert response.status_code == 302
    req = OnSiteRequest.objects.get()
    assert req.ticket.channel == "on_site" and req.window == "morning" and req.cannot_travel is False


def test_on_site_refuses_phones_and_saves_nothing(en):
    center = open_center()
    DeviceModelFactory(code="PHN-1", category="phone")
    response = en.post(
        "/on-site/",
        {
            "center": center.code,
            "address": "上海市黄浦区南京东路100号",
            "preferred_date": tomorrow().isoformat(),
            "window": "morning",
            "name": "李四",
            "phone": next_phone(),
            "imei": make_imei(),
            "model": "PHN-1",
            "fault_category": "other",
            "issue": "No picture",
            "device_kind": "pc",
        },
    )
    # A PC was chosen but an IMEI given: the form asks for the serial number, in words.
    assert "Enter the serial number" in response.content.decode()
    assert not RepairTicket.objects.exists() and not OnSiteRequest.objects.exists()


# --- warranty, checkout --------------------------------------------------------------------


def _device():
    StatutoryPolicyFactory(category="phone")
    screen_care()
    return DeviceFactory(model=DeviceModelFactory(code="PHN-1", tier="flagship"))


def test_warranty_check_lists_buyable_plans(en):
    device = _device()
    html = en.get("/warranty/", {"imei": device.imei}).content.decode()
    assert "In warranty" in html and "199.00" in html
    assert "SCREEN12" not in html.replace("plan=SCREEN12", "")  # the code only in the checkout link


def test_warranty_check_bad_imei_message(en):
    html = en.get("/warranty/", {"imei": "123"}).content.decode()
    assert 'value="123"' in html and "15 digits" in html


def test_checkout_sandbox_starts_a_qr_order(en):
    device = _device()
    page = en.get("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12"}).content.decode()
    assert "SANDBOX" in page
    response = en.post("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12", "method": "wechat_pay"})
    assert response.status_code == 302 and "/warranty/orders/" in response["Location"]
    purchase = device.plan_purchases.get()
    assert (purchase.status, purchase.channel) == ("pending", "web")  # active once paid (tests/payments)


def test_checkout_without_a_method_asks_for_one_and_buys_nothing(en):
    device = _device()
    response = en.post("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12", "method": "card"})
    assert response.status_code == 400 and "Choose WeChat Pay or Alipay." in response.content.decode()
    assert not device.plan_purchases.exists()


# --- survey, callback ----------------------------------------------------------------------


def test_survey_after_hand_back(en):
    appointment = _booked()
    RepairTicket.objects.filter(pk=appointment.ticket_id).update(status="delivered")
    last4 = appointment.customer.phone[-4:]
    url = f"/survey/{appointment.ticket.service_no}/"
    bad = en.post(
        url, {"phone_last4": last4, "overall": "5", "staff": "5", "speed": "9", "quality": "4", "comment": "great"}
    )
    assert bad.status_code == 200 and not Survey.objects.exists() and "great" in bad.content.decode()
    assert "How likely are you to recommend us" in bad.content.decode()
    out_of_range = en.post(
        url, {"phone_last4": last4, "overall": "5", "staff": "5", "speed": "4", "quality": "4", "recommend": "11"}
    )
    assert out_of_range.status_code == 200 and not Survey.objects.exists()
    ok = en.post(
        url, {"phone_last4": last4, "overall": "5", "staff": "5", "speed": "4", "quality": "4", "recommend": "9"}
    )
    assert ok.status_code == 200 and (Survey.objects.get().speed, Survey.objects.get().recommend) == (4, 9)


def test_survey_recommendation_is_optional(en):
    appointment = _booked()
    RepairTicket.objects.filter(pk=appointment.ticket_id).update(status="delivered")
    url = f"/survey/{appointment.ticket.service_no}/"
    ok = en.post(
        url,
        {"phone_last4": appointment.customer.phone[-4:], "overall": "4", "staff": "4", "speed": "4", "quality": "4"},
    )
    assert ok.status_code == 200 and Survey.objects.get().recommend is None


def test_callback_request(en):
    response = en.post(
        "/callback/", {"name": "赵六", "phone": "13912345678", "topic": "warranty", "preferred_window": "evening"}
    )
    assert response.status_code == 200
    assert CallbackRequest.objects.get().phone == "+8613912345678"


def test_callback_bad_phone_keeps_input(en):
    response = en.post(
        "/callback/",
        {"name": "赵六", "phone": "12ab", "topic": "warranty", "preferred_window": "evening", "note": "after 6pm"},
    )
    html = response.content.decode()
    assert "valid phone number" in html and 'value="12ab"' in html and "after 6pm" in html
    assert not CallbackRequest.objects.exists()


def test_booking_page_query_count_does_not_grow_with_days(en, django_assert_max_num_queries):
    center = open_center()
    SlotRuleFactory(center=center, weekday=tomorrow().weekday(), desks=3)
    # session + center with 4 prefetches + slot counters of the day + device models
    with django_assert_max_num_queries(10):
        response = en.get("/book/", {"center": center.code, "date": tomorrow().isoformat()})
    assert response.status_code == 200


def test_booking_center_search_by_district(en):
    province, city, county = region_chain()
    county.lat, county.lng = 31.23, 121.47
    county.save()
    open_center(name="Huangpu Bookable", lat=31.231, lng=121.471)
    open_center(name="Huangpu Walk-in", lat=31.232, lng=121.472, services=["phone", "walk_in"])
    html = en.get("/book/", {"q": "上海市黄浦区"}).content.decode()
    assert "Huangpu Bookable" in html and "Huangpu Walk-in" not in html


def test_guessing_phone_digits_is_throttled(en, settings):
    from servicehub.api.throttling import LookupThrottle

    appointment = _booked()
    url = f"/book/{appointment.ticket.service_no}/done/"
    original = LookupThrottle.THROTTLE_RATES
    LookupThrottle.THROTTLE_RATES = {**original, "tracking": "3/min"}
    try:
        codes = [en.get(url, {"phone_last4": f"99{n:02d}"}).status_code for n in range(3)]  # never a factory phone
        right = en.get(url, {"phone_last4": appointment.customer.phone[-4:]})
    finally:
        LookupThrottle.THROTTLE_RATES = original
    assert codes == [404, 404, 404]
    assert right.status_code == 429 and "Too many lookups" in right.content.decode()
