"""Reads for repairs: what an actor may see and do, overdue stages, tracking, the catalog."""

from __future__ import annotations

import hmac

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from servicehub.actors import Actor

from .choices import OPEN_STATUSES, QuoteStatus
from .models import Quote, QuoteLine, RepairOperation, RepairTicket, TicketEvent
from .workflow import MOVES, refusal

# A quote worth showing: the pending one, or the one the repair runs on, or the last decision.
SHOWN_QUOTE_STATUSES = (QuoteStatus.PENDING, QuoteStatus.APPROVED, QuoteStatus.AUTO_APPROVED, QuoteStatus.DECLINED)


def allowed_actions(*, ticket: RepairTicket, actor: Actor) -> list[str]:
    """The actions ``actor`` may apply to ``ticket`` right now (same rules as ``ticket_transition``)."""
    out = []
    for action, move in MOVES.items():
        if ticket.status in move.sources and refusal(move, ticket, actor) is None:
            out.append(action)
    return out


def tickets_overdue(*, now=None) -> QuerySet[RepairTicket]:
    """Open tickets whose current stage is past its SLA due time (for the escalation job)."""
    now = now or timezone.now()
    return RepairTicket.objects.filter(status__in=OPEN_STATUSES, stage_due_at__lt=now).order_by("stage_due_at", "pk")


def sla_breached_q(value: bool, *, now=None) -> Q:
    now = now or timezone.now()
    q = Q(status__in=OPEN_STATUSES, stage_due_at__lt=now)
    return q if value else ~q


def tickets_visible(*, actor: Actor) -> QuerySet[RepairTicket]:
    """Tickets of the actor's centers (repairing center or the collection point that took it in)."""
    qs = RepairTicket.objects.all()
    if actor.center_ids is None:
        return qs
    ids = list(actor.center_ids)
    return qs.filter(Q(center_id__in=ids) | Q(origin_center_id__in=ids))


def tickets_for_list(*, actor: Actor) -> QuerySet[RepairTicket]:
    return (
        tickets_visible(actor=actor)
        .select_related("center", "origin_center", "customer", "device__model", "engineer")
        .order_by("-created_at", "-pk")
    )


def ticket_for_actor(*, service_no: str, actor: Actor) -> RepairTicket | None:
    from .services import service_no_normalize

    return (
        tickets_for_list(actor=actor)
        .prefetch_related(Prefetch("events", queryset=TicketEvent.objects.select_related("actor").order_by("at", "pk")))
        .filter(service_no=service_no_normalize(service_no))
        .first()
    )


def ticket_current_quote(*, ticket: RepairTicket) -> Quote | None:
    """The latest shown quote version with its lines (one query: lines joined to their quote)."""
    lines = list(
        QuoteLine.objects.filter(quote__ticket_id=ticket.pk, quote__status__in=SHOWN_QUOTE_STATUSES)
        .select_related("quote", "operation")
        .order_by("-quote__version", "position")
    )
    if not lines:
        return None
    quote = lines[0].quote
    quote.current_lines = [line for line in lines if line.quote_id == quote.pk]
    return quote


def ticket_loan_summary(*, ticket: RepairTicket) -> dict | None:
    try:
        from loaners.selectors import loan_public_summary
    except ImportError:  # the loaners work has not shipped it yet
        return None
    return loan_public_summary(ticket_id=ticket.pk)


def ticket_track(*, service_no: str, phone_last4: str) -> RepairTicket | None:
    """The ticket when the number exists AND the customer's phone ends with ``phone_last4``; else None.

    Both failures look the same to the caller (no oracle for valid numbers).
    """
    from .services import service_no_normalize

    ticket = (
        RepairTicket.objects.select_related("center", "origin_center", "customer", "device__model")
        .filter(service_no=service_no_normalize(service_no))
        .first()
    )
    given = str(phone_last4 or "").strip()
    expected = ticket.customer.phone[-4:] if ticket is not None else "0000"
    ok = len(given) == 4 and given.isascii() and given.isdigit() and hmac.compare_digest(given, expected)
    if ticket is None or not ok:
        return None
    return ticket


def ticket_contact(*, ticket: RepairTicket) -> dict:
    """Where THIS ticket's messages go besides the customer's phone, and in which language.

    ``{"email", "language", "email_verified"}``: the booking's own unverified contact details
    (``contact_email``/``contact_language``) when it has them, else the customer record's
    (changed only by staff or after an SMS code). Other tickets never see a booking's details.
    """
    customer = ticket.customer
    if ticket.contact_email:
        email, verified = ticket.contact_email, False
    else:
        email, verified = customer.email or "", True
    return {
        "email": email,
        "language": ticket.contact_language or customer.language,
        "email_verified": verified,
    }


def ticket_timeline(*, ticket: RepairTicket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("at", "pk"))


def device_history(*, device) -> QuerySet[RepairTicket]:
    return RepairTicket.objects.filter(device=device).select_related("center").order_by("-created_at", "-pk")


def catalog_for_model(*, model) -> QuerySet[RepairOperation]:
    return RepairOperation.objects.filter(device_model=model, published=True).order_by("code")
