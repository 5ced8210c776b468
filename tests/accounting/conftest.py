"""Shared fixtures for the accounting tests: a center with a desk, a manager and HQ; a ticket to pay for."""

import datetime as dt

import pytest

from centers.models import StaffMembership
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff, walk_in
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import StatutoryPolicyFactory

VALID_USCC = "91110000600037341L"
BAD_CHECKSUM_USCC = "91110000600037341X"


@pytest.fixture
def center(db):
    return ServiceCenterFactory(code="SC-ACC", name="上海南京东路服务中心", opened_on=dt.date(2020, 1, 1))


@pytest.fixture
def other_center(db):
    return ServiceCenterFactory(code="SC-OTH", name="北京西单服务中心", opened_on=dt.date(2020, 1, 1))


@pytest.fixture
def users(center):
    hq = StaffUserFactory(username="hq")
    hq.save()
    StaffMembership.objects.create(user=hq, center=None, role="hq")
    return {
        "desk": staff(center, "front_desk", username="desk"),
        "eng": staff(center, "engineer", certified=True, username="eng"),
        "manager": staff(center, "manager", username="manager"),
        "hq": hq,
    }


@pytest.fixture
def actors(users):
    return {k: actor_for_user(u) for k, u in users.items()}


@pytest.fixture
def ticket(center, actors):
    StatutoryPolicyFactory(category="phone")
    return walk_in(center, actors["desk"], phone="13812345678")
