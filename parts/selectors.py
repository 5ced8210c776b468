"""Reads for parts: stock per location, availability for a quote, a ticket's parts, reorder suggestions,
and the network's stock and waits by region (HQ). No writes; fixed query counts, whatever the data size."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from servicehub.actors import Actor

from .choices import MoveKind, ReservationStatus
from .models import OperationPart, PartReservation, ReorderPoint, StockLevel, StockMove, StockTransfer


def stock_levels(*, location_id: int, part: str = "", model: str = "") -> QuerySet[StockLevel]:
    """The stock rows of one location (``part``: part number; ``model``: a device model code), by part number."""
    qs = (
        StockLevel.objects.filter(location_id=location_id, part__active=True)
        .select_related("part")
        .prefetch_related("part__device_models")
        .annotate(available_count=ExpressionWrapper(F("on_hand") - F("reserved"), output_field=IntegerField()))
        .order_by("part__part_number", "pk")
    )
    if part:
        qs = qs.filter(part__part_number=part)
    if model:
        qs = qs.filter(part__device_models__code=model)
    return qs


def availability_for_operations(*, location_id: int, operation_ids: list[int]) -> dict[tuple[int, str], dict]:
    """``{(operation id, grade): {"part", "on_hand", "reserved", "available"}}`` at a location (two queries)."""
    mapped = list(OperationPart.objects.filter(operation_id__in=operation_ids).select_related("part").order_by("pk"))
    levels = {
        lv.part_id: lv
        for lv in StockLevel.objects.filter(location_id=location_id, part_id__in=[m.part_id for m in mapped])
    }
    out: dict[tuple[int, str], dict] = {}
    for m in mapped:
        lv = levels.get(m.part_id)
        on_hand, reserved = (lv.on_hand, lv.reserved) if lv else (0, 0)
        out[(m.operation_id, m.grade)] = {
            "part": m.part.part_number,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
        }
    return out


def ticket_parts(*, ticket_id: int) -> list[dict[str, str]]:
    """The ticket's parts for the API: ``[{"part", "status"}]`` (released ones left out), one query."""
    rows = (
        PartReservation.objects.filter(ticket_id=ticket_id)
        .exclude(status=ReservationStatus.RELEASED)
        .order_by("pk")
        .values_list("part__part_number", "status")
    )
    return [{"part": number, "status": status} for number, status in rows]


def ticket_reservations(*, ticket_id: int) -> list[PartReservation]:
    """The ticket's active and consumed reservations with their parts and units (workspace, bench)."""
    return list(
        PartReservation.objects.filter(ticket_id=ticket_id)
        .exclude(status=ReservationStatus.RELEASED)
        .select_related("part", "unit")
        .order_by("pk")
    )


