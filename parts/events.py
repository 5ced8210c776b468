"""The domain events of parts: announced inside the stock service's transaction, acted on by subscribers.

Payloads carry ids, codes and counters, never customer data.
"""

from __future__ import annotations

from django.utils import timezone

from servicehub.events import emit

EVENT_TYPES = {
    "parts.awaiting": "A ticket waits for a part that is not in stock at its center; the hub was asked for it.",
    "parts.arrived": "The part a waiting ticket needed arrived and is reserved for it; the repair resumes.",
    "parts.low_stock": "A part's available stock at a location fell below its reorder point.",
    "parts.transfer_shipped": "A hub shipped parts to a center (sealed transfer).",
}


def parts_awaiting(*, reservation, replenishment) -> None:
    emit(
        "parts.awaiting",
        {
            "ticket_id": reservation.ticket_id,
            "part_id": reservation.part_id,
            "part": reservation.part.part_number,
            "center_id": reservation.location_id,
            "hub_id": replenishment.hub_id if replenishment else None,
            "replenishment_id": replenishment.pk if replenishment else None,
        },
        center_id=reservation.location_id,
    )


def parts_arrived(*, reservation, transfer) -> None:
    emit(
        "parts.arrived",
        {
            "ticket_id": reservation.ticket_id,
            "service_no": reservation.ticket.service_no,
            "engineer_id": reservation.ticket.engineer_id,
            "part_id": reservation.part_id,
            "part": reservation.part.part_number,
            "center_id": reservation.location_id,
            "transfer_id": transfer.pk,
            "at": timezone.localtime(timezone.now()).isoformat(),
        },
        center_id=reservation.location_id,
    )


def low_stock(*, level, point, location_code: str, part_number: str) -> None:
    emit(
        "parts.low_stock",
        {
            "center_id": level.location_id,
            "center": location_code,
            "part_id": level.part_id,
            "part": part_number,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "available": level.on_hand - level.reserved,
            "reorder_point": point.min_available,
            "at": timezone.localtime(timezone.now()).isoformat(),
        },
        center_id=level.location_id,
    )


def transfer_shipped(*, transfer) -> None:
    emit(
        "parts.transfer_shipped",
        {
            "transfer_id": transfer.pk,
            "from_id": transfer.from_location_id,
            "to_id": transfer.to_location_id,
            "part_id": transfer.part_id,
            "quantity": transfer.quantity,
            "seal_no": transfer.seal_no,
        },
        center_id=transfer.to_location_id,
    )
