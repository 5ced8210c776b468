"""Public tracking pages (server-rendered, work without JavaScript).

``/track/`` asks for the service number and the phone's last 4 digits;
``/track/<service_no>/`` shows the repair; ``/track/<service_no>/quote/?t=<signed>``
lets the customer approve or decline a quote through a signed, expiring link.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from centers.selectors import center_cache_version_in, center_cache_version_keys
from loaners.selectors import loan_public_summary
from payments.pay_links import pay_path
from payments.selectors import ticket_money
from servicehub.api.throttling import LookupThrottle, lookup_allowed
from servicehub.errors import DomainError
from servicehub.masking import mask_phone
from servicehub.money import ZERO
from web.templatetags.web_extras import track_extras, track_extras_for, track_extras_row, track_shipments
from web.tracking import cached_parts_with, track_absent, track_version_annotations

from . import services, verification
from .choices import QuoteStatus, TicketStatus
from .models import Quote, RepairTicket
from .tracking import promised_local, quote_decision_check, track_head, track_payload
from .workflow import CustomerActor


class _ThrottleScope:
    throttle_scope = "tracking"


def _throttled(request, *, number: str) -> tuple[bool, bool]:
    """The API's tracking throttle, applied to the pages too (same per-IP budget): ``(throttled, locked)``, the
    number's lookup lock read with the throttle's history (one round trip, as the API does)."""
    lock_key = verification.track_lock_key(number)
    allowed, prefetched = lookup_allowed(request, _ThrottleScope(), prefetch=[lock_key])
    return not allowed, bool(prefetched.get(lock_key))


def _week_hours(center, version: str | None = None) -> str:
    """The next 7 days' hours as the page's table: cached per center version, date and language (one query
    on a miss; was 14 queries). ``version``: the center's cache version, if read already."""
    from centers.selectors import center_week_rendered

    return center_week_rendered(
        center=center,
        render=lambda week: render_to_string("repairs/_week_hours.html", {"hours": week}),
        version=version,
    )


def track_form(request):
    number = services.service_no_normalize(request.GET.get("service_no", ""))
    last4 = request.GET.get("phone_last4", "").strip()
    if number and last4:
        url = reverse("repairs:track-detail", kwargs={"service_no": number})
        return HttpResponseRedirect(f"{url}?{urlencode({'phone_last4': last4})}")
    return render(request, "repairs/track_form.html", {"service_no": number, "error": None})


def _form_error(request, number, message, status):
    return render(request, "repairs/track_form.html", {"service_no": number, "error": message}, status=status)


def _ticket_by_number(number: str):
    return _tickets_for_page().filter(service_no=number).first()


def track_page_warm(*, ticket_id: int, language: str | None = None) -> bool:
    """Build what ``track_detail`` caches for this ticket as it is now, in ``language`` (default: the language its
    messages are written in): the parts of its current version and, where the page shows it, its center's hours
    table. Called when the customer is sent the page's link (``web.track_warm``), so the first view of an SMS wave
    is a warm one. False: no such ticket."""
    from notifications.rendering import normalise_language
    from servicehub.dbrouter import primary_reads

    from .selectors import ticket_contact

    with primary_reads():  # just written: a lagging replica would warm the version before the change
        ticket = _tickets_for_page().filter(pk=ticket_id).first()
        if ticket is None:
            return False
        with translation.override(language or normalise_language(ticket_contact(ticket=ticket)["language"])):
            _track, legs, _extras = _track_page_data(ticket, cached=True)
            if not legs:
                _week_hours(ticket.center)
    return True


def _tickets_for_page():
    """The tickets as the tracking page reads them (with the version columns of ``web.tracking``)."""
    return RepairTicket.objects.select_related("center", "customer", "device__model").annotate(
        **track_version_annotations()
    )


