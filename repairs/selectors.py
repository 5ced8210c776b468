"""Reads for repairs: what an actor may see and do, overdue stages, tracking, the catalog."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from servicehub.actors import Actor
from servicehub.errors import DomainError
from servicehub.phones import phone_normalize
from servicehub.prepared import PreparedQuery

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


def ticket_search_q(term: str) -> Q | None:
    """The list search beyond the exact fields: a phone in any form (the project's ``phone_normalize``:
    13800138000, 138 0013 8000, +86…, 0086…) and a service number as typed (lower case, dashes)."""
    from .services import service_no_normalize

    term = (term or "").strip()
    if not term:
        return None
    q = Q(service_no=service_no_normalize(term))
    if sum(ch.isdigit() for ch in term) >= 7:
        try:
            q |= Q(customer__phone=phone_normalize(term))
        except DomainError:
            pass
    return q


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


def _shown_quote_lines(ticket_id) -> QuerySet[QuoteLine]:
    return (
        QuoteLine.objects.filter(quote__ticket_id=ticket_id, quote__status__in=SHOWN_QUOTE_STATUSES)
        .select_related("quote", "operation")
        .order_by("-quote__version", "position")
    )


# Both run on every tracking page and API answer built (an SMS wave asks for every ticket once, so each one is
# built, not read from the cache): compiled once per process (servicehub.prepared), as the lookup is.
_QUOTE_LINES = PreparedQuery(_shown_quote_lines, model=QuoteLine, ints=frozenset({"ticket_id"}))
_TIMELINE = PreparedQuery(
    lambda ticket_id: TicketEvent.objects.filter(ticket_id=ticket_id).order_by("at", "pk"),
    model=TicketEvent,
    ints=frozenset({"ticket_id"}),
)


def ticket_current_quote(*, ticket: RepairTicket) -> Quote | None:
    """The latest shown quote version with its lines (one query: lines joined to their quote)."""
    lines = _QUOTE_LINES.run(ticket_id=ticket.pk)
    if not lines:
        return None
    quote = lines[0].quote
    quote.current_lines = [line for line in lines if line.quote_id == quote.pk]
    return quote


_TRACK_QUERIES: dict = {}


def _track_query(annotate: Callable[[], dict] | None) -> PreparedQuery[RepairTicket]:
    """The tracking lookup, compiled once per process for each set of extra columns (servicehub.prepared):
    it runs for every tracking request, and building and compiling it cost 30x what PostgreSQL takes."""
    query = _TRACK_QUERIES.get(annotate)
    if query is None:

        def build(service_no):
            qs = RepairTicket.objects.select_related("center", "origin_center", "customer", "device__model")
            if annotate is not None:
                qs = qs.annotate(**annotate())
            return qs.filter(service_no=service_no)[:1]

        query = _TRACK_QUERIES.setdefault(annotate, PreparedQuery(build, model=RepairTicket))
    return query


def ticket_track(
    *, service_no: str, phone_last4: str, annotate: Callable[[], dict] | None = None
) -> RepairTicket | None:
    """The ticket when the number exists AND the customer's phone ends with ``phone_last4``; else None.

    Both failures look the same to the caller (no oracle for valid numbers). ``annotate``: a function
    giving extra columns read in the same query (the interface's tracking-cache version,
    ``web.tracking.track_version_annotations``); the same function object each time, as the query is
    compiled once for it.
    """
    from .services import service_no_normalize

    found = _track_query(annotate).run(service_no=service_no_normalize(service_no))
    ticket = found[0] if found else None
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
    return _TIMELINE.run(ticket_id=ticket.pk)


def device_history(*, device) -> QuerySet[RepairTicket]:
    return RepairTicket.objects.filter(device=device).select_related("center").order_by("-created_at", "-pk")


def catalog_for_model(*, model) -> QuerySet[RepairOperation]:
    return RepairOperation.objects.filter(device_model=model, published=True).order_by("code")


# --- the counter: check-in lookup, ticket list, engineer's bench, today at the desk ------------------
#
# Who sees a customer's name and phone in full: staff at a center that holds one of the customer's
# tickets, and only the roles that talk to customers (front desk, managers) -- engineers see them
# masked. HQ and superusers see everything. Another center's history of a device shows what a
# repair needs (date, center, fault, outcome) and nothing that identifies the owner or opens the
# ticket's tracking page (the service number plus the phone's last 4 digits would).

FULL_CONTACT_ROLES = frozenset({"front_desk", "manager"})
# A device in one of these is already in the network's hands: a second ticket needs a reason.
DUPLICATE_GUARD_STATUSES = OPEN_STATUSES


def contact_in_full(*, actor: Actor, center_ids) -> bool:
    """May ``actor`` read a customer's name and phone in full on a ticket of ``center_ids``?"""
    if actor.center_ids is None:
        return True
    return any(FULL_CONTACT_ROLES & set(actor.roles.get(c, ())) for c in center_ids if c is not None)


