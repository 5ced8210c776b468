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
