"""What a customer sees about their repair (tracking API and page share this)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from servicehub.masking import mask_name, mask_phone

from .choices import Action, QuoteStatus, TicketStatus
from .selectors import ticket_current_quote, ticket_timeline

# What each status means, in plain words for the customer.
PLAIN_STATUS = {
    TicketStatus.BOOKED: gettext_lazy(
        "We have your booking. Bring the device to the center (or hand it to the courier)."
    ),
    TicketStatus.RECEIVED: gettext_lazy("We have your device and an engineer will look at it soon."),
    TicketStatus.IN_TRANSIT: gettext_lazy("Your device is on its way from the collection point to the repair center."),
    TicketStatus.DIAGNOSING: gettext_lazy("An engineer is finding out what is wrong."),
    TicketStatus.AWAITING_APPROVAL: gettext_lazy("We need your OK for the quote before we repair."),
    TicketStatus.AWAITING_PARTS: gettext_lazy("We are waiting for a part; we will continue as soon as it arrives."),
    TicketStatus.REPAIRING: gettext_lazy("Your device is being repaired."),
    TicketStatus.QUALITY_CHECK: gettext_lazy("The repair is done; a second engineer is checking it."),
    TicketStatus.READY: gettext_lazy("Your device is ready. Bring your receipt or this number to collect it."),
    TicketStatus.RETURNING: gettext_lazy("Your device is on its way back to you."),
    TicketStatus.DELIVERED: gettext_lazy("Your device has been handed back to you."),
    TicketStatus.CLOSED: gettext_lazy("This repair is closed. Thank you!"),
    TicketStatus.CANCELLED: gettext_lazy("This repair was cancelled; the device is returned unrepaired."),
}
# A booking cancelled before anything was handed in: nothing is "returned".
CANCELLED_BEFORE_HAND_IN = gettext_lazy(
    "Your booking is cancelled. You never handed a device in, so there is nothing to collect."
)
EVENT_TEXT = {
    "book": gettext_lazy("Booked"),
    # Timeline notes written by later apps (returns, logistics: issue #23), in the customer's words.
    "inspection": gettext_lazy("Your device was inspected"),
    "statutory_repair": gettext_lazy("Free repair under the statutory warranty"),
    "progress_call": gettext_lazy("We called you about your repair"),
}
# Statuses in which the customer is shown the promised completion time (the device is still being worked on).
PROMISE_SHOWN = (
    TicketStatus.RECEIVED,
    TicketStatus.IN_TRANSIT,
    TicketStatus.DIAGNOSING,
    TicketStatus.AWAITING_APPROVAL,
    TicketStatus.AWAITING_PARTS,
    TicketStatus.REPAIRING,
    TicketStatus.QUALITY_CHECK,
)
SIGN_SALT = "repairs.quote-decision"


def plain_status(status: str, *, handed_in: bool = True) -> str:
    """What ``status`` means for the customer; ``handed_in=False`` for a ticket whose device the
    network never received (a cancelled booking is then just cancelled, not "returned unrepaired")."""
    if status == TicketStatus.CANCELLED and not handed_in:
        return str(CANCELLED_BEFORE_HAND_IN)
    return str(PLAIN_STATUS.get(status, ""))


def event_text(action: str) -> str:
    if action in Action.values:
        return str(Action(action).label)
    return str(EVENT_TEXT.get(action, action))


def tracking_path(service_no: str) -> str:
    return reverse("repairs:track-detail", kwargs={"service_no": service_no})


def tracking_url(service_no: str) -> str:
    return settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/") + tracking_path(service_no)


def quote_decision_token(*, ticket, quote) -> str:
    """A signed, expiring token allowing the customer to approve/decline this quote version."""
    return signing.TimestampSigner(salt=SIGN_SALT).sign(f"{ticket.service_no}:{quote.pk}")


def quote_decision_check(*, token: str, service_no: str) -> int | None:
    """The quote id a valid token is for (None when forged, expired or for another ticket)."""
    try:
        value = signing.TimestampSigner(salt=SIGN_SALT).unsign(
            token, max_age=settings.SERVICEHUB["SIGNED_LINK_MAX_AGE"]
        )
    except signing.BadSignature:  # includes SignatureExpired
        return None
    number, _sep, quote_id = value.partition(":")
    if number != service_no or not quote_id.isdigit():
        return None
    return int(quote_id)


def quote_decision_url(*, ticket, quote) -> str:
    base = settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/")
    path = reverse("repairs:track-quote", kwargs={"service_no": ticket.service_no})
    return f"{base}{path}?t={quote_decision_token(ticket=ticket, quote=quote)}"


def track_head(ticket) -> dict:
    """What the public view shows from the ticket row itself (and its center, customer and device,
    read with it): rebuilt on every request, never cached."""
    return {
        "service_no": ticket.service_no,
        "status": ticket.status,
        "status_display": str(TicketStatus(ticket.status).label),
        "status_text": plain_status(ticket.status, handed_in=ticket.received_at is not None),
        "center": {
            "code": ticket.center.code,
            "name": ticket.center.name,
            "address": ticket.center.address,
            "phone": ticket.center.phone,
        },
        "customer": {"name": mask_name(ticket.customer.name), "phone": mask_phone(ticket.customer.phone)},
        "device": ticket.device.model.name,
        **promise_head(ticket),
    }


def promise_head(ticket) -> dict:
    """The promised completion time (local ISO 8601, null until check-in and once ready), the express flag
    and the business minutes the repair waited on the customer and on parts (issue #21)."""
    pending = ticket.promised_at is not None and ticket.status in PROMISE_SHOWN
    return {
        "promised_at": timezone.localtime(ticket.promised_at).isoformat() if pending else None,
        "express": bool(ticket.express),
        "waited": {
            "customer_minutes": ticket.paused_customer_minutes,
            "parts_minutes": ticket.paused_parts_minutes,
        },
    }


def promised_local(track: dict):
    """``track["promised_at"]`` as an aware local datetime for a template (None when not shown)."""
    value = track.get("promised_at")
    return timezone.localtime(dt.datetime.fromisoformat(value)) if value else None


def track_payload(ticket, *, loan: dict | None, absent: frozenset = frozenset()) -> dict:
    """The public view of ``ticket``: masked personal data, plain-words status, timeline, quote, loan.

    ``loan`` is the loan box (``loaners.selectors.loan_public_summary``): the page and the API that show
    this payload compose it, because repairs stands below loaners and does not import it.
    ``absent``: parts the caller already knows the ticket has none of (``"quote"``, ``"loan"``), read
    in its own lookup query; they are not queried again."""
    quote = None if "quote" in absent else ticket_current_quote(ticket=ticket)
    return {
        **track_head(ticket),
        "timeline": [
            {
                "status": ev.to_status,
                "status_display": str(TicketStatus(ev.to_status).label),
                "at": ev.at,
                "note": event_text(ev.action),
            }
            for ev in ticket_timeline(ticket=ticket)
        ],
        "quote": quote,
        "quote_awaiting": quote is not None
        and quote.status == QuoteStatus.PENDING
        and ticket.status == TicketStatus.AWAITING_APPROVAL,
        "loan": loan,
    }
