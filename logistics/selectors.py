"""Reads for shipments: what an actor may see, and a ticket's chain of custody."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Shipment, ShipmentEvent


def shipments_for_actor(*, actor) -> QuerySet[Shipment]:
    """Shipments ``actor`` may see: a courier partner its own; others those of tickets at their centers.

    System actors and HQ staff see all; anonymous callers none.
    """
    qs = Shipment.objects.all()
    if getattr(actor, "is_system", False):
        return qs
    partner = getattr(actor, "partner", None)
    if partner is None and getattr(actor, "user", None) is None:
        return qs.none()
    if actor.center_ids is None and partner is None:
        return qs
    centers = list(actor.center_ids or ())
    visible = Q(ticket__center_id__in=centers) | Q(ticket__origin_center_id__in=centers)
    if partner is not None:
        visible |= Q(courier_partner=partner)
    return qs.filter(visible)


def shipment_detail(*, actor, shipment_id: int) -> Shipment | None:
    return (
        shipments_for_actor(actor=actor)
        .select_related("ticket", "origin_center", "destination_center")
        .prefetch_related("events")
        .filter(pk=shipment_id)
        .first()
    )


def custody_chain(*, ticket_id: int) -> list[dict]:
    """The ticket's chain of custody: every shipment event of every leg, in time order."""
    rows = ShipmentEvent.objects.filter(shipment__ticket_id=ticket_id).select_related("shipment").order_by("at", "pk")
    return [
        {
            "shipment": e.shipment_id,
            "leg": e.shipment.leg,
            "event": e.event,
            "at": e.at,
            "seal_no": e.seal_no,
            "seal_ok": e.seal_ok,
            "tracking_no": e.tracking_no or e.shipment.tracking_no,
            "courier": e.shipment.courier,
            "by": e.actor_label,
        }
        for e in rows
    ]


# Legs in the words of the API (``shipments: [{"leg": "pickup"/"return", ...}]``); the transfer legs keep their names.
API_LEG = {"customer_to_hub": "pickup", "hub_to_customer": "return"}
CUSTOMER_LEGS = ("customer_to_hub", "hub_to_customer")


def ticket_shipments(*, ticket_id: int, customer_legs_only: bool = False) -> list[dict]:
    """A ticket's courier legs, oldest first, as the API shows them (one query): the tracking number shows
    as soon as the courier has it, before any scan. ``customer_legs_only``: the pickup and the return only
    (what the customer's tracking answer shows)."""
    from .choices import carrier_label

    qs = Shipment.objects.filter(ticket_id=ticket_id)
    if customer_legs_only:
        qs = qs.filter(leg__in=CUSTOMER_LEGS)
    return [
        {
            "leg": API_LEG.get(s.leg, s.leg),
            "carrier": s.courier,
            "carrier_display": carrier_label(s.courier),
            "tracking_no": s.tracking_no,
            "status": s.status,
        }
        for s in qs.order_by("pk").only("leg", "courier", "tracking_no", "status")
    ]


def progress_call_list(*, actor, limit: int = 200) -> list:
    """Mail-in tickets to call now, for the desk (``repairs.selectors.desk_center_ids``): open tickets at a
    stage their center calls at (its ``ProgressCallPlan``, else ``DEFAULT_CALL_STAGES``), not yet reached at
    that stage; oldest stage first. Each row carries ``last_outcome``/``last_call_at`` of this stage.

    Two queries whatever the number of tickets: the plans, then the tickets with their last attempt.
    """
    from django.db.models import Exists, OuterRef, Q, Subquery

    from repairs.models import RepairTicket
    from repairs.selectors import desk_center_ids, tickets_visible

    from .choices import DEFAULT_CALL_STAGES
    from .models import ProgressCall, ProgressCallPlan

    ids = desk_center_ids(actor=actor)
    base = tickets_visible(actor=actor).filter(channel="mail_in")
    plans = ProgressCallPlan.objects.all() if ids is None else ProgressCallPlan.objects.filter(center_id__in=ids)
    custom = {p.center_id: list(p.stages) for p in plans}
    if ids is not None:
        base = base.filter(center_id__in=ids)
    wanted = Q(status__in=DEFAULT_CALL_STAGES) & ~Q(center_id__in=list(custom))
    for center_id, stages in custom.items():
        wanted |= Q(center_id=center_id, status__in=stages)
    calls = ProgressCall.objects.filter(ticket_id=OuterRef("pk"), stage=OuterRef("status"))
    last = calls.order_by("-at", "-pk")
    rows: list[RepairTicket] = list(
        base.filter(wanted)
        .exclude(Exists(calls.filter(outcome="reached")))
        .annotate(
            last_outcome=Subquery(last.values("outcome")[:1]),
            last_call_at=Subquery(last.values("at")[:1]),
        )
        .select_related("customer", "center", "device__model")
        .order_by("stage_started_at", "pk")[:limit]
    )
    return rows
