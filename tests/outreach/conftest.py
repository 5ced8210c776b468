import datetime as dt

import pytest
from django.utils import timezone

from outreach.models import Event
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff


def make_event(center, *, days=3, capacity=10, kind="customer_class", public=None, title_zh="长者手机课堂", **kw):
    starts = timezone.now() + dt.timedelta(days=days)
    return Event.objects.create(
        center=center,
        kind=kind,
        title_zh=title_zh,
        title_en=kw.pop("title_en", "Phone class for seniors"),
        venue_name=kw.pop("venue_name", "曹杨新村社区中心"),
        venue_address=kw.pop("venue_address", "兰溪路 100 号"),
        starts_at=kw.pop("starts_at", starts),
        ends_at=kw.pop("ends_at", starts + dt.timedelta(hours=2)),
        capacity=capacity,
        public=(kind != "staff_training") if public is None else public,
        **kw,
    )


@pytest.fixture
def place(db):
    center = ServiceCenterFactory(code="SC-EVT", name="上海曹杨服务中心")
    other = ServiceCenterFactory(code="SC-OTH", name="上海田林服务中心")
    users = {
        "desk": staff(center, "front_desk", username="evdesk"),
        "manager": staff(center, "manager", username="evmanager"),
        "other_desk": staff(other, "front_desk", username="othdesk"),
    }
    actors = {k: actor_for_user(u) for k, u in users.items()}
    return {"center": center, "other": other, "users": users, "actors": actors}
