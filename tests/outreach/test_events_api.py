"""The public events API: the list with places left (by center and month) and sign-up (docs/api-contract.md)."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from outreach.models import Registration

from .conftest import make_event

pytestmark = pytest.mark.django_db


def test_list_shows_public_upcoming_events_with_places_left_in_constant_queries(
    place, api_client, django_assert_max_num_queries
):
    first = make_event(place["center"], capacity=4, days=2)
    make_event(place["center"], kind="staff_training")  # never public
    make_event(place["center"], status="cancelled")
    make_event(
        place["center"],
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2, hours=-2),
    )
    api_client.post(f"/api/v1/events/{first.pk}/registrations/", {"name": "A", "phone": "13900000101"}, format="json")
    with django_assert_max_num_queries(2):
        one = api_client.get("/api/v1/events/").json()
    assert [e["id"] for e in one["results"]] == [first.pk]
    row = one["results"][0]
    assert (row["places_left"], row["capacity"], row["center"], row["kind"]) == (3, 4, "SC-EVT", "customer_class")
    assert row["title"] == "Phone class for seniors"  # English: Accept-Language decides
    for n in range(6):
        make_event(place["other"], days=3 + n)
    with django_assert_max_num_queries(2):
        many = api_client.get("/api/v1/events/").json()
    assert many["count"] == 7


def test_filters_by_center_and_month_and_refuses_bad_ones(place, api_client):
    tz = timezone.get_default_timezone()
    year = timezone.localdate().year + 1
    march = make_event(
        place["center"], starts_at=dt.datetime(year, 3, 5, 9, tzinfo=tz), ends_at=dt.datetime(year, 3, 5, 11, tzinfo=tz)
    )
    april = make_event(
        place["other"],
        starts_at=dt.datetime(year, 4, 1, 0, 30, tzinfo=tz),
        ends_at=dt.datetime(year, 4, 1, 2, tzinfo=tz),
    )
    ids = lambda q: [e["id"] for e in api_client.get(f"/api/v1/events/?{q}").json()["results"]]  # noqa: E731
    assert ids(f"month={year}-03") == [march.pk]
    assert ids(f"month={year}-04") == [april.pk]  # 00:30 local on 1 April is April, though UTC says March
    assert ids("center=SC-OTH") == [april.pk]
    assert ids(f"center=SC-EVT&month={year}-04") == []
    for bad in ("month=2026-13", "month=", "center=NOPE", "kind=staff_training"):
        answer = api_client.get(f"/api/v1/events/?{bad}")
        assert answer.status_code == 400 and answer.json()["code"] == "validation_error", bad


def test_sign_up_201_then_409_event_full_and_already_registered(place, api_client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=1)
    url = f"/api/v1/events/{event.pk}/registrations/"
    with django_assert_max_num_queries(19):  # incl. the per-phone daily count, the outbox dispatch and the SMS row
        ok = api_client.post(url, {"name": "王阿姨", "phone": "13900000101"}, format="json")
    assert ok.status_code == 201, ok.json()
    body = ok.json()
    reg = Registration.objects.get()
    assert body == {
        "id": reg.pk,
        "event": event.pk,
        "name": "王阿姨",
        "phone_last4": "0101",
        "code": reg.code,
        "status": "registered",
        "created_at": body["created_at"],
    }
    again = api_client.post(url, {"name": "王阿姨", "phone": "13900000101"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_registered")
    full = api_client.post(url, {"name": "李", "phone": "13900000102"}, format="json")
    assert (full.status_code, full.json()["code"]) == (409, "event_full")
    bad = api_client.post(url, {"name": "李", "phone": "12"}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    training = make_event(place["center"], kind="staff_training")
    assert (
        api_client.post(
            f"/api/v1/events/{training.pk}/registrations/", {"name": "x", "phone": "13900000103"}, format="json"
        ).status_code
        == 404
    )
    assert Registration.objects.count() == 1


def test_sign_up_is_throttled_per_address(place, api_client):
    event = make_event(place["center"], capacity=50)
    SimpleRateThrottle.THROTTLE_RATES = dict(api_settings.DEFAULT_THROTTLE_RATES, event_signup="2/min")
    url = f"/api/v1/events/{event.pk}/registrations/"
    codes = [
        api_client.post(url, {"name": "x", "phone": f"1390000010{n}"}, format="json").status_code for n in range(3)
    ]
    assert codes == [201, 201, 429]
    assert Registration.objects.count() == 2
