"""Shared set-up of the amenity tests: two centers of the network, each with umbrellas and power banks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loaners.models import Amenity
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

PHONE = "13812345678"
PHONE_E164 = "+8613812345678"


def make_amenity(center, kind="umbrella", *, on_hand=5, deposit="20.00", **kw) -> Amenity:
    names = {"umbrella": ("雨伞", "Umbrella"), "power_bank": ("充电宝", "Power bank")}
    zh, en = names.get(kind, ("老花镜", "Reading glasses"))
    return Amenity.objects.create(
        center=center,
        kind=kind,
        name_zh=kw.pop("name_zh", zh),
        name_en=kw.pop("name_en", en),
        deposit=Decimal(deposit),
        on_hand=on_hand,
        **kw,
    )


@pytest.fixture
def desks(db):
    """``{"a", "b": centers, "umbrella", "power_bank": amenities at a, "umbrella_b": at b, users, actors}``."""
    a = ServiceCenterFactory(code="SC-AM1", name="上海南京东路服务中心")
    b = ServiceCenterFactory(code="SC-AM2", name="上海徐家汇服务中心")
    users = {
        "desk": staff(a, "front_desk", username="am-desk"),
        "manager": staff(a, "manager", username="am-manager"),
        "eng": staff(a, "engineer", username="am-eng"),
        "desk_b": staff(b, "front_desk", username="am-desk-b"),
    }
    return {
        "a": a,
        "b": b,
        "umbrella": make_amenity(a, "umbrella", on_hand=5, deposit="20.00"),
        "power_bank": make_amenity(a, "power_bank", on_hand=2, deposit="0.00", loan_days=1),
        "umbrella_b": make_amenity(b, "umbrella", on_hand=1, deposit="20.00"),
        "users": users,
        "actors": {k: actor_for_user(u) for k, u in users.items()},
    }
