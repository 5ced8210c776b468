"""Template helpers for the tracking page extras (owned by the web app)."""

from django import template

from booking import selectors
from booking.services import SURVEY_OPEN_STATUSES

register = template.Library()


@register.simple_tag
def track_extras(ticket):
    """What the customer may do from the tracking page: change the appointment, answer the survey.

    One query whatever the ticket has: the ticket row LEFT JOINed to its appointment (and the
    appointment's center), with whether a survey exists as an EXISTS column.
    """
    from django.core.exceptions import ObjectDoesNotExist
    from django.db.models import Exists, OuterRef

    from booking.models import Survey
    from repairs.models import RepairTicket

    row = (
        RepairTicket.objects.filter(pk=ticket.pk)
        .select_related("appointment__center")
        .annotate(has_survey=Exists(Survey.objects.filter(ticket_id=OuterRef("pk"))))
        .first()
    )
    try:
        appointment = row.appointment if row is not None else None
    except ObjectDoesNotExist:
        appointment = None
    if appointment is not None:
        appointment.ticket = ticket  # appointment_can_change reads the ticket's status: no second query
    return {
        "appointment": appointment,
        "can_change": appointment is not None and selectors.appointment_can_change(appointment=appointment),
        "deadline": selectors.appointment_change_deadline(appointment=appointment) if appointment else None,
        "survey_open": ticket.status in SURVEY_OPEN_STATUSES and not (row is not None and row.has_survey),
    }


@register.filter
def service_label(value: str) -> str:
    """A center's ``services`` entry (device category or offering) as a translated label."""
    from centers.choices import DeviceCategory, ServiceOffering

    labels = dict(ServiceOffering.choices) | dict(DeviceCategory.choices)
    return str(labels.get(value, value))
