import datetime as dt

import pytest

from repairs.models import RepairTicket
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
from tests.factories.repairs import staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, make_imei, shanghai


@pytest.fixture
def shop(db):
    center = ServiceCenterFactory(code="SC-RET", name="上海南京东路服务中心")
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P70", name="Phone 70")
    retailer = PartnerFactory(name="Suning")
    hook = WebhookEndpointFactory(partner=retailer, events=["ticket.exchanged", "ticket.returned"])
    users = {
        "desk": staff(center, "front_desk", username="desk"),
        "eng": staff(center, "engineer", certified=True, username="eng"),
    }
    actors = {k: actor_for_user(u) for k, u in users.items()}
    return {"center": center, "model": model, "retailer": retailer, "hook": hook, "users": users, "actors": actors}


@pytest.fixture
def claim(shop):
    """``claim(sold=shanghai(...), raised=shanghai(...))`` -> a received ticket for a device sold then."""

    def make(*, sold: dt.datetime, raised: dt.datetime, **kw):
        device = DeviceFactory(model=shop["model"], sold_at=sold, retailer=shop["retailer"])
        ticket = walk_in(shop["center"], shop["actors"]["desk"], device=device, fault="other", **kw)
        RepairTicket.objects.filter(pk=ticket.pk).update(created_at=raised)
        ticket.refresh_from_db()
        return ticket

    return make


__all__ = ["make_imei", "shanghai"]
