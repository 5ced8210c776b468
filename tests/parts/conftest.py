"""Shared fixtures for the parts tests: a center with its hub and staff, an out-of-warranty phone, parts."""

import datetime as dt

import pytest
from django.utils import timezone

from centers.choices import CenterKind
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.parts import part_for
from tests.factories.repairs import catalog, staff
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory


@pytest.fixture
def hub(db):
    return ServiceCenterFactory(code="HUB01", kind=CenterKind.MAIL_IN_HUB)


@pytest.fixture
def center(hub):
    return ServiceCenterFactory(code="SC001", hub=hub)


@pytest.fixture
def people(center, hub):
    users = {
        "desk": staff(center, "front_desk"),
        "eng": staff(center, "engineer", certified=True),
        "eng2": staff(center, "engineer", certified=True),
        "manager": staff(center, "manager"),
        "hub": staff(hub, "front_desk"),
    }
    return {k: actor_for_user(u) for k, u in users.items()}


@pytest.fixture
def model(db):
    StatutoryPolicyFactory(category="phone")
    return DeviceModelFactory(code="P60", name="Phone 60")


@pytest.fixture
def ops(model):
    return catalog(model)


@pytest.fixture
def screen(ops):
    """A serial-tracked screen for the screen operation."""
    return part_for(ops["screen"], serial_tracked=True, name_en="P60 screen", name_zh="P60 屏幕")


@pytest.fixture
def battery(ops):
    """A counted battery for the battery operation."""
    return part_for(ops["battery"], name_en="P60 battery", name_zh="P60 电池")


@pytest.fixture
def old_device(model):
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))


@pytest.fixture(autouse=True)
def _english(settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