def reorder_suggestions(*, location_id: int, days: int = 30, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """What to order for a location: per reorder point, usage (consumed) over the last ``days`` and the
    quantity that brings available + incoming back to the point plus its order quantity, or to cover the
    same usage again, whichever is more. Rows with nothing to order are left out. Three queries.
    """
    now = now or timezone.now()
    points = list(
        ReorderPoint.objects.filter(location_id=location_id).select_related("part").order_by("part__part_number")
    )
    part_ids = [p.part_id for p in points]
    levels = {lv.part_id: lv for lv in StockLevel.objects.filter(location_id=location_id, part_id__in=part_ids)}
    used = dict(
        StockMove.objects.filter(
            location_id=location_id, part_id__in=part_ids, kind=MoveKind.CONSUME, at__gte=now - dt.timedelta(days=days)
        )
        .values_list("part_id")
        .annotate(n=Sum("quantity"))
        .values_list("part_id", "n")
    )
    incoming = dict(
        StockTransfer.objects.filter(to_location_id=location_id, part_id__in=part_ids, status="shipped")
        .values_list("part_id")
        .annotate(n=Sum("quantity"))
        .values_list("part_id", "n")
    )
    rows = []
    for p in points:
        lv = levels.get(p.part_id)
        available = (lv.on_hand - lv.reserved) if lv else 0
        usage = int(used.get(p.part_id) or 0)
        coming = int(incoming.get(p.part_id) or 0)
        target = max(p.min_available + p.reorder_qty, math.ceil(usage))
        suggested = max(0, target - available - coming) if available + coming < p.min_available else 0
        if suggested or available < p.min_available:
            rows.append(
                {
                    "part_id": p.part_id,
                    "part": p.part.part_number,
                    "name": p.part.name,
                    "available": available,
                    "incoming": coming,
                    "used": usage,
                    "reorder_point": p.min_available,
                    "suggested": suggested,
                }
            )
    return rows


def stock_by_region(*, actor: Actor, days: int = 30, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per province (of the locations the actor sees): on hand, reserved, used in the last ``days``,
    stock-outs (rows with nothing available while a ticket waits or below a reorder point), tickets waiting
    for parts and the average wait of the parts that arrived in that period. Four grouped queries."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    levels = StockLevel.objects.all()
    moves = StockMove.objects.filter(kind=MoveKind.CONSUME, at__gte=since)
    waits = PartReservation.objects.filter(replenishment__isnull=False)
    if not actor.sees_all_centers:
        ids = actor.center_ids or frozenset()
        levels, moves, waits = (
            levels.filter(location_id__in=ids),
            moves.filter(location_id__in=ids),
            waits.filter(location_id__in=ids),
        )
    key = "location__province__name"
    out: dict[str, dict[str, Any]] = {}

    def row(name: str | None) -> dict[str, Any]:
        return out.setdefault(
            name or "—",
            {
                "region": name or "—",
                "on_hand": 0,
                "reserved": 0,
                "used": 0,
                "stock_outs": 0,
                "waiting": 0,
                "avg_wait_hours": None,
            },
        )

    for r in levels.values(key).annotate(
        on_hand_sum=Coalesce(Sum("on_hand"), 0),
        reserved_sum=Coalesce(Sum("reserved"), 0),
        outs=Count("pk", filter=Q(on_hand__lte=F("reserved"))),
    ):
        row(r[key]).update(on_hand=r["on_hand_sum"], reserved=r["reserved_sum"], stock_outs=r["outs"])
    for r in moves.values(key).annotate(n=Coalesce(Sum("quantity"), 0)):
        row(r[key])["used"] = r["n"]
    for r in waits.filter(status=ReservationStatus.AWAITING).values(key).annotate(n=Count("pk")):
        row(r[key])["waiting"] = r["n"]
    wait = ExpressionWrapper(F("reserved_at") - F("created_at"), output_field=DurationField())
    for r in waits.filter(reserved_at__gte=since).values(key).annotate(avg=Avg(wait)):
        if r["avg"] is not None:
            row(r[key])["avg_wait_hours"] = round(r["avg"].total_seconds() / 3600, 1)
    return sorted(out.values(), key=lambda r: r["region"])


def parts_dashboard(
    *, center_ids: frozenset[int] | None, days: int = 30, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Stock-outs, tickets waiting for parts and the average parts wait (hours) for dashboards. Three queries."""
    now = now or timezone.now()
    levels = StockLevel.objects.filter(on_hand__lte=F("reserved"))
    waits = PartReservation.objects.filter(replenishment__isnull=False)
    if center_ids is not None:
        levels = levels.filter(location_id__in=center_ids)
        waits = waits.filter(location_id__in=center_ids)
    wait = ExpressionWrapper(F("reserved_at") - F("created_at"), output_field=DurationField())
    avg = waits.filter(reserved_at__gte=now - dt.timedelta(days=days)).aggregate(avg=Avg(wait))["avg"]
    return {
        "stock_outs": levels.count(),
        "waiting": waits.filter(status=ReservationStatus.AWAITING).count(),
        "avg_wait_hours": round(avg.total_seconds() / 3600, 1) if avg is not None else None,
    }
