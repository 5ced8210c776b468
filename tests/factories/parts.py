"""Factories and helpers for the parts app."""

from decimal import Decimal

import factory

from parts import services
from parts.models import OperationPart, Part
from servicehub.actors import SYSTEM


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part
        django_get_or_create = ("part_number",)

    part_number = factory.Sequence(lambda n: f"PN-{n:05d}")
    name_zh = "屏幕总成"
    name_en = "Screen assembly"
    kind = "screen"
    grade = "new"
    serial_tracked = False
    cost = Decimal("450.00")


def part_for(operation, *, grade="new", serial_tracked=False, **kw):
    """A part consumed by ``operation`` at ``grade`` (mapped through ``OperationPart``)."""
    part = PartFactory(
        part_number=kw.pop("part_number", f"{operation.device_model.code}-{operation.code}-{grade}".upper()),
        kind=operation.code,
        grade=grade,
        serial_tracked=serial_tracked,
        name_en=kw.pop("name_en", f"{operation.code} part"),
        name_zh=kw.pop("name_zh", "配件"),
        **kw,
    )
    part.device_models.add(operation.device_model)
    OperationPart.objects.get_or_create(operation=operation, grade=grade, defaults={"part": part})
    return part


def stock(location, part, quantity, *, serials=None):
    """Receive ``quantity`` of ``part`` at ``location`` through the service (the ledger row included)."""
    if part.serial_tracked and serials is None:
        serials = [f"{part.part_number}-S{i}" for i in range(quantity)]
    return services.stock_receive(
        actor=SYSTEM, location_id=location.pk, part_id=part.pk, quantity=quantity, serials=serials, reason="test"
    )
