"""Webhooks the scheduled jobs announce: subscribers to the jobs' domain events.

From the event payload alone (partners imports no domain app): the body partners receive is the one they
received before the SLA watch moved to ``repairs.jobs`` (API.md, docs/partners.md).
"""

from __future__ import annotations

from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .webhooks import webhook_event_emit


def subscribe_job_webhooks() -> None:
    """Called from ``PartnersConfig.ready()``."""
    subscribe("ticket.sla_breached", sla_breached_webhook)


def sla_breached_webhook(event: OutboxEvent) -> None:
    """``ticket.sla_breached`` to the partners operating the ticket's center (once per breach)."""
    payload = event.payload
    webhook_event_emit(
        event_type="ticket.sla_breached",
        payload={
            "service_no": payload["service_no"],
            "center": payload["center"],
            "status": payload["status"],
            "stage_due_at": payload["stage_due_at"],
        },
        center_id=event.center_id,
        source_id=event.pk,  # webhook-id msg_<event>_<endpoint>: stable, a replay writes nothing twice
    )
