"""The domain events of logistics (like ``repairs.events``): announced, not acted on.

Called inside the shipment service's transaction: the outbox row commits or rolls back with the
change. The customer's SMS (``notifications.subscribers``) and the partners' ``shipment.updated``
webhook (``partners.subscribers``) react after commit.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder

from servicehub.events import emit

EVENT_TYPES = {
    "shipment.created": "A leg of a ticket's journey was created (a courier pickup, a transfer, a return).",
    "shipment.tracking_assigned": "A shipment's courier tracking number became known.",
    "shipment.updated": "A courier or a site recorded a shipment event (picked up, in transit, delivered).",
}

_json = DjangoJSONEncoder()


def _base(shipment) -> dict:
    ticket = shipment.ticket
    return {
        "shipment_id": shipment.pk,
        "ticket_id": ticket.pk,
        "service_no": ticket.service_no,
        "leg": shipment.leg,
        "center_id": ticket.center_id,
        "origin_center_id": ticket.origin_center_id,
    }


def shipment_created(*, shipment) -> None:
    emit("shipment.created", _base(shipment), center_id=shipment.ticket.center_id)


def shipment_tracking_assigned(*, shipment) -> None:
    emit("shipment.tracking_assigned", _base(shipment), center_id=shipment.ticket.center_id)


def shipment_updated(*, shipment, row) -> None:
    """``row``: the ``ShipmentEvent`` just recorded. The courier partner (if any) is told as well."""
    emit(
        "shipment.updated",
        {
            **_base(shipment),
            "status": shipment.status,
            "event": row.event,
            "at": _json.default(row.at),
            "courier_partner_id": shipment.courier_partner_id,
        },
        center_id=shipment.ticket.center_id,
    )
