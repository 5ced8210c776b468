"""Public booking API: slots, appointments (201/409/400), mail-in requests; schema."""

import datetime as dt

import pytest

from booking.models import Appointment, MailInRequest
from centers.choices import CenterKind
from repairs.models import RepairTicket
from tests.factories.booking import SlotRuleFactory, local, next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.warranty import DeviceModelFactory, make_imei

pytestmark = pytest.mark.django_db


def _body(center, start, **overrides):
    body = {
        "center": center.code,
        "start": start.isoformat(),
        "customer": {"name": "王小明", "phone": next_phone()},
        "device": {"imei": make_imei(), "model": DeviceModelFactory(code="PHN-1").code},
        "issue": "屏幕碎了",
        "needs": {"sign_language": True},
    }
    body.update(overrides)
    return body


def test_slots_of_a_day(api_client, django_assert_max_num_queries):
    center = open_center(opens=dt.time(9), closes=dt.time(10))
    day = tomorrow()
    with django_assert_max_num_queries(8):
        response = api_client.get(f"/api/v1/centers/{center.code}/slots/", {"date": day.isoformat()})
    assert response.status_code == 200
    assert response.json() == [
        {"start": local(day, 9).isoformat(), "end": local(day, 9, 30).isoformat(), "capacity": 2, "available": 2},
        {"start": local(day, 9, 30).isoformat(), "end": local(day, 10).isoformat(), "capacity": 2, "available": 2},
    ]


def test_slots_bad_date_and_unknown_center(api_client):
    center = open_center()
    bad = api_client.get(f"/api/v1/centers/{center.code}/slots/", {"date": "tomorrow"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error" and "date" in bad.json()["errors"]
    missing = api_client.get("/api/v1/centers/NOPE/slots/", {"date": tomorrow().isoformat()})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_book_201(api_client):
    center = open_center()
    start = local(tomorrow(), 10)
    response = api_client.post("/api/v1/appointments/", _body(center, start), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = RepairTicket.objects.get()
    assert body == {
        "service_no": ticket.service_no,
        "status": "booked",
        "center": center.code,
        "start": start.isoformat(),
        "end": local(tomorrow(), 10, 30).isoformat(),
        "needs": {"sign_language": True},
    }
    assert ticket.channel == "appointment"


def test_book_full_slot_409_with_alternatives(api_client):
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    assert api_client.post("/api/v1/appointments/", _body(center, local(day, 10)), format="json").status_code == 201
    response = api_client.post("/api/v1/appointments/", _body(center, local(day, 10)), format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "slot_full"
    assert [a["start"] for a in body["alternatives"]][:2] == [
        local(day, 9, 30).isoformat(),
        local(day, 10, 30).isoformat(),
    ]
    assert Appointment.objects.count() == 1


def test_book_400_validation(api_client):
    center = open_center()
    response = api_client.post("/api/v1/appointments/", {"center": center.code}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert {"start", "customer", "device", "issue"} <= set(response.json()["errors"])
    bad_phone = _body(center, local(tomorrow(), 10), customer={"name": "x", "phone": "12"})
    response = api_client.post("/api/v1/appointments/", bad_phone, format="json")
    assert response.status_code == 400 and "customer.phone" in response.json()["errors"]
    off_grid = api_client.post("/api/v1/appointments/", _body(center, local(tomorrow(), 10, 10)), format="json")
    assert off_grid.status_code == 400 and "start" in off_grid.json()["errors"]
    unknown_body = _body(center, local(tomorrow(), 10))
    unknown_body["center"] = "NOPE"
    unknown = api_client.post("/api/v1/appointments/", unknown_body, format="json")
    assert unknown.status_code == 400 and "center" in unknown.json()["errors"]
    assert not RepairTicket.objects.exists()


def test_mail_in_201_routes_to_province_hub(api_client):
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    hub = ServiceCenterFactory(
        code="HUB-GD",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )
    body = {
        "customer": {"name": "张三", "phone": next_phone()},
        "device": {"imei": make_imei(), "model": DeviceModelFactory(code="PHN-1").code},
        "issue": "Battery drains",
        "pickup_address": "广东省深圳市南山区科技园路1号",
    }
    response = api_client.post("/api/v1/mail-in-requests/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    req = MailInRequest.objects.get()
    assert data["service_no"] == req.ticket.service_no and data["status"] == "booked" and data["hub"] == hub.code
    assert data["pickup"]["leg"] == "customer_to_hub" and data["pickup"]["status"] == "created"
    assert data["pickup"]["id"] == req.ticket.shipments.get().pk


def test_mail_in_no_hub_and_bad_address(api_client):
    region_chain("440000000000", "440300000000", "440305000000")
    body = {
        "customer": {"name": "张三", "phone": next_phone()},
        "device": {"imei": make_imei(), "model": "X"},
        "issue": "x",
        "pickup_address": "广东省深圳市南山区科技园路1号",
    }
    no_hub = api_client.post("/api/v1/mail-in-requests/", body, format="json")
    assert no_hub.status_code == 422 and no_hub.json()["code"] == "no_hub"
    body["pickup_address"] = "nowhere"
    bad = api_client.post("/api/v1/mail-in-requests/", body, format="json")
    assert bad.status_code == 400 and "pickup_address" in bad.json()["errors"]
    assert not RepairTicket.objects.exists()


def test_schema_lists_booking_paths(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/centers/{code}/slots/" in paths
    assert {"201", "400", "409"} <= set(paths["/api/v1/appointments/"]["post"]["responses"])
    assert "201" in paths["/api/v1/mail-in-requests/"]["post"]["responses"]


def test_book_retry_with_idempotency_key_books_once(api_client):
    center = open_center()
    body = _body(center, local(tomorrow(), 10))
    first = api_client.post("/api/v1/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    again = api_client.post("/api/v1/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["service_no"] == first.json()["service_no"]
    assert Appointment.objects.count() == 1


def test_public_booking_is_throttled(api_client):
    from servicehub.api.throttling import PublicAnonThrottle

    center = open_center()
    day = tomorrow().isoformat()
    original = PublicAnonThrottle.THROTTLE_RATES
    PublicAnonThrottle.THROTTLE_RATES = {**original, "anon": "2/min"}
    try:
        codes = [api_client.get(f"/api/v1/centers/{center.code}/slots/", {"date": day}).status_code for _ in range(3)]
    finally:
        PublicAnonThrottle.THROTTLE_RATES = original
    assert codes == [200, 200, 429]