def desk_center_ids(*, actor: Actor) -> list[int] | None:
    """Centers where ``actor`` works the counter (front desk, manager); None = all (HQ, superusers)."""
    if actor.center_ids is None:
        return None
    return sorted(c for c in actor.center_ids if FULL_CONTACT_ROLES & set(actor.roles.get(c, ())))


def _mine_q(actor: Actor) -> Q:
    ids = list(actor.center_ids or ())
    return Q(center_id__in=ids) | Q(origin_center_id__in=ids)


def device_open_tickets(*, device) -> QuerySet[RepairTicket]:
    """Tickets of ``device`` still in the network's hands (any center), oldest first."""
    return (
        RepairTicket.objects.filter(device=device, status__in=DUPLICATE_GUARD_STATUSES)
        .select_related("center")
        .order_by("created_at", "pk")
    )


def _contact(customer, *, full: bool) -> dict:
    from servicehub.masking import mask_name, mask_phone

    if full:
        return {"name": customer.name, "phone": customer.phone, "masked": False}
    return {"name": mask_name(customer.name), "phone": mask_phone(customer.phone), "masked": True}


def _history_row(ticket: RepairTicket, *, actor: Actor) -> dict:
    """One line of a device's history; another center's ticket carries no number and no link."""
    visible = actor.center_ids is None or bool({ticket.center_id, ticket.origin_center_id} & set(actor.center_ids))
    return {
        "date": ticket.created_at,
        "center": ticket.center.name,
        "fault": ticket.get_fault_category_display(),
        "status": ticket.status,
        "outcome": staff_status_label(ticket.status),
        "open": ticket.status in DUPLICATE_GUARD_STATUSES,
        "mine": visible,
        "service_no": ticket.service_no if visible else "",
        "pk": ticket.pk if visible else None,
    }


def desk_lookup(*, actor: Actor, phone: str = "", imei: str = "", serial: str = "", service_no: str = "") -> dict:
    """What the counter may see before a check-in, by phone, IMEI/serial or a booking's service number.

    Returns ``{"booking", "customer", "device", "coverage", "history", "open_tickets", "other_open",
    "prefill", "phone_error", "service_no_error"}``:

    - ``booking``: the booked ticket for ``service_no`` at the actor's centers (another center's number
      looks like an unknown one); its customer, device and fault fill the form (``prefill``);
    - ``customer``: found by phone in any form (13800138000, 138 0013 8000, +86…, 0086…) as
      ``{"name", "phone", "masked", "known_here"}``: masked unless the customer has a ticket at the
      actor's centers and the actor's role talks to customers (``contact_in_full``);
    - ``history``: the device's last 10 tickets (``_history_row``: another center's rows without
      service number or link); ``open_tickets``: the device's open tickets at the actor's centers
      (with links), ``other_open``: how many are open elsewhere;
    - ``prefill``: form values the desk does not have to type again (never another center's data).

    A fixed number of queries, whatever the history holds.
    """
    from warranty.selectors import device_coverage, device_find

    from .models import Customer
    from .services import service_no_normalize

    out: dict = {
        "booking": None,
        "customer": None,
        "device": None,
        "coverage": None,
        "history": [],
        "open_tickets": [],
        "other_open": 0,
        "prefill": {},
        "phone_error": None,
        "service_no_error": None,
    }
    prefill = out["prefill"]
    mine = _mine_q(actor)
    all_centers = actor.center_ids is None

    if service_no:
        booking = (
            tickets_visible(actor=actor)
            .select_related("customer", "device__model", "center")
            .filter(service_no=service_no_normalize(service_no), status="booked")
            .first()
        )
        if booking is None:
            from django.utils.translation import gettext

            out["service_no_error"] = gettext("No booking with this service number waits at your center.")
        else:
            out["booking"] = booking
            full = contact_in_full(actor=actor, center_ids=(booking.center_id, booking.origin_center_id))
            out["customer"] = {**_contact(booking.customer, full=full), "known_here": True}
            prefill.update(
                {
                    "service_no": booking.service_no,
                    "imei": booking.device.imei or "",
                    "serial": booking.device.serial or "",
                    "fault_category": booking.fault_category,
                    "fault_description": booking.fault_description,
                    "channel": booking.channel,
                }
            )
            if full:
                prefill.update({"name": booking.customer.name, "phone": booking.customer.phone})
            if not imei and not serial:
                imei, serial = booking.device.imei or "", booking.device.serial or ""

    if phone and out["customer"] is None:
        try:
            e164 = phone_normalize(phone)
        except DomainError as exc:  # shown next to the field
            out["phone_error"] = exc.message
        else:
            customer = Customer.objects.filter(phone=e164).first()
            if customer is not None:
                if all_centers:
                    known, full = True, True
                else:
                    rows = (
                        RepairTicket.objects.filter(mine, customer=customer)
                        .values_list("center_id", "origin_center_id")
                        .distinct()
                    )
                    here = {c for row in rows for c in row if c in (actor.center_ids or frozenset())}
                    known, full = bool(here), contact_in_full(actor=actor, center_ids=here)
                out["customer"] = {**_contact(customer, full=full), "known_here": known}
                if full:
                    prefill.update({"name": customer.name, "phone": customer.phone})

    device = None
    if imei or serial:
        try:
            device = device_find(imei=imei or None, serial=serial or None)
        except DomainError:  # a malformed IMEI is reported by the check-in itself
            device = None
    if device is not None:
        out["device"] = device
        out["coverage"] = device_coverage(device=device)
        history = list(
            RepairTicket.objects.filter(device=device)
            .select_related("center", "customer")
            .order_by("-created_at", "-pk")[:10]
        )
        out["history"] = [_history_row(t, actor=actor) for t in history]
        open_all = list(device_open_tickets(device=device))
        open_mine = [t for t in open_all if _history_row(t, actor=actor)["mine"]]
        out["open_tickets"] = [_history_row(t, actor=actor) for t in open_mine]
        out["other_open"] = len(open_all) - len(open_mine)
        prefill.setdefault("model", device.model.code)
        # The last owner on record fills the form only when that ticket is ours to see.
        last_mine = next((t for t in history if _history_row(t, actor=actor)["mine"]), None)
        if last_mine is not None and "phone" not in prefill and not phone:
            if contact_in_full(actor=actor, center_ids=(last_mine.center_id, last_mine.origin_center_id)):
                prefill.update({"name": last_mine.customer.name, "phone": last_mine.customer.phone})
                out["customer"] = {**_contact(last_mine.customer, full=True), "known_here": True}
    return out


