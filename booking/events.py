"""The one place where side effects of an appointment change are written (like ``repairs.events``).

Called inside the booking service's transaction, after the Appointment row is written, so the
outbox row commits or rolls back with the booking. The ticket's own ``book`` event
(``repairs.events``) writes no customer message for ``booked``: the appointment's text needs the
time, which only exists once the Appointment does.
"""

from __future__ import annotations

from django.utils import timezone


def appointment_booked(*, appointment) -> None:
    """Queue the confirmation SMS (and e-mail, if the customer gave one) with the tracking link."""
    from notifications.choices import NotificationChannel, NotificationKind
    from notifications.selectors import ticket_link
    from notifications.services import notification_enqueue

    ticket, customer, center = appointment.ticket, appointment.customer, appointment.center
    notification_enqueue(
        kind=NotificationKind.APPOINTMENT_BOOKED,
        customer=customer,
        context={
            "service_no": ticket.service_no,
            "customer_name": customer.name,
            "center_name": center.name,
            "center_address": center.address,
            "center_phone": center.phone,
            "start": timezone.localtime(appointment.start),
            "link": ticket_link(ticket),
        },
        channels=[NotificationChannel.SMS] + ([NotificationChannel.EMAIL] if customer.email else []),
        dedupe_key=f"appointment:{appointment.pk}:booked",
        ticket=ticket,
    )
