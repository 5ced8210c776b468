"""Messages of sign-language video sessions (issue #22 item 4), on ``sign_session.scheduled``:

- the customer's booking confirmation, now with the join link (``appointment_booked`` with ``sign_link``): for a
  booking with the sign-language need, ``subscribers.appointment_booked`` waits for the session, so the customer
  gets one confirmation, with the link in it;
- the center's alert (``sign_session_alert``, e-mail): to its staff who sign and are on shift now
  (``centers.selectors.signers_on_shift``), else to its managers on shift (``managers_on_shift``: every active
  manager when the roster has nobody). One per session and person (dedupe keys).

Subscribed in ``NotificationsConfig.ready()``.
"""

from __future__ import annotations

from django.utils import timezone

from centers.selectors import managers_on_shift, signers_on_shift
from outreach.models import SignLanguageSession
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationChannel, NotificationKind
from .selectors import public_url, ticket_link
from .services import notification_enqueue, notification_enqueue_for_ticket


def register() -> None:
    subscribe("sign_session.scheduled", sign_session_scheduled)


def sign_session_recipients(*, center_id: int, at) -> list:
    """Who hears of a new session: the signers on shift at ``at``, else the managers (on shift, else all)."""
    return signers_on_shift(center_id=center_id, at=at) or managers_on_shift(center_id=center_id, at=at)


def sign_session_scheduled(event: OutboxEvent) -> None:
    session = SignLanguageSession.objects.select_related(
        "appointment__ticket__customer", "appointment__center", "signer"
    ).get(pk=event.payload["session_id"])
    appointment = session.appointment
    ticket, center = appointment.ticket, appointment.center
    start = timezone.localtime(session.scheduled_start)
    notification_enqueue_for_ticket(
        kind=NotificationKind.APPOINTMENT_BOOKED,
        ticket=ticket,
        context={
            "service_no": ticket.service_no,
            "customer_name": ticket.customer.name,
            "center_name": center.name,
            "center_address": center.address,
            "center_phone": center.phone,
            "start": start,
            "link": ticket_link(ticket),
            "sign_link": session.join_url,
        },
        dedupe_key=f"appointment:{appointment.pk}:booked",
    )
    context = {
        "service_no": ticket.service_no,
        "center_name": center.name,
        "start": start,
        "signer": (session.signer.get_full_name() or session.signer.get_username()) if session.signer_id else "",
        "link": public_url("/admin/repairs/repairticket/today/"),
    }
    for person in sign_session_recipients(center_id=session.center_id, at=event.created_at):
        if person.email:
            notification_enqueue(
                kind=NotificationKind.SIGN_SESSION_ALERT,
                to_email=person.email,
                language="zh-hans",
                context=context,
                channels=(NotificationChannel.EMAIL,),
                dedupe_key=f"sign_session:{session.pk}:user:{person.pk}",
                ticket=ticket,
            )
