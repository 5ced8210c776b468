"""Find and Book without a browser: what each step answers, what it refuses, what it writes,
and how many queries it takes."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from booking import services as booking_services
from booking.models import Appointment
from centers.models import OpeningException
from notifications.models import Notification
from repairs.models import RepairTicket
from tests.factories.booking import SlotRuleFactory, booking_input, local, next_phone, open_center, tomorrow
from tests.factories.centers import RegionFactory, region_chain
from tests.factories.warranty import DeviceModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def huangpu():
    province, city, county = region_chain()
    return county


def _post(center, start, **overrides):
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


# --- find ------------------------------------------------------------------------------------


def test_card_has_distance_hours_phone_services_and_map_links(en, huangpu):
    center = open_center(name="Huangpu Center", phone="021-61234567", lat=31.231, lng=121.471)
    html = en.get("/centers/", {"q": "上海市黄浦区"}).content.decode()
    card = html.split(f'id="place-{center.code}"')[1].split("</li>")[0]
    assert "km away" in card and "Official" in card
    assert 'href="tel:02161234567"' in card
    assert "https://uri.amap.com/marker?position=121.471000%2C31.231000&amp;name=Huangpu+Center" in card
    assert "https://maps.apple.com/?ll=" in card  # English page: Apple Maps beside Amap
    assert "Walk-in · Appointment" in card


def test_chinese_page_offers_baidu_not_apple(client, huangpu):
    open_center(name="黄浦中心", lat=31.231, lng=121.471)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/centers/", {"q": "上海市黄浦区"}).content.decode()
    assert "https://uri.amap.com/marker" in html and "https://api.map.baidu.com/marker" in html
    assert "maps.apple.com" not in html


def test_closed_center_says_when_it_opens(en, huangpu):
    center = open_center(name="Opens Later", lat=31.231, lng=121.471)
    now = timezone.localtime()
    # Closed today and tomorrow by exceptions: the card names the day after tomorrow's opening.
    for offset in (0, 1):
        OpeningException.objects.create(
            center=center, date=now.date() + dt.timedelta(days=offset), closed=True, reason="Stocktaking"
        )
    html = en.get("/centers/", {"q": "上海市黄浦区"}).content.decode()
    opens = now + dt.timedelta(days=2)
    assert f"opens {opens:%a} 09:00" in html and "Closed now" in html


def test_place_without_site_answers_the_nearest_outside_and_says_so(en, huangpu):
    far_county = RegionFactory(adcode="310115000000", name="浦东新区", parent=huangpu.parent, lat=31.22, lng=121.54)
    open_center(name="Huangpu Only", lat=31.231, lng=121.471)
    html = en.get("/centers/", {"q": far_county.name}).content.decode()
    assert "There is no official service place in 浦东新区 yet" in html and "Huangpu Only" in html


def test_use_my_location_sends_near(en):
    open_center(name="Near One", lat=31.23, lng=121.47)
    open_center(name="Far One", lat=39.9, lng=116.4)
    html = en.get("/centers/", {"near": "31.2300,121.4700"}).content.decode()
    assert "Official places nearest to your location:" in html
    assert "Near One" in html and "Far One" not in html  # 1,000 km away, while something is within 300 km
    # Only far away sites: the nearest of them still comes back.
    html = en.get("/centers/", {"near": "45.75,126.65"}).content.decode()
    assert html.index("Far One") < html.index("Near One")
    assert 'src="/static/web/find.js"' in html and "<script>" not in html  # no inline script (strict CSP)


def test_bad_position_is_refused_with_words(en):
    html = en.get("/centers/", {"near": "north,pole"}).content.decode()
    assert "Your location could not be read. Type a place instead." in html


def test_unknown_text_says_what_to_type(en):
    html = en.get("/centers/", {"q": "Shaoyang"}).content.decode()
    assert "We found no place called “Shaoyang”" in html


def test_find_location_query_count(en, django_assert_max_num_queries):
    for n in range(12):
        open_center(name=f"Center {n}", lat=31.23 + n / 100, lng=121.47)
    # session + page + weekly hours + the week's exceptions
    with django_assert_max_num_queries(4):
        response = en.get("/centers/", {"near": "31.23,121.47"})
    html = response.content.decode()
    assert html.count('class="card place"') == 10 and "More places" in html


# --- book: step 1 ------------------------------------------------------------------------------


def test_book_step_one_lists_nearest_bookable_with_distance_and_steps(en, django_assert_max_num_queries):
    for n in range(12):
        open_center(name=f"Bookable {n}", lat=31.23 + n / 100, lng=121.47)
    open_center(name="Walk-in only", services=["phone", "walk_in"], lat=31.23, lng=121.47)
    with django_assert_max_num_queries(4):
        response = en.get("/book/", {"near": "31.23,121.47"})
    html = response.content.decode()
    assert "Step 1 of 3" in html and "Walk-in only" not in html
    assert html.count("Choose this center") == 10 and "km away" in html and "More places" in html
    assert html.index("Bookable 0<") < html.index("Bookable 1<")


def test_book_step_one_by_place_query_count(en, huangpu, django_assert_max_num_queries):
    for n in range(3):
        open_center(name=f"Huangpu {n}", lat=31.231 + n / 1000, lng=121.471)
    # session + region by name (none) + the parsed region + page + weekly hours + the week's exceptions
    with django_assert_max_num_queries(6):
        response = en.get("/book/", {"q": "上海市黄浦区"})
    html = response.content.decode()
    assert html.count("Choose this center") == 3 and "Step 1 of 3" in html


# --- book: steps 2 and 3 -----------------------------------------------------------------------


def test_book_form_shows_both_steps_and_no_preselected_fault(en):
    center = open_center()
    html = en.get("/book/", {"center": center.code}).content.decode()
    assert "Step 2 of 3" in html and "Step 3 of 3" in html
    select = re.search(r'<select name="fault_category".*?</select>', html, re.S).group(0)
    assert '<option value="" selected>Choose…</option>' in select and select.count("selected") == 1
    assert "required" in select.split(">")[0]


def test_missing_fault_is_refused_and_nothing_is_saved(en):
    center = open_center()
    response = en.post(f"/book/?center={center.code}", _post(center, local(tomorrow(), 10), fault_category=""))
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Appointment.objects.exists()


def test_full_slot_is_shown_disabled_and_labelled(en):
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    booking_services.appointment_book(center=center, start=local(day, 10), **booking_input())
    html = en.get("/book/", {"center": center.code, "date": day.isoformat()}).content.decode()
    full = re.search(r'<label class="slot full">.*?</label>', html, re.S).group(0)
    assert f'value="{local(day, 10).isoformat()}" disabled' in full and "10:00–10:30" in full and "full" in full
    assert f'value="{local(day, 10, 30).isoformat()}" required' in html


@pytest.mark.parametrize("offset", [0, 31, 60])
def test_hand_edited_date_outside_the_window_is_refused_at_once(en, offset):
    center = open_center()
    day = timezone.localdate() + dt.timedelta(days=offset)
    response = en.get("/book/", {"center": center.code, "date": day.isoformat()})
    html = response.content.decode()
    assert response.status_code == 400
    # The one booking window (booking.selectors.booking_window): tomorrow to 30 days ahead.
    first, last = tomorrow(), timezone.localdate() + dt.timedelta(days=30)
    assert f"{day.isoformat()} cannot be booked: you can book from {first.isoformat()} to {last.isoformat()}" in html
    assert f'name="start" value="{day.isoformat()}' not in html  # none of that day's slots offered


def test_day_without_appointments_is_refused_with_words(en):
    center = open_center()
    day = tomorrow() + dt.timedelta(days=2)
    SlotRuleFactory(center=center, weekday=day.weekday(), active=False)
    response = en.get("/book/", {"center": center.code, "date": day.isoformat()})
    assert response.status_code == 400
    assert f"The center takes no appointments on {day.isoformat()}" in response.content.decode()


def test_landline_is_refused_as_mobile_on_the_form_and_in_the_service(en):
    center = open_center()
    response = en.post(f"/book/?center={center.code}", _post(center, local(tomorrow(), 10), phone="021-61234567"))
    html = response.content.decode()
    assert "This looks like a landline. Enter a mobile number: we send your booking by SMS." in html
    assert not RepairTicket.objects.exists()
    from servicehub.errors import DomainError

    with pytest.raises(DomainError) as err:
        booking_services.appointment_book(
            center=center, start=local(tomorrow(), 10), **booking_input(phone="+86 21 6123 4567")
        )
    assert (err.value.code, err.value.field) == ("validation_error", "phone")
    assert not RepairTicket.objects.exists()


def test_booking_queues_the_sms_with_the_tracking_link(en, settings):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": "https://service.example.com"}
    center = open_center(name="Huangpu Center", phone="021-61234567")
    phone = next_phone()
    response = en.post(f"/book/?center={center.code}", _post(center, local(tomorrow(), 10), phone=phone))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    sms = Notification.objects.get(kind="appointment_booked", channel="sms")
    no = appointment.ticket.service_no
    assert sms.recipient == "+86" + phone and sms.ticket_id == appointment.ticket_id
    assert f"https://service.example.com/track/{no}/?phone_last4={phone[-4:]}" in sms.body
    assert f"{local(tomorrow(), 10):%Y-%m-%d} 10:00" in sms.body and "021-61234567" in sms.body


def test_confirmation_shows_what_to_bring_and_the_center_phone(en, django_assert_max_num_queries):
    center = open_center(phone="021-61234567")
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    url = f"/book/{appointment.ticket.service_no}/done/?phone_last4={appointment.customer.phone[-4:]}"
    with django_assert_max_num_queries(8):
        html = en.get(url).content.decode()
    assert "What to bring" in html and 'href="tel:02161234567"' in html


def test_booking_steps_query_counts(en, django_assert_max_num_queries):
    center = open_center()
    DeviceModelFactory(code="PHN-1")
    # session + center and its 4 prefetches + the day's counters + device models
    with django_assert_max_num_queries(8):
        assert en.get("/book/", {"center": center.code}).status_code == 200
    with django_assert_max_num_queries(8):
        assert (
            en.get(
                "/book/", {"center": center.code, "date": tomorrow().isoformat()}, HTTP_HX_REQUEST="true"
            ).status_code
            == 200
        )


# --- change, cancel, book again ----------------------------------------------------------------


def test_cancel_wording_on_tracking_is_not_returned_unrepaired(en):
    appointment = booking_services.appointment_book(
        center=open_center(), start=local(tomorrow(), 10), **booking_input()
    )
    booking_services.appointment_cancel(appointment_id=appointment.pk)
    last4 = appointment.customer.phone[-4:]
    html = en.get(f"/track/{appointment.ticket.service_no}/", {"phone_last4": last4}).content.decode()
    assert "Your booking is cancelled. You never handed a device in" in html
    assert "returned unrepaired" not in html


def test_book_again_prefills_center_and_device(en):
    center = open_center()
    data = booking_input()
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **data)
    booking_services.appointment_cancel(appointment_id=appointment.pk)
    last4 = appointment.customer.phone[-4:]
    html = en.post(
        f"/appointments/{appointment.ticket.service_no}/", {"phone_last4": last4, "action": "cancel_confirmed"}
    ).content.decode()
    # already cancelled: the page says it can no longer be changed; the link is on the done page
    assert "can no longer be changed" in html
    again = f"/book/?center={center.code}&again={appointment.ticket.service_no}&phone_last4={last4}"
    html = en.get(again).content.decode()
    assert f'value="{data["imei"]}"' in html and '<option value="PHN-1" selected>' in html
    assert '<option value="screen" selected>' in html
    # the wrong digits prefill nothing
    html = en.get(again.replace(last4, "0000" if last4 != "0000" else "1111")).content.decode()
    assert data["imei"] not in html


def test_cancel_done_page_offers_book_again(en):
    center = open_center()
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    last4 = appointment.customer.phone[-4:]
    html = en.post(
        f"/appointments/{appointment.ticket.service_no}/", {"phone_last4": last4, "action": "cancel_confirmed"}
    ).content.decode()
    assert "Your booking is cancelled" in html and "nothing to collect" in html
    assert (
        f'href="/book/?center={center.code}&amp;again={appointment.ticket.service_no}&amp;phone_last4={last4}"' in html
    )
    assert "unrepaired" not in html
