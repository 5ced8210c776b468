"""``payment.succeeded`` -> the customer's receipt message (SMS, e-mail to the ticket's contact).

Registered from ``NotificationsConfig.ready()``. Like ``notifications.subscribers``: the payload's ids are
read when the event is dispatched, the dedupe key is the outbox row, nothing is sent twice. Repair
payments go to the ticket's customer; a loan's deposit to the loan's customer; plan orders sold at the
counter get their paper receipt only.
"""

from __future__ import annotations

from django.utils import timezone

from loaners.models import Loan
from payments.models import Payment
from payments.receipts import receipt_url
from repairs.models import RepairTicket
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationKind
from .models import Notification
from .services import notification_enqueue, notification_enqueue_for_ticket


def payment_received(event: OutboxEvent) -> list[Notification]:
    p = event.payload
    payment = Payment.objects.get(pk=p["payment_id"])
    context = {
        "service_no": p.get("service_no", ""),
        "amount": p["amount"],
        "receipt_no": p["receipt_no"],
        "paid_at": timezone.localtime(payment.succeeded_at) if payment.succeeded_at else None,
        "link": receipt_url(payment.pk),
    }
    if p.get("ticket_id"):
        ticket = RepairTicket.objects.select_related("customer").get(pk=p["ticket_id"])
        return notification_enqueue_for_ticket(
            kind=NotificationKind.PAYMENT_RECEIVED, ticket=ticket, context=context, dedupe_key=f"event:{event.pk}"
        )
    if p.get("loan_id"):
        loan = Loan.objects.select_related("customer", "ticket").get(pk=p["loan_id"])
        return notification_enqueue(
            kind=NotificationKind.PAYMENT_RECEIVED,
            customer=loan.customer,
            context=context,
            channels=("sms",),
            dedupe_key=f"event:{event.pk}",
            ticket=loan.ticket,
        )
    return []


def register() -> None:
    subscribe("payment.succeeded", payment_received)
