"""Shared fixtures for the repairs tests: a center with staff, a device with a catalog."""

import datetime as dt

import pytest
from django.utils import timezone

from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory, catalog, staff
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory


@pytest.fixture
def center(db):
    return ServiceCenterFactory(opened_on=dt.date(2020, 1, 1))


@pytest.fixture
def people(center):
    """Actors at ``center``: front desk, two certified engineers, an uncertified one, a manager."""
    users = {
        "desk": staff(center, "front_desk"),
        "eng": staff(center, "engineer", certified=True),
        "eng2": staff(center, "engineer", certified=True),
        "rookie": staff(center, "engineer"),
        "manager": staff(center, "manager"),
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
def old_device(model):
    """Out of statutory warranty (sold 2 years ago)."""
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))


@pytest.fixture
def customer(db):
    return CustomerFactory(phone="+8613812345678", name="王小明")


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read English messages; the site default is zh-hans (compiled translations)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
