"""Public tracking pages (server-rendered, work without JavaScript).

``/track/`` asks for the service number and the phone's last 4 digits;
``/track/<service_no>/`` shows the repair; ``/track/<service_no>/quote/?t=<signed>``
lets the customer approve or decline a quote through a signed, expiring link.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from servicehub.api.throttling import LookupThrottle
from servicehub.errors import DomainError

from . import selectors, services
from .choices import QuoteStatus, TicketStatus
from .models import Quote, RepairTicket
from .tracking import quote_decision_check, quote_decision_token, track_payload
from .workflow import CustomerActor


class _ThrottleScope:
    throttle_scope = "tracking"


def _throttled(request) -> bool:
    """The API's tracking throttle, applied to the pages too (same per-IP budget)."""
    return not LookupThrottle().allow_request(request, _ThrottleScope())


def _week_hours(center) -> list[dict]:
    """The next 7 days' hours: cached per center version (one query on a miss; was 14 queries)."""
    from centers.selectors import center_week_hours

    return center_week_hours(center=center, start=timezone.localdate(), days=7)


def track_form(request):
    number = services.service_no_normalize(request.GET.get("service_no", ""))
    last4 = request.GET.get("phone_last4", "").strip()
    if number and last4:
        url = reverse("repairs:track-detail", kwargs={"service_no": number})
        return HttpResponseRedirect(f"{url}?{urlencode({'phone_last4': last4})}")
    return render(request, "repairs/track_form.html", {"service_no": number, "error": None})


def track_detail(request, service_no):
    number = services.service_no_normalize(service_no)
    last4 = request.GET.get("phone_last4", "").strip()
    if not last4:
        return render(request, "repairs/track_form.html", {"service_no": number, "error": None})
    if _throttled(request):
        return render(
            request, "repairs/track_form.html",
            {"service_no": number, "error": _("Too many lookups from your network. Please wait a minute.")},
            status=429,
        )
    ticket = selectors.ticket_track(service_no=number, phone_last4=last4)
    if ticket is None:
        return render(
            request, "repairs/track_form.html",
            {"service_no": number, "error": _("We found no repair with this number and phone digits.")},
            status=404,
        )
    return _render_ticket(request, ticket, phone_last4=last4)


def _render_ticket(request, ticket, *, phone_last4="", message=None, error=None, status=200):
    data = track_payload(ticket)
    token = None
    if data["quote_awaiting"]:
        token = quote_decision_token(ticket=ticket, quote=data["quote"])
    return render(
        request,
        "repairs/track_detail.html",
        {
            "ticket": ticket,
            "track": data,
            "phone_last4": phone_last4,
            "token": token,
            "hours": _week_hours(ticket.center),
            "message": message,
            "error": error,
            "statuses": TicketStatus,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def track_quote(request, service_no):
    """GET: the quote behind a signed link; POST: approve or decline it (one transaction, via the service)."""
    number = services.service_no_normalize(service_no)
    token = request.POST.get("t") or request.GET.get("t") or ""
    quote_id = quote_decision_check(token=token, service_no=number)
    ticket = RepairTicket.objects.select_related("center", "customer", "device__model").filter(service_no=number).first()
    if quote_id is None or ticket is None:
        return render(
            request, "repairs/track_form.html",
            {"service_no": number, "error": _("This link is invalid or has expired. Look your repair up again.")},
            status=404,
        )
    quote = Quote.objects.filter(pk=quote_id, ticket=ticket).first()
    if request.method == "GET":
        if quote is None or quote.status != QuoteStatus.PENDING:
            return _render_ticket(request, ticket, error=_("This quote is no longer waiting for a decision."))
        return _render_ticket(request, ticket)
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return _render_ticket(request, ticket, error=_("Choose approve or decline."), status=400)
    try:
        services.ticket_transition(
            ticket_id=ticket.pk, action=decision, actor=CustomerActor(ticket_id=ticket.pk), quote_id=quote_id,
            note=_("Decided by the customer on the tracking page."),
        )
    except DomainError as exc:
        ticket.refresh_from_db()
        return _render_ticket(request, ticket, error=exc.message, status=409 if exc.status == 409 else 400)
    ticket.refresh_from_db()
    msg = _("Thank you: the repair will start now.") if decision == "approve" else _(
        "Noted: we will return your device unrepaired."
    )
    return _render_ticket(request, ticket, message=msg)
