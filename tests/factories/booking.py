"""Factories and helpers for booking tests: a center open every day, slots, booking input."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from booking.models import SlotRule
from centers.models import OpeningHours
from tests.factories.centers import ServiceCenterFactory
from tests.factories.warranty import DeviceModelFactory, make_imei

_phones = itertools.count(1)


def next_phone() -> str:
    """A valid Chinese mobile number, different each call."""
    return f"139{next(_phones) % 100_000_000:08d}"


def open_center(*, opens=dt.time(9, 0), closes=dt.time(18, 0), services=None, **kwargs):
    """A center open every day from ``opens`` to ``closes`` that takes appointments."""
    center = ServiceCenterFactory(
        services=services or ["phone", "tablet", "walk_in", "appointment", "loaners", "on_site", "smart_screen", "pc"],
        **kwargs,
    )
    OpeningHours.objects.bulk_create(
        [OpeningHours(center=center, weekday=d, opens=opens, closes=closes) for d in range(7)]
    )
    return center


class SlotRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlotRule

    center = factory.SubFactory(ServiceCenterFactory)
    weekday = 0
    slot_minutes = 30
    desks = 2


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone())


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def booking_input(**overrides) -> dict:
    """Keyword arguments for ``appointment_book`` except center and start."""
    model = overrides.pop("model", None) or DeviceModelFactory(code="PHN-1", name="Phone One")
    data = {
        "name": "王小明",
        "phone": next_phone(),
        "imei": make_imei(),
        "model_code": model.code,
        "issue": "屏幕碎了",
        "fault_category": "screen",
    }
    data.update(overrides)
    return data
