"""Public pages of accounting: the customer's fapiao request (from the tracking page and "my service") and
the issued fapiao's document behind its signed link.

The customer is the one who knows the service number and the phone's last 4 digits (throttled and locked
like the tracking page: ``web.views._verified_ticket``), or the signed-in "my service" customer.
"""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from repairs.workflow import CustomerActor
from servicehub.errors import DomainError
from web.forms import add_domain_error
from web.views import _customer_page, _verified_ticket

from . import selectors, services
from .choices import RequestedVia
from .forms import FapiaoForm


@require_http_methods(["GET", "POST"])
@_customer_page
def track_fapiao(request, service_no: str):
    """Ask for an electronic fapiao for a repair, or see the one asked for (its status, number and link)."""
    ticket, last4 = _verified_ticket(request, service_no)
    fapiao = selectors.ticket_fapiao(ticket_id=ticket.pk)
    form = FapiaoForm(request.POST or None, initial={"email": ""})
    status = 200
    if request.method == "POST" and fapiao is None:
        if form.is_valid():
            try:
                fapiao = services.fapiao_request(
                    actor=CustomerActor(ticket_id=ticket.pk, center_ids=frozenset()),
                    ticket_id=ticket.pk,
                    via=RequestedVia.TRACKING if last4 else RequestedVia.ME,
                    **form.cleaned_data,
                )
            except DomainError as err:
                add_domain_error(form, err)
                status = 409 if err.status == 409 else 400
            else:
                fapiao = selectors.ticket_fapiao(ticket_id=ticket.pk)  # as issued by the (eager) task
        else:
            status = 400
    paid = selectors.subject_paid_net(ticket_id=ticket.pk) if fapiao is None else fapiao.amount
    track_url = reverse("repairs:track-detail", args=[ticket.service_no]) + (f"?phone_last4={last4}" if last4 else "")
    return render(
        request,
        "accounting/track_fapiao.html",
        {"ticket": ticket, "fapiao": fapiao, "form": form, "paid": paid, "phone_last4": last4, "track_url": track_url},
        status=status,
    )


@require_safe
def fapiao_document(request, token: str):
    """The issued fapiao's document (the sandbox's HTML), for whoever holds the signed link we sent."""
    fapiao_id = services.fapiao_document_id(token)
    fapiao = selectors.fapiao_with_document(fapiao_id=fapiao_id) if fapiao_id is not None else None
    if fapiao is None or not fapiao.document:
        raise Http404("No such fapiao")
    response = HttpResponse(fapiao.document, content_type="text/html; charset=utf-8")
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store"
    return response