def _authorize(request, number: str, params):
    """Who may see this repair, from what the request carries; ``(ticket, access, response)``.

    ``access``: ``"me"`` (signed in to "my service" as the ticket's customer), ``"link"`` (the
    signed link from our SMS, ``k``), ``"digits"`` (the phone's last 4: throttled per address and
    locked per service number). ``response`` is the page to answer with when access is refused.
    """
    me_id = verification.me_customer_id(request)
    if me_id is not None:
        ticket = _ticket_by_number(number)
        if ticket is not None and ticket.customer_id == me_id:
            return ticket, "me", None
    k = params.get("k", "")
    if k:
        ticket = _ticket_by_number(number)
        if ticket is not None and verification.track_access_check(
            token=k, service_no=number, customer_id=ticket.customer_id
        ):
            return ticket, "link", None
        return (
            None,
            "",
            _form_error(request, number, _("This link is invalid or has expired. Look your repair up again."), 404),
        )
    last4 = str(params.get("phone_last4", "")).strip()
    if not last4:
        return None, "", render(request, "repairs/track_form.html", {"service_no": number, "error": None})
    throttled, locked = _throttled(request, number=number)
    if throttled:
        return (
            None,
            "",
            _form_error(request, number, _("Too many lookups from your network. Please wait a minute."), 429),
        )
    try:
        ticket = verification.track_lookup(
            service_no=number, phone_last4=last4, annotate=track_version_annotations, locked=locked
        )
    except DomainError as exc:  # lookup_locked
        return (
            None,
            "",
            render(
                request,
                "repairs/track_form.html",
                {"service_no": number, "error": exc.message, "locked": True},
                status=429,
            ),
        )
    if ticket is None:
        return None, "", _form_error(request, number, _("We found no repair with this number and phone digits."), 404)
    return ticket, "digits", None


def track_detail(request, service_no):
    number = services.service_no_normalize(service_no)
    ticket, access, refused = _authorize(request, number, request.GET)
    if refused is not None:
        return refused
    return _render_ticket(request, ticket, access=access, cached=True)


def _track_page_data(ticket, *, cached: bool):
    """``(track, legs, extras)`` for the page. ``cached`` (a GET of ``track_detail``, whose ticket was
    read with the version columns): what the related rows show comes from the cache per ticket
    version (``web.tracking``); the ticket's own fields, the quote-awaiting flag and what depends on
    the time (may the appointment still change) are computed on every request."""

    def build():
        # Parts the lookup query saw no rows of are not queried (a warm page is 1 query, a cold one at
        # most 1 + timeline + the parts the ticket has).
        absent = track_absent(ticket)
        loan = None if "loan" in absent else loan_public_summary(ticket_id=ticket.pk)
        payload = track_payload(ticket, loan=loan, absent=absent)
        if "appointment" in absent and hasattr(ticket, "tv_survey"):
            appointment, has_survey = None, bool(ticket.tv_survey)
        else:
            appointment, has_survey = track_extras_row(ticket)
        # The quote's table and the timeline as HTML, cached with the rows they show: the same for every visitor
        # of this ticket version in this language; formatting their dates, prices and labels was a tenth of a page.
        return {
            "timeline_html": render_to_string("repairs/_timeline.html", {"timeline": payload["timeline"]}),
            "quote_html": render_to_string("repairs/_quote.html", {"quote": payload["quote"]})
            if payload["quote"] is not None
            else "",
            "quote": payload["quote"],
            "loan": payload["loan"],
            "legs": track_shipments(ticket, none="shipments" in absent),
            "amount_due": ZERO if "money" in absent else ticket_money(ticket).amount_due,
            "appointment": appointment,
            "has_survey": has_survey,
        }

    # The center's cache version (for its hours table) read with the parts: one round trip, not two.
    version_keys = center_cache_version_keys(code=ticket.center.code)
    parts, found = cached_parts_with("page", ticket, build, also=version_keys) if cached else (build(), {})
    quote = parts["quote"]
    track = {
        **track_head(ticket),
        "timeline_html": parts["timeline_html"],
        "quote_html": parts["quote_html"],
        "quote": quote,
        "quote_awaiting": quote is not None
        and quote.status == QuoteStatus.PENDING
        and ticket.status == TicketStatus.AWAITING_APPROVAL,
        "loan": parts["loan"],
        "amount_due": parts.get("amount_due", ZERO),
    }
    extras = track_extras_for(ticket, appointment=parts["appointment"], has_survey=parts["has_survey"])
    track["center_version"] = center_cache_version_in(found, code=ticket.center.code)
    return track, parts["legs"], extras


