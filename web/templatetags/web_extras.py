"""Template helpers for the tracking page extras (owned by the web app)."""

from django import template

from booking import selectors
from booking.services import SURVEY_OPEN_STATUSES

register = template.Library()


@register.simple_tag
def track_extras(ticket):
    """What the customer may do from the tracking page: change the appointment, answer the survey.

    One query whatever the ticket has (``track_extras_row``); the tracking page caches that row's
    result per ticket version (``web.tracking``) and calls ``track_extras_for`` on every request.
    """
    appointment, has_survey = track_extras_row(ticket)
    return track_extras_for(ticket, appointment=appointment, has_survey=has_survey)


def track_extras_row(ticket):
    """``(appointment or None, has_survey)``: the ticket row LEFT JOINed to its appointment (and the
    appointment's center and sign-language video session), with whether a survey exists as an EXISTS
    column; one query."""
    from django.core.exceptions import ObjectDoesNotExist
    from django.db.models import Exists, OuterRef

    from booking.models import Survey
    from repairs.models import RepairTicket

    row = (
        RepairTicket.objects.filter(pk=ticket.pk)
        .select_related("appointment__center", "appointment__sign_language_session")
        .annotate(has_survey=Exists(Survey.objects.filter(ticket_id=OuterRef("pk"))))
        .first()
    )
    try:
        appointment = row.appointment if row is not None else None
    except ObjectDoesNotExist:
        appointment = None
    if appointment is not None:
        appointment._state.fields_cache.pop("ticket", None)  # the row's copy; the caller's ticket is set below
    return appointment, bool(row is not None and row.has_survey)


def track_extras_for(ticket, *, appointment, has_survey: bool) -> dict:
    """The extras from the row's facts and the current time (no query)."""
    if appointment is not None:
        appointment.ticket = ticket  # appointment_can_change reads the ticket's status: no second query
    return {
        "appointment": appointment,
        "sign_session": _sign_session(appointment),
        "can_change": appointment is not None and selectors.appointment_can_change(appointment=appointment),
        "deadline": selectors.appointment_change_deadline(appointment=appointment) if appointment else None,
        "survey_open": ticket.status in SURVEY_OPEN_STATUSES and not has_survey,
    }


def _sign_session(appointment):
    """The appointment's sign-language session as the customer sees it (read with the row: no query)."""
    from django.core.exceptions import ObjectDoesNotExist

    if appointment is None:
        return None
    try:
        return appointment.sign_language_session
    except ObjectDoesNotExist:
        return None


@register.filter
def service_label(value: str) -> str:
    """A center's ``services`` entry (device category or offering) as a translated label."""
    from centers.choices import DeviceCategory, ServiceOffering

    labels = dict(ServiceOffering.choices) | dict(DeviceCategory.choices)
    return str(labels.get(value, value))


# --- find a center (journeys) ------------------------------------------------------------


@register.simple_tag
def center_maps(center):
    """Links that open ``center`` in a map app (see ``web.maps``), for the page's language."""
    from django.utils.translation import get_language

    from web.maps import map_links

    return map_links(
        name=center.name, address=center.address, lat=center.lat, lng=center.lng, language=get_language() or ""
    )


@register.simple_tag
def opening_note(center):
    """ "until 18:00" when open now, "opens Mon 09:00" (today/tomorrow by name) when closed."""
    from django.utils import formats
    from django.utils.translation import gettext as _

    from centers import selectors as center_selectors

    now = center_selectors.local_now()
    if getattr(center, "is_open_now", False):
        t = now.time().replace(tzinfo=None)
        closes = next(
            (
                c
                for o, c in center_selectors.center_hours_on(center=center, day=now.date())
                if center_selectors.interval_holds(o, c, t)
            ),
            None,
        )
        return _("until %(time)s") % {"time": closes.strftime("%H:%M")} if closes else ""
    nxt = getattr(center, "next_opening", None)
    if nxt is None:
        return _("no opening hours in the coming week")
    days = (nxt.date() - now.date()).days
    hhmm = nxt.strftime("%H:%M")
    if days == 0:
        return _("opens today %(time)s") % {"time": hhmm}
    if days == 1:
        return _("opens tomorrow %(time)s") % {"time": hhmm}
    return _("opens %(day)s %(time)s") % {"day": formats.date_format(nxt, "D"), "time": hhmm}


@register.filter
def tel_href(phone: str) -> str:
    """``tel:`` URI of a displayed phone number (digits and a leading +)."""
    phone = (phone or "").strip()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("tel:+" if phone.startswith("+") else "tel:") + digits


@register.simple_tag
def track_shipments(ticket, none: bool = False):
    """The courier legs to and from the customer (mail-in), pickup first; one query (none when the
    caller knows the ticket has no shipment: ``none=True``).

    ``[{"leg", "title", "shipment"}]`` with both legs always listed, ``shipment`` None for a
    leg not booked yet (the return is booked when the repair is done).
    """
    from django.utils.translation import gettext as _

    from logistics.models import Shipment

    if getattr(ticket, "channel", "") != "mail_in":
        return []
    rows = {}
    if not none:
        legs = ("customer_to_hub", "hub_to_customer")
        for shipment in Shipment.objects.filter(ticket_id=ticket.pk, leg__in=legs).order_by("pk"):
            rows[shipment.leg] = shipment  # the newest of each leg
    return [
        {
            "leg": "customer_to_hub",
            "title": _("Pickup (to the repair center)"),
            "shipment": rows.get("customer_to_hub"),
        },
        {"leg": "hub_to_customer", "title": _("Return (to you)"), "shipment": rows.get("hub_to_customer")},
    ]
