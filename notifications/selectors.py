"""Reads for notifications: what a ticket's message says, and the admin's visible rows."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db.models import Q, QuerySet

from .choices import NotificationKind
from .models import Notification

# Ticket status entered -> the customer's notification. One message per status change.
KIND_FOR_STATUS = {
    "received": NotificationKind.TICKET_RECEIVED,
    "awaiting_approval": NotificationKind.QUOTE_READY,
    "awaiting_parts": NotificationKind.PARTS_AWAITED,
    "ready": NotificationKind.REPAIR_READY,
    "returning": NotificationKind.SHIPPED_BACK,
    "delivered": NotificationKind.DELIVERED,
}


def public_url(path: str) -> str:
    return settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/") + path


def ticket_link(ticket, page: str = "track") -> str:
    """The customer's own link (``/track/`` or ``/survey/``), with the phone digits the page asks for.

    Sent only to the customer's own phone or address, which already knows them.
    """
    last4 = "".join(ch for ch in ticket.customer.phone if ch.isdigit())[-4:]
    return public_url(f"/{page}/{ticket.service_no}/?phone_last4={last4}")


def ticket_notification_context(*, ticket, kind: str) -> dict:
    """The template context of a ticket notification (no personal data beyond the customer's own name)."""
    center = ticket.center
    device = getattr(ticket, "device", None)
    model = getattr(device, "model", None)
    context = {
        "service_no": ticket.service_no,
        "customer_name": ticket.customer.name,
        "center_name": center.name,
        "center_address": center.address,
        "center_phone": center.phone,
        "device_model": getattr(model, "name", "") or "",
        "link": ticket_link(ticket),
    }
    if kind == NotificationKind.QUOTE_READY:
        from repairs.tracking import quote_decision_url

        quote = ticket.quotes.filter(status="pending").order_by("-version").first()
        context["total"] = str(quote.total) if quote is not None else ""
        if quote is not None:
            # The signed, expiring approval link of this quote version (repairs.tracking).
            context["link"] = quote_decision_url(ticket=ticket, quote=quote)
    elif kind == NotificationKind.SHIPPED_BACK:
        context["tracking_no"] = context["courier"] = ""
        try:
            Shipment = apps.get_model("logistics", "Shipment")
        except LookupError:
            Shipment = None
        if Shipment is not None:
            shipment = Shipment.objects.filter(ticket=ticket, leg="hub_to_customer").order_by("-pk").first()
            if shipment is not None:
                from django.utils import translation

                from logistics.choices import carrier_label

                from .rendering import normalise_language

                with translation.override(normalise_language(getattr(ticket.customer, "language", None))):
                    context["tracking_no"], context["courier"] = shipment.tracking_no, carrier_label(shipment.courier)
    return context


def shipment_notification_context(*, shipment) -> dict:
    """A pickup message's context: the window in local time, the courier's name in the message's language.

    The name is left lazy: it is put into words when the message is rendered, in the language the
    message is written in (the booking's, else the customer's: ``repairs.selectors.ticket_contact``).
    """
    from django.utils import timezone
    from django.utils.functional import lazy

    from logistics.choices import carrier_label

    ticket = shipment.ticket
    courier = lazy(carrier_label, str)(shipment.courier)
    context = {
        "service_no": ticket.service_no,
        "customer_name": ticket.customer.name,
        "courier": courier,
        "tracking_no": shipment.tracking_no,
        "address": shipment.address,
        "pickup_day": "",
        "pickup_from": "",
        "pickup_until": "",
        "link": ticket_link(ticket),
    }
    if shipment.pickup_from is not None and shipment.pickup_until is not None:
        start, end = timezone.localtime(shipment.pickup_from), timezone.localtime(shipment.pickup_until)
        context.update(
            {"pickup_day": f"{start:%Y-%m-%d}", "pickup_from": f"{start:%H:%M}", "pickup_until": f"{end:%H:%M}"}
        )
    return context


def notifications_visible(*, actor) -> QuerySet[Notification]:
    """Rows an admin user may see: their centers' tickets; HQ and superusers see all."""
    qs = Notification.objects.all()
    if actor.center_ids is None:
        return qs
    ids = list(actor.center_ids)
    return qs.filter(Q(ticket__center_id__in=ids) | Q(ticket__origin_center_id__in=ids))
