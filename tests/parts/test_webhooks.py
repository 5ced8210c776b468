"""``parts.low_stock`` reaches the partners operating the location as a webhook, built from the event alone."""

import pytest

from partners.models import WebhookDelivery
from parts import services
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
from tests.factories.parts import stock

pytestmark = pytest.mark.django_db


def test_low_stock_webhook_goes_to_the_operators_of_the_center_only(center, hub, people, battery):
    operator = PartnerFactory()
    operator.centers.add(center)
    ep = WebhookEndpointFactory(partner=operator, events=["parts.low_stock"])
    WebhookEndpointFactory(partner=operator, events=["loan.overdue"])  # not subscribed to it
    stranger = PartnerFactory()
    stranger.centers.add(hub)
    WebhookEndpointFactory(partner=stranger, events=["parts.low_stock"])
    stock(center, battery, 2)
    services.reorder_point_set(
        actor=people["manager"], location_id=center.pk, part_id=battery.pk, min_available=2, reorder_qty=4
    )

    services.stock_adjust(actor=people["manager"], location_id=center.pk, part_id=battery.pk, delta=-1, reason="drop")

    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint_id == ep.pk
    assert delivery.event_type == "parts.low_stock"
    data = delivery.payload
    assert {k: data[k] for k in ("center", "part", "on_hand", "reserved", "available", "reorder_point")} == {
        "center": center.code,
        "part": battery.part_number,
        "on_hand": 1,
        "reserved": 0,
        "available": 1,
        "reorder_point": 2,
    }
    # Another drop stays below the point: no second announcement.
    services.stock_adjust(actor=people["manager"], location_id=center.pk, part_id=battery.pk, delta=-1, reason="drop")
    assert WebhookDelivery.objects.count() == 1
