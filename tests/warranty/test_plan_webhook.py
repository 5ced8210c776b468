"""A plan sold by a partner emits ``plan.activated`` to that partner only (outbox row, same transaction)."""

import pytest
from django.utils import timezone

from partners.models import WebhookDelivery
from servicehub.errors import DomainError
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, make_imei, purchase, screen_care

pytestmark = pytest.mark.django_db


@pytest.fixture
def device():
    model = DeviceModelFactory(code="MATE70W", category="phone", tier="flagship")
    return DeviceFactory(model=model, imei=make_imei(701), sold_at=timezone.now() - timezone.timedelta(days=2))


def test_partner_sale_emits_plan_activated_to_the_seller_only(device):
    product = screen_care()
    seller, other = PartnerFactory(name="Seller"), PartnerFactory(name="Other retailer")
    mine = WebhookEndpointFactory(partner=seller, events=["plan.activated"])
    WebhookEndpointFactory(partner=other, events=["plan.activated"])

    sold = purchase(device=device, product=product, partner=seller, channel="partner")

    deliveries = list(WebhookDelivery.objects.filter(event_type="plan.activated"))
    assert [d.endpoint_id for d in deliveries] == [mine.pk]
    assert deliveries[0].payload["purchase_id"] == sold.pk
    assert deliveries[0].payload["plan"] == product.code
    assert deliveries[0].payload["imei"] == device.imei


def test_counter_sale_without_partner_or_center_emits_nothing(device):
    WebhookEndpointFactory(partner=PartnerFactory(name="Listener"), events=["plan.activated"])
    purchase(device=device, product=screen_care())
    assert not WebhookDelivery.objects.filter(event_type="plan.activated").exists()


def test_refused_sale_emits_nothing(device):
    product = screen_care()
    seller = PartnerFactory(name="Seller 2")
    WebhookEndpointFactory(partner=seller, events=["plan.activated"])
    purchase(device=device, product=product, partner=seller, channel="partner")
    with pytest.raises(DomainError):
        purchase(device=device, product=product, partner=seller, channel="partner")  # already active
    assert WebhookDelivery.objects.filter(event_type="plan.activated").count() == 1
