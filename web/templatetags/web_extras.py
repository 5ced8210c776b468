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


@register.simple_tag
def track_shipments(ticket):
    """The courier legs to and from the customer (mail-in), pickup first; one query.

    ``[{"leg", "title", "shipment"}]`` with both legs always listed, ``shipment`` None for a
    leg not booked yet (the return is booked when the repair is done).
    """
    from django.utils.translation import gettext as _

    from logistics.models import Shipment

    if getattr(ticket, "channel", "") != "mail_in":
        return []
    rows = {}
    for shipment in Shipment.objects.filter(
        ticket_id=ticket.pk, leg__in=("customer_to_hub", "hub_to_customer")
    ).order_by("pk"):
        rows[shipment.leg] = shipment  # the newest of each leg
    return [
        {"leg": "customer_to_hub", "title": _("Pickup (to the repair center)"), "shipment": rows.get("customer_to_hub")},
        {"leg": "hub_to_customer", "title": _("Return (to you)"), "shipment": rows.get("hub_to_customer")},
    ]
