"""Factories for partners, webhooks and logistics (platform work)."""

import itertools

import factory

from partners.choices import PartnerKind
from partners.models import Partner, WebhookEndpoint
from partners.webhooks import new_secret

_phone = itertools.count(10000000)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Factory partner {n}")
    kind = PartnerKind.RETAILER


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    partner = factory.SubFactory(PartnerFactory)
    url = "https://hooks.example.com/servicehub"
    events = factory.LazyFunction(lambda: ["ticket.status_changed", "shipment.updated"])
    secret = factory.LazyFunction(new_secret)


def make_ticket(
    *,
    center=None,
    origin_center=None,
    status="booked",
    channel="appointment",
    customer_name="王小明",
    phone=None,
    device=None,
):
    """A ticket written directly (no service): for tests that need a ticket in a given state."""
    from repairs.models import Customer, RepairTicket
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.warranty import DeviceFactory

    center = center or ServiceCenterFactory()
    phone = phone or f"+86139{next(_phone):08d}"
    customer = Customer.objects.create(name=customer_name, phone=phone)
    n = RepairTicket.objects.count() + 1
    return RepairTicket.objects.create(
        service_no=f"T{n:07d}X{next(_phone) % 1000:03d}",
        center=center,
        origin_center=origin_center,
        channel=channel,
        customer=customer,
        device=device or DeviceFactory(),
        fault_category="screen",
        status=status,
    )
