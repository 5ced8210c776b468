"""Demo parts catalog and stock (called by ``manage.py seed_demo``; idempotent, fast).

Every published repair operation of the demo phones gets a new-original part (and a refurbished one where
the catalog offers a refurbished price), mapped through ``OperationPart``. Hubs hold 20 of each; service
centers and flagships hold 3 of each, except rear cameras, which are out of stock at the centers (a
stock-out shows on the quote builder, and approving a camera repair sends the ticket to ``awaiting_parts``
and asks the hub). Screens and mainboards are serial-tracked. Every opening stock row has its receipt in
the ledger; a second run adds nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from centers.choices import CenterKind
from centers.models import ServiceCenter
from repairs.choices import PartGrade
from repairs.models import RepairOperation
from servicehub.actors import SYSTEM

from .choices import MoveKind
from .models import OperationPart, Part, ReorderPoint, StockLevel, StockMove, StockUnit

SERIAL_KINDS = ("screen", "mainboard")
NAMES_ZH = {
    "screen": "屏幕总成",
    "battery": "电池",
    "mainboard": "主板",
    "camera": "后置摄像头",
    "back_cover": "后盖",
    "charging_port": "充电尾插",
}
HUB_QTY, CENTER_QTY = 20, 3
OUT_AT_CENTERS = ("camera",)


def _catalog() -> list[Part]:
    parts = []
    ops = RepairOperation.objects.filter(published=True, code__in=list(NAMES_ZH)).select_related("device_model")
    for op in ops.order_by("device_model__code", "code"):
        grades = [PartGrade.NEW] + ([PartGrade.REFURBISHED] if op.refurbished_price is not None else [])
        for grade in grades:
            suffix = "R" if grade == PartGrade.REFURBISHED else "N"
            part, _made = Part.objects.get_or_create(
                part_number=f"{op.device_model.code}-{op.code.upper()}-{suffix}",
                defaults={
                    "name_zh": f"{op.device_model.name} {NAMES_ZH[op.code]}" + ("（翻新）" if suffix == "R" else ""),
                    "name_en": f"{op.device_model.name} {op.code.replace('_', ' ')}"
                    + (" (refurbished)" if suffix == "R" else ""),
                    "kind": op.code,
                    "grade": grade,
                    "serial_tracked": op.code in SERIAL_KINDS,
                    "cost": (op.part_price * Decimal("0.45")).quantize(Decimal("0.01")),
                },
            )
            part.device_models.add(op.device_model)
            OperationPart.objects.get_or_create(operation=op, grade=grade, defaults={"part": part})
            parts.append(part)
    return parts


def _stock(parts: list[Part]) -> int:
    """Opening stock, written in bulk (thousands of rows: one service call each would take minutes). Each
    level gets its ``receipt`` ledger row with the counters after it, as ``stock_receive`` writes them."""
    kinds = (CenterKind.MAIL_IN_HUB, CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP)
    locations = list(ServiceCenter.objects.filter(active=True, kind__in=kinds).order_by("pk"))
    have = set(StockLevel.objects.values_list("location_id", "part_id"))
    now = timezone.now()
    levels, moves, units, points = [], [], [], []
    for loc in locations:
        hub = loc.kind == CenterKind.MAIL_IN_HUB
        for part in parts:
            if (loc.pk, part.pk) in have:
                continue
            qty = HUB_QTY if hub else (0 if part.kind in OUT_AT_CENTERS else CENTER_QTY)
            levels.append(StockLevel(location=loc, part=part, on_hand=qty))
            if not hub:
                points.append(ReorderPoint(location=loc, part=part, min_available=2, reorder_qty=5))
            if qty == 0:
                continue  # known, none on the shelf: the demo stock-out
            moves.append(
                StockMove(
                    location=loc,
                    part=part,
                    kind=MoveKind.RECEIPT,
                    quantity=qty,
                    on_hand_after=qty,
                    reserved_after=0,
                    reason="demo opening stock",
                    actor_label=SYSTEM.label,
                    at=now,
                )
            )
            if part.serial_tracked:
                units += [
                    StockUnit(part=part, serial=f"{part.part_number}-{loc.code}-{i:03d}", location=loc)
                    for i in range(qty)
                ]
    StockLevel.objects.bulk_create(levels, batch_size=1000)
    StockMove.objects.bulk_create(moves, batch_size=1000)
    StockUnit.objects.bulk_create(units, batch_size=1000, ignore_conflicts=True)
    ReorderPoint.objects.bulk_create(points, batch_size=1000, ignore_conflicts=True)
    return len(moves)


def seed(*, out, options) -> None:
    with transaction.atomic():
        parts = _catalog()
        received = _stock(parts)
    out.write(f"  parts: {len(parts)} parts in the catalog, {received} opening receipts")
