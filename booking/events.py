"""The one place where side effects of an appointment change are written (like ``repairs.events``).

Called inside the booking service's transaction, after the Appointment row is written, so the
outbox row commits or rolls back with the booking. The ticket's own ``book`` event
(``repairs.events``) writes no customer message for ``booked``: the appointment's text needs the
time, which only exists once the Appointment does.
"""

from __future__ import annotations

from django.utils import timezone


def appointment_booked(*, appointment) -> None:
    """Queue the confirmation SMS (and e-mail to the booking's contact) with the tracking link."""
    from notifications.choices import NotificationKind
    from notifications.selectors import ticket_link
    from notifications.services import notification_enqueue_for_ticket

    ticket, customer, center = appointment.ticket, appointment.customer, appointment.center
    # For the ticket: SMS to the phone; e-mail to the booking's own contact (an unverified one
    # gets the plain tracking link only) -- never to an address an anonymous caller typed in
    # for somebody else's customer record.
    notification_enqueue_for_ticket(
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
        dedupe_key=f"appointment:{appointment.pk}:booked",
    )