def _render_ticket(
    request,
    ticket,
    *,
    access,
    token=None,
    message=None,
    error=None,
    status=200,
    code_sent=False,
    data=None,
    cached=False,
):
    """The repair page. A quote-approval ``token`` is rendered only when the caller came with the
    signed link of the CURRENT pending quote (``track_quote``); other visitors approve after an
    SMS code (digits, SMS link) or as the signed-in customer ("my service")."""
    if data is None:
        data, legs, extras = _track_page_data(ticket, cached=cached)
    else:
        legs, extras = track_shipments(ticket), track_extras(ticket)
    params = request.POST if request.method == "POST" else request.GET
    return render(
        request,
        "repairs/track_detail.html",
        {
            "ticket": ticket,
            "track": data,
            "promised_at": promised_local(data),
            "access": access,
            "phone_last4": str(params.get("phone_last4", "")).strip() if access == "digits" else "",
            "access_k": params.get("k", "") if access == "link" else "",
            "token": token if data["quote_awaiting"] else None,
            # Whoever sees this page may pay what is due (a signed, expiring link to the QR page).
            "pay_link": pay_path(ticket.pk) if data.get("amount_due", ZERO) > 0 else None,
            "code_sent": code_sent,
            # A callable: the template reads the hours only where it shows them (not beside the courier legs).
            "hours": lambda: _week_hours(ticket.center, data.get("center_version")),
            "message": message,
            "error": error,
            "statuses": TicketStatus,
            "legs": legs,
            "extras": extras,
        },
        status=status,
    )


@require_http_methods(["POST"])
def track_quote_code(request, service_no):
    """Send the customer an SMS code to approve the quote from a digits lookup or the SMS link."""
    number = services.service_no_normalize(service_no)
    ticket, access, refused = _authorize(request, number, request.POST)
    if refused is not None:
        return refused
    try:
        verification.verification_code_send(
            phone=ticket.customer.phone, address=LookupThrottle().get_ident(request), language=get_language()
        )
    except DomainError as exc:
        return _render_ticket(request, ticket, access=access, error=exc.message, status=exc.status)
    return _render_ticket(
        request,
        ticket,
        access=access,
        code_sent=True,
        message=_("We sent a 6-digit code to your phone %(phone)s. It is valid for 5 minutes.")
        % {"phone": mask_phone(ticket.customer.phone)},
    )


@require_http_methods(["GET", "POST"])
def track_quote(request, service_no):
    """The quote behind a signed link (GET/POST ``t``), or a decision from the tracking page.

    The signed link is bound to one quote version: for a superseded version it opens nothing
    (no page of the ticket, no token for the current quote). Without a link the decision needs
    the signed-in customer ("my service") or the phone digits / SMS link plus an SMS code.
    """
    number = services.service_no_normalize(service_no)
    token = request.POST.get("t") or request.GET.get("t") or ""
    if token or request.method == "GET":
        quote_id = quote_decision_check(token=token, service_no=number)
        ticket = _ticket_by_number(number) if quote_id is not None else None
        quote = Quote.objects.filter(pk=quote_id, ticket=ticket).first() if ticket is not None else None
        if quote is None:
            return _form_error(
                request, number, _("This link is invalid or has expired. Look your repair up again."), 404
            )
        if quote.status == QuoteStatus.SUPERSEDED:
            return _form_error(
                request,
                number,
                _(
                    "This quote was replaced by a newer version. Open the newest link we sent you, or look your "
                    "repair up again."
                ),
                410,
            )
        if request.method == "GET":
            if quote.status != QuoteStatus.PENDING:
                return _render_ticket(
                    request, ticket, access="token", error=_("This quote is no longer waiting for a decision.")
                )
            return _render_ticket(request, ticket, access="token", token=token)
        access = "token"
    else:
        ticket, access, refused = _authorize(request, number, request.POST)
        if refused is not None:
            return refused
        raw = request.POST.get("quote", "")
        quote_id = int(raw) if raw.isdigit() else None
        if quote_id is None:
            return _render_ticket(request, ticket, access=access, error=_("Choose approve or decline."), status=400)
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return _render_ticket(
            request, ticket, access=access, token=token or None, error=_("Choose approve or decline."), status=400
        )
    if access in ("digits", "link"):
        try:
            verification.verification_code_check(phone=ticket.customer.phone, code=request.POST.get("code", ""))
        except DomainError as exc:
            return _render_ticket(request, ticket, access=access, code_sent=True, error=exc.message, status=400)
    try:
        services.ticket_transition(
            ticket_id=ticket.pk,
            action=decision,
            actor=CustomerActor(ticket_id=ticket.pk),
            quote_id=quote_id,
            note=_("Decided by the customer on the tracking page."),
        )
    except DomainError as exc:
        ticket.refresh_from_db()
        return _render_ticket(
            request, ticket, access=access, error=exc.message, status=409 if exc.status == 409 else 400
        )
    ticket.refresh_from_db()
    msg = (
        _("Thank you: the repair will start now.")
        if decision == "approve"
        else _("Noted: we will return your device unrepaired.")
    )
    return _render_ticket(request, ticket, access=access, message=msg)
