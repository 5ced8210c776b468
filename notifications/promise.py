"""The customer is told when the promised completion time slips (``ticket.promise_slipped``).

Registered from ``NotificationsConfig.ready()``. One SMS (and e-mail to the ticket's contact) per slip: the
dedupe key is the outbox row, and each slip is its own row (``repairs.events.promise_slipped``). A slip
that happens as the customer decides on the quote is not announced: the wait was theirs, and the tracking
page they are looking at shows the new time.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from repairs.models import RepairTicket
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationKind
from .models import Notification
from .selectors import ticket_link
from .services import notification_enqueue_for_ticket

CUSTOMER_DECISIONS = ("approve", "decline")


def register() -> None:
    subscribe("ticket.promise_slipped", promise_slipped)


def promise_slipped(event: OutboxEvent) -> list[Notification]:
    """The new promised time, once per slip; nothing for a slip the customer's own decision caused."""
    p = event.payload
    if p.get("action") in CUSTOMER_DECISIONS:
        return []
    ticket = RepairTicket.objects.select_related("customer", "center").get(pk=p["ticket_id"])
    if ticket.promised_at is None:
        return []
    return notification_enqueue_for_ticket(
        kind=NotificationKind.PROMISE_SLIPPED,
        ticket=ticket,
        context={
            "service_no": ticket.service_no,
            "customer_name": ticket.customer.name,
            "center_name": ticket.center.name,
            "center_phone": ticket.center.phone,
            # The time of this slip (a later slip writes its own message with its own time).
            "promised_at": timezone.localtime(parse_datetime(p["promised_at"]) or ticket.promised_at),
            "link": ticket_link(ticket),
        },
        dedupe_key=f"event:{event.pk}",
    )
