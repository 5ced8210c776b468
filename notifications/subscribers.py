"""Domain events -> customer messages (registered in ``NotificationsConfig.ready()``).

Each handler runs in the dispatching transaction of one outbox event (``servicehub.events``): it loads
what it needs by the ids in the payload and writes ``Notification`` rows with ``notification_enqueue*``;
the rows are sent after that transaction commits. The dedupe key is the outbox row (``event:<id>``), so
a replayed event writes nothing twice -- except "received", which is once per *ticket*: a
collection-point ticket is received twice (at the point, then at the hub) and the customer hears it once.
"""

from __future__ import annotations

from django.utils import timezone

from booking.choices import Need
from booking.models import Appointment
from logistics.choices import Leg
from logistics.models import Shipment
from repairs.models import PhoneVerification, RepairTicket
from repairs.verification import track_access_url
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationKind
from .models import Notification
from .selectors import KIND_FOR_STATUS, shipment_notification_context, ticket_link, ticket_notification_context
from .services import notification_enqueue, notification_enqueue_for_ticket


def _key(event: OutboxEvent) -> str:
    return f"event:{event.pk}"


def ticket_changed(event: OutboxEvent) -> list[Notification]:
    """``ticket.changed``: tell the customer about a status they should hear of (``KIND_FOR_STATUS``).

    At most one notification per channel for this event (SMS, plus e-mail to the ticket's contact).
    Statuses without a message, and timeline rows that change no status, write nothing.
    """
    p = event.payload
    kind = KIND_FOR_STATUS.get(p["to_status"])
    if kind is None or p["from_status"] == p["to_status"]:
        return []
    ticket = RepairTicket.objects.select_related("customer", "center", "device__model").get(pk=p["ticket_id"])
    dedupe_key = f"ticket:{ticket.pk}:received" if kind == NotificationKind.TICKET_RECEIVED else _key(event)
    return notification_enqueue_for_ticket(
        kind=kind, ticket=ticket, context=ticket_notification_context(ticket=ticket, kind=kind), dedupe_key=dedupe_key
    )


def verification_code_issued(event: OutboxEvent) -> list[Notification]:
    """``verification.code_issued``: the SMS with the code, to the phone that asked (customer or not).

    The code then leaves the outbox row (in this same transaction): from here on only the pending
    SMS holds it, and that blanks its own body once sent.
    """
    p = event.payload
    if not p.get("code"):
        return []  # written before and scrubbed: nothing left to send
    verification = PhoneVerification.objects.get(pk=p["verification_id"])
    rows = notification_enqueue(
        kind=NotificationKind.VERIFICATION_CODE,
        to_phone=verification.phone,
        language=p.get("language") or None,
        context={"code": p["code"], "minutes": p["minutes"]},
        channels=("sms",),
        dedupe_key=_key(event),
    )
    OutboxEvent.objects.filter(pk=event.pk).update(payload={**p, "code": ""})
    return rows


def lookup_locked(event: OutboxEvent) -> list[Notification]:
    """``ticket.lookup_locked``: tell the customer that digit lookups of their repair are locked.

    The SMS carries the signed link that still opens the repair (``repairs.verification``).
    """
    ticket = RepairTicket.objects.select_related("customer").get(pk=event.payload["ticket_id"])
    return notification_enqueue(
        kind=NotificationKind.LOOKUP_LOCKED,
        customer=ticket.customer,
        context={"service_no": ticket.service_no, "link": track_access_url(ticket=ticket)},
        channels=("sms",),
        dedupe_key=_key(event),
        ticket=ticket,
    )


def appointment_booked(event: OutboxEvent) -> list[Notification]:
    """``appointment.booked``: the confirmation with the time and the tracking link.

    A booking with the sign-language need gets its confirmation on ``sign_session.scheduled`` instead, with the
    video link. SMS to the phone; e-mail to the booking's own contact (an unverified one gets the plain tracking
    link only, ``notification_enqueue_for_ticket``) -- never to an address an anonymous caller typed
    in for somebody else's customer record.
    """
    appointment = Appointment.objects.select_related("ticket__customer", "customer", "center").get(
        pk=event.payload["appointment_id"]
    )
    if (appointment.needs or {}).get(Need.SIGN_LANGUAGE):
        # The confirmation waits for the video session, to carry its join link (notifications.sign_sessions).
        return []
    ticket, customer, center = appointment.ticket, appointment.customer, appointment.center
    return notification_enqueue_for_ticket(
        kind=NotificationKind.APPOINTMENT_BOOKED,
        ticket=ticket,
        context={
            "service_no": ticket.service_no,
            "customer_name": customer.name,
            "center_name": center.name,
            "center_address": center.address,
            "center_phone": center.phone,
            "start": timezone.localtime(appointment.start),
            "link": ticket_link(ticket),
        },
        dedupe_key=_key(event),
    )


def _shipment_message(event: OutboxEvent, kind: str) -> list[Notification]:
    # Only the courier coming to the customer's door is news to the customer; the return leg's
    # number is in the "shipped back" message (selectors.ticket_notification_context).
    if event.payload["leg"] != Leg.CUSTOMER_TO_HUB:
        return []
    shipment = Shipment.objects.select_related("ticket__customer").get(pk=event.payload["shipment_id"])
    return notification_enqueue_for_ticket(
        kind=kind,
        ticket=shipment.ticket,
        context=shipment_notification_context(shipment=shipment),
        dedupe_key=_key(event),
    )


def shipment_created(event: OutboxEvent) -> list[Notification]:
    """``shipment.created``: a courier pickup -- the pickup window (and the number when known)."""
    return _shipment_message(event, NotificationKind.PICKUP_SCHEDULED)


def shipment_tracking_assigned(event: OutboxEvent) -> list[Notification]:
    """``shipment.tracking_assigned``: the courier's number of a pickup at the customer's door."""
    return _shipment_message(event, NotificationKind.COURIER_ASSIGNED)


def register() -> None:
    subscribe("ticket.changed", ticket_changed)
    subscribe("verification.code_issued", verification_code_issued)
    subscribe("ticket.lookup_locked", lookup_locked)
    subscribe("appointment.booked", appointment_booked)
    subscribe("shipment.created", shipment_created)
    subscribe("shipment.tracking_assigned", shipment_tracking_assigned)
