"""Domain events -> webhook deliveries (registered in ``PartnersConfig.ready()``).

Each handler builds the body partners receive from the event payload alone -- this module imports no
domain app (repairs, loaners, warranty, logistics): what a webhook needs travels in the payload. The
recipients are the partners operating the event's centers (``center_id``, ``origin_center_id``), plus
the one partner an event names (the courier of a shipment, the seller of a plan). Each delivery's
``webhook-id`` derives from the outbox row (``msg_<event id>_<endpoint id>``), so a replayed event
writes nothing twice and a partner deduplicating on ``webhook-id`` is safe across our retries too.

The bodies are the documented ones (docs/partners.md): ``data`` holds exactly the fields listed per
type below, in the same form as before the events existed.
"""

from __future__ import annotations

from collections.abc import Iterable

from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .models import Partner
from .webhooks import webhook_event_emit


def _operators(center_ids: Iterable[int | None]) -> list[int]:
    """Partners operating any of these centers (a ticket's center and its collection point)."""
    ids = [c for c in center_ids if c]
    if not ids:
        return []
    return sorted(set(Partner.objects.filter(centers__in=ids).values_list("pk", flat=True)))


def _send(event: OutboxEvent, webhook_type: str, data: dict, *, partner_ids: list[int]) -> int:
    if not partner_ids:
        return 0  # never "everyone": ticket data goes only to the partners it concerns
    return webhook_event_emit(event_type=webhook_type, payload=data, partner_ids=partner_ids, source_id=event.pk)


def ticket_status_changed(event: OutboxEvent) -> int:
    """``ticket.changed`` -> ``ticket.status_changed`` for the operators of the ticket's center and origin."""
    p = event.payload
    data = {
        "service_no": p["service_no"],
        "status": p["to_status"],
        "previous_status": p["from_status"],
        "action": p["action"],
        "at": p["at"],
    }
    return _send(event, "ticket.status_changed", data, partner_ids=_operators([p["center_id"], p["origin_center_id"]]))


def quote_ready(event: OutboxEvent) -> int:
    """``ticket.quote_ready`` -> ``quote.ready`` (same recipients as the status change)."""
    p = event.payload
    data = {"service_no": p["service_no"], "at": p["at"]}
    return _send(event, "quote.ready", data, partner_ids=_operators([p["center_id"], p["origin_center_id"]]))


def shipment_updated(event: OutboxEvent) -> int:
    """``shipment.updated`` -> ``shipment.updated`` for the courier partner and the ticket's operators."""
    p = event.payload
    data = {k: p[k] for k in ("shipment_id", "service_no", "leg", "status", "event", "at")}
    partner_ids = _operators([p["center_id"], p["origin_center_id"]])
    if p.get("courier_partner_id"):
        partner_ids = sorted({*partner_ids, p["courier_partner_id"]})
    return _send(event, "shipment.updated", data, partner_ids=partner_ids)


def loan_overdue(event: OutboxEvent) -> int:
    """``loan.overdue`` -> ``loan.overdue`` for the partners operating the loan's center (no customer data)."""
    p = event.payload
    data = {k: p[k] for k in ("loan_id", "service_no", "center", "tier", "due_at", "status")}
    return _send(event, "loan.overdue", data, partner_ids=_operators([p["center_id"]]))


def plan_activated(event: OutboxEvent) -> int:
    """``plan.activated`` -> the seller: the selling partner, or the operators of the selling center."""
    p = event.payload
    data = {k: p[k] for k in ("purchase_id", "plan", "imei", "starts_on", "ends_on")}
    partner_ids = _operators([p["center_id"]])
    if p.get("partner_id"):
        partner_ids = sorted({*partner_ids, p["partner_id"]})
    return _send(event, "plan.activated", data, partner_ids=partner_ids)


def statutory_decision(event: OutboxEvent) -> int:
    """``ticket.exchanged`` / ``ticket.returned`` -> the same type for the selling retailer and the operators.

    The retailer that registered the sale (``Device.retailer``) hears that its sale came back under 三包:
    the IMEIs, the rule applied and the amount to refund -- no customer data.
    """
    p = event.payload
    keys = ("service_no", "decision", "imei", "replacement_imei", "rule", "day", "window_days", "refund_amount", "at")
    data = {k: p[k] for k in keys}
    partner_ids = _operators([p["center_id"], p["origin_center_id"]])
    if p.get("retailer_id"):
        partner_ids = sorted({*partner_ids, p["retailer_id"]})
    return _send(event, event.type, data, partner_ids=partner_ids)


_PAYMENT_FIELDS = ("payment_id", "service_no", "method", "amount", "receipt_no")


def payment_succeeded(event: OutboxEvent) -> int:
    """``payment.succeeded`` -> ``payment.succeeded`` for the operators of the center that took the money."""
    p = event.payload
    data = {k: p[k] for k in _PAYMENT_FIELDS}
    return _send(event, "payment.succeeded", data, partner_ids=_operators([p["center_id"]]))


def payment_refunded(event: OutboxEvent) -> int:
    """``payment.refunded`` -> ``payment.refunded`` (same recipients), with the refund and the new total."""
    p = event.payload
    data = {k: p[k] for k in (*_PAYMENT_FIELDS, "refund_id", "refunded_total")}
    return _send(event, "payment.refunded", data, partner_ids=_operators([p["center_id"]]))


def parts_low_stock(event: OutboxEvent) -> int:
    """``parts.low_stock`` -> ``parts.low_stock`` for the partners operating the location (counters only)."""
    p = event.payload
    data = {k: p[k] for k in ("center", "part", "on_hand", "reserved", "available", "reorder_point", "at")}
    return _send(event, "parts.low_stock", data, partner_ids=_operators([p["center_id"]]))


def register() -> None:
    subscribe("ticket.exchanged", statutory_decision)
    subscribe("ticket.returned", statutory_decision)
    subscribe("ticket.changed", ticket_status_changed)
    subscribe("ticket.quote_ready", quote_ready)
    subscribe("shipment.updated", shipment_updated)
    subscribe("loan.overdue", loan_overdue)
    subscribe("plan.activated", plan_activated)
    subscribe("payment.succeeded", payment_succeeded)
    subscribe("payment.refunded", payment_refunded)
    subscribe("parts.low_stock", parts_low_stock)