# Status words for staff (the choices' labels speak to the customer: "Waiting for your approval").
def staff_status_label(status: str) -> str:
    from django.utils.translation import gettext

    words = {
        "booked": gettext("Booked, not arrived"),
        "received": gettext("Received, waiting for diagnosis"),
        "in_transit": gettext("In transit to the hub"),
        "diagnosing": gettext("Diagnosing"),
        "awaiting_approval": gettext("Waiting for the customer's approval"),
        "awaiting_parts": gettext("Waiting for parts"),
        "repairing": gettext("Repairing"),
        "quality_check": gettext("Quality check"),
        "ready": gettext("Ready for pickup"),
        "returning": gettext("Returning to the customer"),
        "delivered": gettext("Handed back"),
        "closed": gettext("Closed (done)"),
        "cancelled": gettext("Cancelled"),
    }
    return words.get(status, status)


def bench_for(*, actor: Actor) -> dict:
    """What waits for an engineer, at the centers where they are an engineer (or manager; HQ: all).

    ``diagnosis``: received and at the hub (not still at a collection point), oldest due first;
    ``to_start``: repairing with nobody on it yet (quote approved or free); ``mine``: repairing and
    awaiting parts with this engineer on it; ``qc``: quality checks of repairs by OTHER engineers.
    Four queries, whatever the number of rows.
    """
    user = actor.user
    if actor.center_ids is None:
        scope = RepairTicket.objects.all()
    else:
        ids = [c for c, roles in actor.roles.items() if c is not None and roles & {"engineer", "manager"}]
        scope = RepairTicket.objects.filter(center_id__in=ids)
    base = scope.select_related("center", "customer", "device__model", "engineer").order_by(
        "stage_due_at", "created_at", "pk"
    )
    diagnosis = base.filter(status="received").filter(Q(origin_center__isnull=True) | Q(hub_received_at__isnull=False))
    return {
        "diagnosis": list(diagnosis[:100]),
        "to_start": list(base.filter(status="repairing", engineer__isnull=True)[:100]),
        "mine": list(base.filter(status__in=("repairing", "awaiting_parts"), engineer_id=user.pk)[:100]),
        "qc": list(base.filter(status="quality_check").exclude(engineer_id=user.pk)[:100]),
    }


def desk_today(*, actor: Actor, now=None) -> dict:
    """The front desk's day: booked arrivals today, ready for pickup, overdue stages, express repairs in work
    (the 1-hour promise, soonest first; RepairTicket rows).

    Loans due back are the loaners app's (the desk page asks ``loaners.selectors``). Four queries.
    """
    import datetime as dt

    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    base = tickets_visible(actor=actor)
    ids = desk_center_ids(actor=actor)
    if ids is not None:  # only where the actor works the counter: the page shows phones in full
        base = base.filter(Q(center_id__in=ids) | Q(origin_center_id__in=ids))
    base = base.select_related("center", "customer", "device__model", "engineer")
    arrivals = (
        base.filter(status="booked", appointment__start__gte=start, appointment__start__lt=end)
        .select_related("appointment")
        .order_by("appointment__start", "pk")
    )
    overdue = list(base.filter(sla_breached_q(True, now=now)).order_by("stage_due_at", "pk")[:200])
    for t in overdue:
        t.staff_status = staff_status_label(t.status)
    return {
        "day_start": start,
        "arrivals": list(arrivals[:200]),
        "ready": list(base.filter(status="ready").order_by("ready_at", "pk")[:200]),
        "overdue": overdue,
        "express": list(
            base.filter(express=True, status__in=[s for s in OPEN_STATUSES if s != "ready"]).order_by(
                "promised_at", "pk"
            )[:200]
        ),
    }
