"""Template helpers for the tracking page extras (owned by the web app)."""

from django import template

from booking import selectors
from booking.services import SURVEY_OPEN_STATUSES

register = template.Library()


@register.simple_tag
def track_extras(ticket):
    """What the customer may do from the tracking page: change the appointment, answer the survey."""
    from booking.models import Survey

    appointment = selectors.appointment_for_ticket(ticket=ticket)
    return {
        "appointment": appointment,
        "can_change": appointment is not None and selectors.appointment_can_change(appointment=appointment),
        "deadline": selectors.appointment_change_deadline(appointment=appointment) if appointment else None,
        "survey_open": ticket.status in SURVEY_OPEN_STATUSES and not Survey.objects.filter(ticket_id=ticket.pk).exists(),
    }


@register.filter
def service_label(value: str) -> str:
    """A center's ``services`` entry (device category or offering) as a translated label."""
    from centers.choices import DeviceCategory, ServiceOffering

    labels = dict(ServiceOffering.choices) | dict(DeviceCategory.choices)
    return str(labels.get(value, value))
