"""Factories and helpers for the repairs app."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from centers.models import Certification, StaffMembership
from repairs.models import Customer, RepairOperation
from tests.factories.centers import ServiceCenterFactory
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory  # noqa: F401 (re-exported)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("phone",)

    name = "王小明"
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")


class RepairOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepairOperation
        django_get_or_create = ("device_model", "code")

    device_model = factory.SubFactory(DeviceModelFactory)
    code = "screen"
    name = factory.LazyAttribute(lambda o: f"{o.code} replacement")
    fault_category = factory.LazyAttribute(lambda o: {"back_cover": "other"}.get(o.code, o.code))
    part_price = Decimal("1000.00")
    refurbished_price = None
    labor = Decimal("100.00")
    fixed_price = None


def staff(center, role="front_desk", *, certified=False, username=None):
    """A staff user with an active membership at ``center`` (engineers optionally certified today)."""
    user = StaffUserFactory(**({"username": username} if username else {}))
    user.save()  # persist the password set by the factory (session auth hashes must match)
    StaffMembership.objects.create(user=user, center=center, role=role)
    if certified:
        today = timezone.localdate()
        Certification.objects.create(
            user=user,
            name="Repair engineer L2",
            number=f"CERT-{user.pk}",
            issued_on=today - dt.timedelta(days=100),
            expires_on=today + dt.timedelta(days=265),
        )
    return user


def catalog(model):
    """A small catalog for ``model``: screen, battery (fixed price), mainboard (refurbished), camera."""
    return {
        "screen": RepairOperationFactory(
            device_model=model,
            code="screen",
            part_price=Decimal("1099.00"),
            labor=Decimal("100.00"),
            fixed_price=Decimal("659.00"),
        ),
        "battery": RepairOperationFactory(
            device_model=model,
            code="battery",
            part_price=Decimal("199.00"),
            labor=Decimal("50.00"),
            fixed_price=Decimal("129.00"),
        ),
        "mainboard": RepairOperationFactory(
            device_model=model,
            code="mainboard",
            part_price=Decimal("2399.00"),
            labor=Decimal("150.00"),
            refurbished_price=Decimal("719.70"),
            fixed_price=Decimal("1439.00"),
        ),
        "camera": RepairOperationFactory(
            device_model=model,
            code="camera",
            part_price=Decimal("499.00"),
            labor=Decimal("80.00"),
        ),
    }


__all__ = [
    "CustomerFactory",
    "DeviceFactory",
    "DeviceModelFactory",
    "RepairOperationFactory",
    "ServiceCenterFactory",
    "catalog",
    "staff",
]


def walk_in(center, actor, *, device=None, phone="13812345678", name="王小明", fault="screen", **kw):
    """A walk-in checked in through the service (status ``received``)."""
    from repairs.services import ticket_check_in

    device = device or DeviceFactory()
    return ticket_check_in(
        actor=actor,
        center=center,
        customer={"name": name, "phone": phone},
        device={"imei": device.imei, "model": device.model.code},
        fault_category=fault,
        **kw,
    )


def run(ticket, *steps):
    """Apply ``(action, actor[, params])`` steps through ``ticket_transition``; returns the fresh ticket.

    The pseudo-action ``"pay"`` takes the amount due in cash (``payments.services.payment_create``), as the
    counter does before the hand-over (issue #19: no hand-over while money is due)."""
    from repairs.models import RepairTicket
    from repairs.services import ticket_transition

    for step in steps:
        action, actor, *rest = step
        params = rest[0] if rest else {}
        if action == "pay":
            pay_due(ticket, actor, **params)
            ticket = RepairTicket.objects.get(pk=ticket.pk)
            continue
        ticket = ticket_transition(ticket_id=ticket.pk, action=action, actor=actor, **params)
    return ticket


def pay_due(ticket, actor, method="cash", **kwargs):
    """Take what the ticket owes (nothing when nothing is due); returns the payment or None."""
    from payments.selectors import ticket_money
    from payments.services import payment_create

    if ticket_money(ticket).amount_due <= 0:
        return None
    return payment_create(actor=actor, ticket_id=ticket.pk, method=method, **kwargs)
