"""The domain events of returns: a 三包 exchange or return, announced to the selling retailer (webhooks).

Payloads carry ids, codes and the values of the decision (no customer data): the partners subscriber
builds the webhook body from the payload alone (``partners.subscribers``).
"""

from __future__ import annotations

from servicehub.events import emit

EVENT_TYPES = {
    "ticket.exchanged": "A device was exchanged under 三包 (statutory exchange): the replacement's IMEI, the rule.",
    "ticket.returned": "A device was taken back under 三包 (statutory return) with a refund due.",
}


def _payload(decision, ticket) -> dict:
    device, replacement = decision.device, decision.replacement
    return {
        "decision_id": decision.pk,
        "ticket_id": ticket.pk,
        "service_no": ticket.service_no,
        "center_id": ticket.center_id,
        "origin_center_id": ticket.origin_center_id,
        "retailer_id": device.retailer_id,
        "decision": decision.kind,
        "imei": device.imei,
        "replacement_imei": replacement.imei if replacement is not None else None,
        "rule": decision.rule,
        "day": decision.day,
        "window_days": decision.window_days,
        "refund_amount": str(decision.refund_amount) if decision.refund_amount is not None else None,
        "refund_status": decision.refund_status,
        "maker_status": decision.maker_status,
        "sold_at": decision.sold_at.isoformat(),
        "at": decision.decided_at.isoformat(),
    }


def ticket_exchanged(*, decision, ticket) -> None:
    emit("ticket.exchanged", _payload(decision, ticket), center_id=ticket.center_id)


def ticket_returned(*, decision, ticket) -> None:
    emit("ticket.returned", _payload(decision, ticket), center_id=ticket.center_id)
