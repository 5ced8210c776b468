"""One place per rule: every caller of a moved rule gives the same answer (and nobody keeps a copy)."""

import datetime as dt
import pathlib
import re

import pytest
from django.utils import timezone, translation

from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ("booking", "centers", "loaners", "logistics", "notifications", "ops", "partners", "repairs", "servicehub")
APPS = (*APPS, "warranty", "web")


def _sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, path.read_text()


def _where(pattern: str) -> set[str]:
    rx = re.compile(pattern)
    return {str(path.relative_to(ROOT)) for path, text in _sources() if rx.search(text)}


# --- device identity -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_device_intake_refuses_a_device_without_imei_or_serial_in_the_same_words():
    from booking import services as booking_services
    from repairs.api.serializers import TicketDeviceInSerializer
    from tests.factories.booking import booking_input, local, open_center, tomorrow
    from warranty import services as warranty_services
    from warranty.api.serializers import DeviceCreateSerializer, PlanPurchaseCreateSerializer
    from warranty.identity import DEVICE_ID_REQUIRED

    messages = []
    with pytest.raises(DomainError) as err:
        warranty_services.device_get_or_register(imei="", serial="  ")
    messages.append((err.value.field, str(err.value.message)))
    center = open_center()
    with pytest.raises(DomainError) as err:
        booking_services.appointment_book(
            center=center, start=local(tomorrow(), 10), **booking_input(imei="", serial="")
        )
    messages.append((err.value.field, str(err.value.message)))
    when = "2025-01-01T10:00:00+08:00"
    for serializer, data in (
        (TicketDeviceInSerializer, {}),
        (DeviceCreateSerializer, {"model": "PHN-1", "sold_at": when, "serial": " "}),
        (PlanPurchaseCreateSerializer, {"plan": "CARE", "purchased_at": when, "price": "10.00"}),
    ):
        s = serializer(data=data)
        assert not s.is_valid()
        messages.append(("imei", str(s.errors["imei"][0])))
    assert messages == [("imei", str(DEVICE_ID_REQUIRED))] * 5
    with translation.override("zh-hans"):
        assert str(DEVICE_ID_REQUIRED) == "请提供设备的 IMEI 或序列号。"
    # Nobody keeps a copy of the check or the message.
    assert _where(r"IMEI or (the )?serial") == {"warranty/identity.py"}


# --- phones --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_phone_numbers_are_normalised_in_one_place():
    from booking import services as booking_services
    from repairs import services as repairs_services
    from servicehub import phones

    assert repairs_services.phone_normalize is phones.phone_normalize
    for raw in ("13800138000", "138 0013 8000", "+86 138 0013 8000", "0086-138-0013-8000"):
        callback = booking_services.callback_request_create(
            name="王", phone=raw, topic="repair", preferred_window="morning"
        )
        assert callback.phone == phones.phone_normalize(raw) == "+8613800138000"
    assert phones.phone_normalize("021-61234567") == "+862161234567"  # a landline is a phone ...
    with pytest.raises(DomainError):
        phones.mobile_normalize("021-61234567")  # ... but cannot receive an SMS
    assert _where(r"phonenumbers\.parse\(") == {"servicehub/phones.py"}


# --- distance ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_loaner_search_measures_distance_like_the_center_search():
    from centers.geo import haversine_km
    from loaners.selectors import centers_with_loaner_nearby
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.loaners import LoanerFactory

    here = ServiceCenterFactory(code="SH-1", lat=31.2304, lng=121.4737)
    far = ServiceCenterFactory(code="BJ-1", lat=39.9042, lng=116.4074)
    LoanerFactory(home_center=far)
    rows = centers_with_loaner_nearby(center=here, tier="flagship")
    assert [(r["code"], r["distance_km"]) for r in rows] == [
        ("BJ-1", round(haversine_km(31.2304, 121.4737, 39.9042, 116.4074), 1))
    ]
    assert _where(r"6371|math\.asin|\bASin\(") <= {"centers/geo.py", "centers/selectors.py"}


# --- masking -------------------------------------------------------------------------------------


def test_who_sees_contacts_masked_and_how_an_email_is_masked():
    from servicehub.masking import contact_masked_for, mask_email

    assert contact_masked_for(Actor(partner=object(), center_ids=frozenset({1}))) is True
    assert contact_masked_for(Actor(user=object(), center_ids=frozenset({1}))) is False
    assert contact_masked_for(SYSTEM) is False
    assert mask_email("lilei@example.com") == "l***@example.com"
    assert _where(r"actor\.user is None and not actor\.is_system") == {"servicehub/masking.py"}
    assert _where(r"\*\*\*@") == {"servicehub/masking.py"}


@pytest.mark.django_db
def test_the_notifications_admin_masks_an_email_with_the_shared_rule():
    from django.contrib import admin

    from notifications.admin import NotificationAdmin
    from notifications.models import Notification
    from servicehub.masking import mask_email

    row = Notification(channel="email", recipient="lilei@example.com")
    assert NotificationAdmin(Notification, admin.site).masked_recipient(row) == mask_email(row.recipient)


# --- the booking window --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_booking_page_and_the_booking_service_share_one_window(client):
    from booking import services as booking_services
    from booking.selectors import booking_window
    from tests.factories.booking import booking_input, local, open_center

    center = open_center()
    today = timezone.localdate()
    first, last = booking_window(today=today)
    assert (first, last) == (today + dt.timedelta(days=1), today + dt.timedelta(days=30))

    page = client.get("/book/", {"center": center.code, "date": last.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert f'value="{local(last, 10).isoformat()}"' in page.content.decode()
    booked = booking_services.appointment_book(center=center, start=local(last, 10), **booking_input())
    assert booked.start == local(last, 10)

    after = last + dt.timedelta(days=1)
    page = client.get("/book/", {"center": center.code, "date": after.isoformat()}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    with pytest.raises(DomainError) as err:
        booking_services.appointment_book(center=center, start=local(after, 10), **booking_input())
    assert err.value.field == "start"
    assert not _where(r"DAYS_SHOWN|def _booking_window")
