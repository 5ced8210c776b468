"""Shared set-up of the quick-visit tests (visits): a center holding its Service Day today and an ordinary one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from centers.choices import DEFAULT_SERVICE_DAY_PERKS
from centers.models import ServiceDay, StaffMembership
from outreach.visits import visit_catalog_ensure
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.factories.users import StaffUserFactory

PHONE = "13812345678"


def hq_user(username="hq"):
    user = StaffUserFactory(username=username)
    user.save()
    StaffMembership.objects.create(user=user, center=None, role="hq")
    return user


@pytest.fixture
def desk(db):
    """``{"sd": center with a Service Day today, "plain": ordinary center, users, actors}`` and the catalog."""
    visit_catalog_ensure()
    today = timezone.localdate()
    sd = ServiceCenterFactory(code="SC-SD", name="上海南京东路服务中心", opened_on=dt.date(2020, 1, 1))
    plain = ServiceCenterFactory(code="SC-PL", name="杭州西湖服务中心", opened_on=dt.date(2020, 1, 1))
    ServiceDay.objects.create(center=sd, date=today, perks=list(DEFAULT_SERVICE_DAY_PERKS))
    users = {
        "desk": staff(sd, "front_desk", username="desk-sd"),
        "desk2": staff(sd, "front_desk", username="desk-sd-2"),
        "manager": staff(sd, "manager", username="manager-sd"),
        "eng": staff(sd, "engineer", username="eng-sd"),
        "plain_desk": staff(plain, "front_desk", username="desk-pl"),
    }
    return {"sd": sd, "plain": plain, "users": users, "actors": {k: actor_for_user(u) for k, u in users.items()}}
