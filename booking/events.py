"""The domain events of booking (like ``repairs.events``): announced, not acted on.

Called inside the booking service's transaction, after the Appointment row is written, so the
outbox row commits or rolls back with the booking. The ticket's own ``book`` event
(``ticket.changed``) brings no customer message for ``booked``: the appointment's text needs the
time, which only exists once the Appointment does -- ``appointment.booked`` carries it.
"""

from __future__ import annotations

from servicehub.events import emit

EVENT_TYPES = {
    "appointment.booked": "A customer booked a slot at a center (the ticket is booked with it).",
    "appointment.rescheduled": "A booked appointment moved to another slot of its center.",
}


def appointment_booked(*, appointment) -> None:
    """Announce a new appointment (the confirmation SMS/e-mail is the subscriber's business)."""
    emit(
        "appointment.booked",
        {
            "appointment_id": appointment.pk,
            "ticket_id": appointment.ticket_id,
            "service_no": appointment.ticket.service_no,
            "center_id": appointment.center_id,
        },
        center_id=appointment.center_id,
    )


def appointment_rescheduled(*, appointment) -> None:
    """Announce the appointment's new slot (outreach moves its sign-language session with it)."""
    emit(
        "appointment.rescheduled",
        {
            "appointment_id": appointment.pk,
            "ticket_id": appointment.ticket_id,
            "center_id": appointment.center_id,
            "start": appointment.start.isoformat(),
        },
        center_id=appointment.center_id,
    )
