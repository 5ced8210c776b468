"""Public pages of community events and classes (issue #22): the list by center and month, an event with its
sign-up form, and the confirmation with the door code. zh-Hans by default, English on request; 360 px first.

Sign-ups are throttled per address with the API's ``event_signup`` rate (the same budget for page and API).
The confirmation page opens only in the browser session that signed up (the code is not in the URL).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from centers.models import ServiceCenter
from servicehub.api.throttling import LookupThrottle
from servicehub.errors import DomainError
from web.forms import Form, add_domain_error

from . import selectors, services
from .choices import EventKind
from .models import Registration

SESSION_KEY = "outreach_registrations"
MONTHS_SHOWN = 3


class _SignupScope:
    throttle_scope = "event_signup"


class SignupForm(Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"),
        max_length=32,
        help_text=gettext_lazy("We send your door code to this phone by SMS."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def _months(today: dt.date) -> list[dict]:
    out, year, month = [], today.year, today.month
    for _i in range(MONTHS_SHOWN):
        out.append({"value": f"{year}-{month:02d}", "year": year, "month": month})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def events_list(request):
    center_code = request.GET.get("center", "").strip()
    month = request.GET.get("month", "").strip()
    kind = request.GET.get("kind", "").strip()
    if kind not in (EventKind.COMMUNITY_OUTREACH, EventKind.CUSTOMER_CLASS):
        kind = ""
    if month and selectors.month_bounds(month) is None:
        month = ""
    events = list(selectors.events_public(center_code=center_code, month=month, kind=kind)[:100])
    centers = ServiceCenter.objects.filter(
        active=True, outreach_events__public=True, outreach_events__ends_at__gt=timezone.now()
    ).distinct()
    context = {
        "events": events,
        "centers": centers.order_by("code").only("code", "name"),
        "months": _months(timezone.localdate()),
        "center_code": center_code,
        "month": month,
        "kind": kind,
        "kinds": [
            (EventKind.CUSTOMER_CLASS, EventKind.CUSTOMER_CLASS.label),
            (EventKind.COMMUNITY_OUTREACH, EventKind.COMMUNITY_OUTREACH.label),
        ],
    }
    return render(request, "outreach/events_list.html", context)


def event_detail(request, pk: int):
    event = selectors.event_public(event_id=pk)
    if event is None:
        raise Http404(_("No such event."))
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not LookupThrottle().allow_request(request, _SignupScope()):
            return render(request, "outreach/too_many.html", status=429)
        if form.is_valid():
            try:
                registration = services.event_register(
                    event_id=event.pk, language=get_language() or "", **form.cleaned_data
                )
            except DomainError as err:
                add_domain_error(form, err)
                status = err.status if err.status in (400, 409, 422) else 400
                event = selectors.event_public(event_id=pk) or event  # the places left, now
            else:
                mine = [*request.session.get(SESSION_KEY, []), registration.pk][-20:]
                request.session[SESSION_KEY] = mine
                return redirect("outreach:event_signed_up", pk=event.pk, registration_id=registration.pk)
        else:
            status = 400
    context = {"event": event, "form": form, "open": selectors.sign_up_open(event)}
    return render(request, "outreach/event_detail.html", context, status=status)


def event_signed_up(request, pk: int, registration_id: int):
    if registration_id not in request.session.get(SESSION_KEY, []):
        raise Http404(_("No such registration."))
    registration = Registration.objects.select_related("event__center").filter(pk=registration_id, event_id=pk).first()
    if registration is None:
        raise Http404(_("No such registration."))
    return render(request, "outreach/event_signed_up.html", {"registration": registration, "event": registration.event})
