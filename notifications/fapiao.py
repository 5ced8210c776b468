"""``fapiao.issued`` -> the customer's SMS (and e-mail to the address given on the request) with the link.

Registered from ``NotificationsConfig.ready()``. Runs in the dispatching transaction of the outbox event;
the dedupe key is the event (``event:<id>``), so a replayed event writes nothing twice.
"""

from __future__ import annotations

from accounting.models import FapiaoRequest
from repairs.models import RepairTicket
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationChannel, NotificationKind
from .models import Notification
from .services import notification_enqueue


def fapiao_issued(event: OutboxEvent) -> list[Notification]:
    """Tell the ticket's customer their fapiao is issued: number, amount and the link to the document.

    SMS to the customer's phone; e-mail to the address they gave on the request (where they asked the
    fapiao to be sent), else none. Plan orders without a ticket have no customer record here: nothing sent.
    """
    p = event.payload
    if not p.get("ticket_id"):
        return []
    fapiao = FapiaoRequest.objects.only("pk", "email", "pdf_url", "invoice_number", "amount").get(pk=p["fapiao_id"])
    ticket = RepairTicket.objects.select_related("customer").get(pk=p["ticket_id"])
    channels = [NotificationChannel.SMS] + ([NotificationChannel.EMAIL] if fapiao.email else [])
    return notification_enqueue(
        kind=NotificationKind.FAPIAO_ISSUED,
        customer=ticket.customer,
        to_email=fapiao.email,
        context={
            "service_no": ticket.service_no,
            "invoice_number": fapiao.invoice_number,
            "amount": str(fapiao.amount),
            "link": fapiao.pdf_url,
        },
        channels=channels,
        dedupe_key=f"event:{event.pk}",
        ticket=ticket,
    )


def register() -> None:
    subscribe("fapiao.issued", fapiao_issued)
