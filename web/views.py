"""Public pages (everything except /track/, which the repairs app serves).

Server-rendered; htmx only swaps parts of the same pages (day picker, center list), so every
page works without JavaScript. Views parse input with forms and call services/selectors.
"""

from __future__ import annotations

import datetime as dt

import segno
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from booking import selectors as booking_selectors
from booking import services as booking_services
from centers import selectors as center_selectors
from centers.choices import ServiceOffering
from outreach.selectors import sign_session_for_appointment_get
from servicehub.dates import parse_day, parse_moment
from servicehub.errors import DomainError

from . import forms
from .calendar import appointment_ics

# --- helpers -------------------------------------------------------------------------------


class _TrackingScope:
    throttle_scope = "tracking"


def _verified_ticket(request, service_no: str):
    """The ticket if ``phone_last4`` (query or form) matches its customer's phone; else 404.

    Guessing the 4 digits is throttled per client exactly like the tracking page and API
    (the ``tracking`` rate): over the budget the answer is 429, whatever the digits.
    """
    from repairs import verification
    from repairs.models import RepairTicket
    from repairs.services import service_no_normalize
    from servicehub.api.throttling import LookupThrottle

    me_id = verification.me_customer_id(request)
    if me_id is not None:  # signed in to "my service": their own tickets open without digits
        ticket = (
            RepairTicket.objects.select_related("center", "origin_center", "customer", "device__model")
            .filter(service_no=service_no_normalize(service_no), customer_id=me_id)
            .first()
        )
        if ticket is not None:
            return ticket, ""
    if not LookupThrottle().allow_request(request, _TrackingScope()):
        raise _TooManyLookups
    last4 = request.POST.get("phone_last4") or request.GET.get("phone_last4") or ""
    try:
        # Locked per service number after 10 wrong digits within an hour (repairs.verification).
        ticket = verification.track_lookup(service_no=service_no, phone_last4=last4)
    except DomainError as exc:
        raise _TooManyLookups(exc.message) from None
    if ticket is None:
        raise Http404(_("No repair with this number and phone."))
    return ticket, last4


class _TooManyLookups(Exception):
    """Over the per-address budget (no message) or the service number is locked (its message)."""


def _customer_page(view):
    """Pages behind the service number + phone digits: 429 page when the client guesses too much."""
    from functools import wraps

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _TooManyLookups as exc:
            return render(request, "web/too_many.html", {"locked_message": str(exc)}, status=429)

    return wrapped


def _track_url(request, ticket, last4: str) -> str:
    """Absolute URL of the repair's tracking page (served by the repairs app), with the phone digits.

    ``/track/<service_no>/`` is a stable URL (docs/api-contract.md: SMS and QR codes link to it).
    """
    try:
        path = reverse("repairs:track-detail", args=[ticket.service_no])
    except NoReverseMatch:
        path = f"/track/{ticket.service_no}/"
    return request.build_absolute_uri(path + ("?" + urlencode({"phone_last4": last4}) if last4 else ""))


def _slot_choices(slots) -> list[tuple[str, str]]:
    return [
        (s.start.isoformat(), f"{timezone.localtime(s.start):%H:%M}–{timezone.localtime(s.end):%H:%M}")
        for s in slots
        if s.available > 0
    ]


def _days_with_slots(center, today):
    first, last = booking_selectors.booking_window(today=today)
    days = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        templates = booking_selectors.slot_templates(center=center, day=day)
        days.append({"date": day, "open": bool(templates)})
    return days


# --- home, centers, verify -----------------------------------------------------------------


def home(request):
    return render(request, "web/home.html", {"search_form": forms.CenterSearchForm()})


def _find(request, *, service: str | None = None):
    """The search form and its answer (``web.find``) for /centers/ and step 1 of /book/."""
    from .find import find_places

    form = forms.CenterSearchForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        q, position, page = (d["q"] or "").strip(), d["position"], d["page"] or 1
        if position is not None:
            result = find_places(near=position, service=service, page=page)
        elif q:
            result = find_places(q=q, service=service, page=page)
        elif "q" in request.GET:
            form.add_error("q", _("Enter a province, city, district or address, or use your location."))
    return form, result


def _page_url(request, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return "?" + params.urlencode()


def _find_context(request, form, result) -> dict:
    return {
        "form": form,
        "result": result,
        "results": result.places if result else [],
        "searched": result is not None,
        "next_url": _page_url(request, result.page + 1) if result and result.has_more else "",
        "prev_url": _page_url(request, result.page - 1) if result and result.page > 1 else "",
    }


def centers(request):
    form, result = _find(request)
    context = _find_context(request, form, result)
    if result is not None and result.cache_key:
        # The cards of a region's cached places are the same for everyone within the minute (open now and
        # "opens Mon 09:00" are minute by minute): rendered once per minute and language.
        minute = center_selectors.local_now().strftime("%Y%m%d%H%M")
        context["cards_cache_key"] = f"{result.cache_key}:{minute}"
    template = "web/_center_results.html" if request.htmx else "web/centers.html"
    return render(request, template, context)


def center_detail(request, code: str):
    center = center_selectors.center_public_detail(code=code, rendered=("page",))
    if center is None:
        raise Http404(_("No such center."))

    def body() -> str:
        weekly = {}
        for h in center.opening_hours.all():
            weekly.setdefault(h.weekday, []).append(h)
        from centers.choices import DeviceCategory, Weekday

        labels = dict(ServiceOffering.choices) | dict(DeviceCategory.choices)
        hours = [{"day": label, "intervals": weekly.get(value, [])} for value, label in Weekday.choices]
        context = {
            "center": center,
            "hours": hours,
            "services": [labels.get(s, s) for s in center.services or []],
            "takes_appointments": booking_selectors.center_takes_appointments(center=center),
        }
        return render_to_string("web/_center_detail_body.html", context)

    # Everything but "open now" rendered once per center version, day and language, read with the center.
    body_html = center_selectors.center_public_rendered(center=center, kind="page", render=body)
    return render(request, "web/center_detail.html", {"center": center, "body_html": body_html})


class _StoreReportScope:
    throttle_scope = "store_reports"


_STORE_REPORT_SALT = "web.store_report"


def store_report(request):
    """Report a store that may pass itself off as official; the verify page links here (issue #22).

    Throttled per client address with the API's ``store_reports`` rate (same counter): over it, the 429 page.
    """
    from django.core import signing

    from centers.services import store_report_create
    from servicehub.api.throttling import LookupThrottle, PublicAnonThrottle

    if request.method == "POST":
        form = forms.StoreReportForm(request.POST, request.FILES)
        if form.is_valid():
            if not LookupThrottle().allow_request(request, _StoreReportScope()):
                form.add_error(None, _("Too many reports from your network. Please try again later."))
                return render(request, "web/store_report.html", {"form": form}, status=429)
            d = form.cleaned_data
            try:
                report = store_report_create(
                    name=d["name"],
                    address=d["address"],
                    phone=d["phone"],
                    note=d["note"],
                    reporter_contact=d["contact"],
                    photos=d["photos"],
                    client_ip=PublicAnonThrottle().get_ident(request),
                )
            except DomainError as err:
                forms.add_domain_error(form, err)
            else:
                token = signing.dumps(report.pk, salt=_STORE_REPORT_SALT)
                return redirect("web_store_report_done", token=token)
    else:
        initial = {k: request.GET.get(k, "")[:200] for k in ("name", "phone") if request.GET.get(k)}
        form = forms.StoreReportForm(initial=initial)
    return render(request, "web/store_report.html", {"form": form})


def store_report_done(request, token: str):
    from django.core import signing

    from centers.models import StoreReport

    try:
        pk = signing.loads(token, salt=_STORE_REPORT_SALT, max_age=24 * 3600)
    except signing.BadSignature:
        raise Http404(_("No such report.")) from None
    report = StoreReport(pk=pk)  # only the reference is shown: no query, nothing of the report revealed
    return render(request, "web/store_report_done.html", {"reference": report.reference})


def verify(request):
    form = forms.VerifyForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        result = center_selectors.centers_verify(phone=d["phone"], name=d["name"], city=d["city"])
    # "Report this store" carries what the customer typed (the report form starts with it).
    report_query = urlencode({k: v for k, v in (form.cleaned_data if result else {}).items() if k != "city" and v})
    return render(request, "web/verify.html", {"form": form, "result": result, "report_query": report_query})


# --- booking -------------------------------------------------------------------------------


def _chosen_day(raw: str, days: list[dict], today: dt.date) -> tuple[dt.date, str]:
    """The day to show and, for a hand-edited date that cannot be booked, the words why."""
    first_open = next((d["date"] for d in days if d["open"]), today + dt.timedelta(days=1))
    if not raw:
        return first_open, ""
    day = parse_day(raw)  # None for 2026-02-31, 0000-01-01 and the like
    first, last = booking_selectors.booking_window(today=today)
    if day is None:
        return first_open, _("That is not a date. Choose one of the days below.")
    if not first <= day <= last:
        return first_open, _(
            "%(day)s cannot be booked: you can book from %(first)s to %(last)s. Choose one of the days below."
        ) % {"day": day.isoformat(), "first": first.isoformat(), "last": last.isoformat()}
    if not any(d["date"] == day and d["open"] for d in days):
        return first_open, _("The center takes no appointments on %(day)s. Choose one of the days below.") % {
            "day": day.isoformat()
        }
    return day, ""


def _book_again_initial(request) -> dict:
    """Device fields of an earlier repair ("book again"), when the link carries its phone digits."""
    from repairs.selectors import ticket_track

    again, last4 = request.GET.get("again", ""), request.GET.get("phone_last4", "")
    if not again or not last4:
        return {}
    ticket = ticket_track(service_no=again, phone_last4=last4)
    if ticket is None:
        return {}
    device = ticket.device
    return {
        "imei": device.imei or "",
        "serial": device.serial or "",
        "model": getattr(device.model, "code", "") or "",
        "fault_category": ticket.fault_category,
    }


@require_http_methods(["GET", "POST"])
def book(request):
    code = request.GET.get("center") or request.POST.get("center") or ""
    center = booking_selectors.center_for_booking(code=code) if code else None
    if center is None or not booking_selectors.center_takes_appointments(center=center):
        form, result = _find(request, service=ServiceOffering.APPOINTMENT)
        context = _find_context(request, form, result) | {
            "unknown_center": bool(code),
            "again": request.GET.get("again", ""),
            "phone_last4": request.GET.get("phone_last4", ""),
        }
        template = "web/_center_results.html" if request.htmx else "web/book_center.html"
        return render(request, template, context | {"choose": True})

    today = timezone.localdate()
    days = _days_with_slots(center, today)
    day, date_error = _chosen_day(request.GET.get("date") or request.POST.get("date") or "", days, today)
    slots = booking_selectors.slots_for_day(center=center, day=day)
    choices = _slot_choices(slots)
    alternatives = []
    if request.method == "POST":
        date_error = ""  # the posted time is what counts; the service judges it
        # The chosen time may come from the nearest-free list, not the day shown.
        posted = request.POST.get("start", "")
        if posted and posted not in dict(choices):
            when = parse_moment(posted)
            if when is not None:
                choices += _slot_choices(
                    booking_selectors.slots_for_day(center=center, day=timezone.localtime(when).date())
                )
                full = booking_selectors.slot_find(center=center, start=when)
                if full is not None and posted not in dict(choices):
                    choices.append((posted, f"{timezone.localtime(when):%H:%M}"))
        form = forms.BookingForm(request.POST, slot_choices=choices)
        if form.is_valid():
            try:
                appointment = booking_services.appointment_book(
                    center=center,
                    start=parse_datetime(form.cleaned_data["start"]),
                    needs=form.needs(),
                    language=get_language(),
                    **form.person_kwargs(),
                )
            except DomainError as err:
                forms.add_domain_error(form, err, fallback="start")
                if err.code == "slot_full":
                    alternatives = err.extra.get("alternatives", [])
                    # Offer only slots with seats left again.
                    slots = booking_selectors.slots_for_day(center=center, day=day)
                    form.fields["start"].choices = _slot_choices(slots)
            else:
                last4 = appointment.customer.phone[-4:]
                url = reverse("web_book_done", args=[appointment.ticket.service_no])
                return redirect(f"{url}?{urlencode({'phone_last4': last4})}")
    else:
        form = forms.BookingForm(slot_choices=choices, initial=_book_again_initial(request))
    posted_start = form["start"].value() if form.is_bound else ""
    context = {
        "center": center,
        "days": days,
        "day": day,
        "slots": slots,
        "form": form,
        "date_error": date_error,
        "slot_rows": _slot_rows(slots, posted_start or ""),
        "again_query": urlencode({k: request.GET[k] for k in ("again", "phone_last4") if request.GET.get(k)}),
        "alternatives": [
            {"value": a["start"], "start": parse_datetime(a["start"]), "end": parse_datetime(a["end"])}
            for a in alternatives
        ],
    }
    if request.htmx and request.method == "GET":
        return render(request, "web/_slot_picker.html", context)
    status = 409 if alternatives else (400 if date_error else 200)
    return render(request, "web/book.html", context, status=status)


@_customer_page
def book_done(request, service_no: str):
    ticket, last4 = _verified_ticket(request, service_no)
    appointment = booking_selectors.appointment_for_ticket(ticket=ticket)
    if appointment is None:
        raise Http404(_("No appointment for this repair."))
    track_url = _track_url(request, ticket, last4)
    qr_svg = segno.make(track_url, error="m").svg_inline(scale=4, title=_("QR code of your tracking page"))
    return render(
        request,
        "web/book_done.html",
        {
            "ticket": ticket,
            "appointment": appointment,
            "sign_session": sign_session_for_appointment_get(appointment_id=appointment.pk)
            if (appointment.needs or {}).get("sign_language")
            else None,
            "track_url": track_url,
            "qr_svg": qr_svg,
            "ics_url": reverse("web_book_ics", args=[ticket.service_no]) + "?" + urlencode({"phone_last4": last4}),
        },
    )


@_customer_page
def book_ics(request, service_no: str):
    ticket, last4 = _verified_ticket(request, service_no)
    appointment = booking_selectors.appointment_for_ticket(ticket=ticket)
    if appointment is None:
        raise Http404(_("No appointment for this repair."))
    body = appointment_ics(appointment=appointment, track_url=_track_url(request, ticket, last4))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ticket.service_no}.ics"'
    return response


# --- cancel / reschedule (forms on the tracking page) ----------------------------------------


def _slot_rows(slots, posted: str = "") -> list[dict]:
    return [
        {
            "value": s.start.isoformat(),
            "start": s.start,
            "end": s.end,
            "available": s.available,
            "checked": posted == s.start.isoformat(),
        }
        for s in slots
    ]


def _book_again_url(ticket, last4: str, center) -> str:
    return (
        reverse("web_book") + "?" + urlencode({"center": center.code, "again": ticket.service_no, "phone_last4": last4})
    )


@require_http_methods(["GET", "POST"])
@_customer_page
def appointment_change(request, service_no: str):
    """Move or cancel a booking; each asks "are you sure?" before anything changes.

    POST ``action``: ``reschedule`` (a new time chosen → confirmation page), ``reschedule_confirmed``
    (moves it), ``cancel`` (confirmation page), ``cancel_confirmed`` (cancels it).
    """
    ticket, last4 = _verified_ticket(request, service_no)
    appointment = booking_selectors.appointment_for_ticket(ticket=ticket)
    if appointment is None:
        raise Http404(_("No appointment for this repair."))
    track_url = _track_url(request, ticket, last4)
    center = booking_selectors.center_for_booking(code=appointment.center.code) or appointment.center
    today = timezone.localdate()
    days = _days_with_slots(center, today)
    raw_day = request.GET.get("date") or request.POST.get("date") or ""
    if raw_day:
        day, date_error = _chosen_day(raw_day, days, today)
    else:
        day, date_error = timezone.localtime(appointment.start).date(), ""
    slots = booking_selectors.slots_for_day(center=center, day=day)
    choices = _slot_choices(slots)
    action = request.POST.get("action", "")
    error = None
    form = forms.RescheduleForm(slot_choices=choices)
    base = {
        "ticket": ticket,
        "appointment": appointment,
        "phone_last4": last4,
        "track_url": track_url,
        "book_again_url": _book_again_url(ticket, last4, appointment.center),
    }
    if request.method == "POST":
        try:
            if action == "cancel":
                return render(request, "web/appointment_confirm.html", base | {"confirm": "cancel"})
            if action == "cancel_confirmed":
                booking_services.appointment_cancel(appointment_id=appointment.pk)
                return render(request, "web/appointment_changed.html", base | {"done": "cancelled"})
            form = forms.RescheduleForm(request.POST, slot_choices=choices)
            if form.is_valid():
                new_start = parse_datetime(form.cleaned_data["start"])
                if action == "reschedule_confirmed":
                    appointment = booking_services.appointment_reschedule(
                        appointment_id=appointment.pk, start=new_start
                    )
                    return render(
                        request, "web/appointment_changed.html", base | {"appointment": appointment, "done": "moved"}
                    )
                slot = next(s for s in slots if s.start == new_start)
                return render(
                    request,
                    "web/appointment_confirm.html",
                    base
                    | {
                        "confirm": "reschedule",
                        "new_start": slot.start,
                        "new_end": slot.end,
                        "new_value": form.cleaned_data["start"],
                        "day": day,
                    },
                )
        except DomainError as err:
            if action.startswith("cancel"):
                error = err.message
            else:
                forms.add_domain_error(form, err, fallback="start")
    posted = form["start"].value() if form.is_bound else ""
    return render(
        request,
        "web/appointment_change.html",
        base
        | {
            "form": form,
            "days": days,
            "day": day,
            "date_error": date_error,
            "error": error,
            "slot_rows": _slot_rows(slots, posted or ""),
            "can_change": booking_selectors.appointment_can_change(appointment=appointment),
            "deadline": booking_selectors.appointment_change_deadline(appointment=appointment),
        },
        status=400 if date_error else 200,
    )


# --- mail-in, on-site ----------------------------------------------------------------------
# Both answer a successful POST with a redirect to their confirmation (POST/redirect/GET), which
# is a customer page behind the service number and phone digits: a refresh never resubmits.


@require_http_methods(["GET", "POST"])
def mail_in(request):
    form = forms.MailInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            request_obj = booking_services.mail_in_request_create(
                pickup_address=d["pickup_address"],
                pickup_date=d["pickup_date"],
                pickup_window=d["pickup_window"],
                language=get_language(),
                **form.person_kwargs(),
            )
        except DomainError as err:
            forms.add_domain_error(form, err, fallback="pickup_address")
        else:
            return _redirect_done("web_mail_in_done", request_obj.ticket)
    return render(request, "web/mail_in.html", {"form": form})


def _redirect_done(name: str, ticket):
    url = reverse(name, args=[ticket.service_no])
    return redirect(f"{url}?{urlencode({'phone_last4': ticket.customer.phone[-4:]})}")


@_customer_page
def mail_in_done(request, service_no: str):
    from booking.models import MailInRequest
    from logistics.models import Shipment

    ticket, last4 = _verified_ticket(request, service_no)
    req = MailInRequest.objects.select_related("hub").filter(ticket_id=ticket.pk).first()
    if req is None:
        raise Http404(_("No mail-in request for this repair."))
    pickup = Shipment.objects.filter(ticket_id=ticket.pk, leg="customer_to_hub").order_by("-pk").first()
    return render(
        request,
        "web/mail_in_done.html",
        {
            "req": req,
            "ticket": ticket,
            "pickup": pickup,
            "track_url": _track_url(request, ticket, last4),
        },
    )


def _on_site_centers():
    return list(center_selectors.centers_search(service="on_site").order_by("code")[:200])


@require_http_methods(["GET", "POST"])
def on_site(request):
    centers_list = _on_site_centers()
    form = forms.OnSiteForm(request.POST or None, centers=centers_list)
    no_center = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        center = next((c for c in centers_list if c.code == d["center"]), None) if d["center"] else None
        center = center or booking_selectors.on_site_center_for_address(address=d["address"])
        if center is None:
            no_center = True
            form.add_error(
                "address",
                _(
                    "No service center visits this address yet. You can mail the device in (free both ways) or call "
                    "the hotline."
                ),
            )
        else:
            try:
                req = booking_services.on_site_request_create(
                    center=center,
                    address=d["address"],
                    preferred_date=d["preferred_date"],
                    window=d["window"],
                    cannot_travel=form.cannot_travel,
                    language=get_language(),
                    **form.person_kwargs(),
                )
            except DomainError as err:
                forms.add_domain_error(form, err, fallback="address")
            else:
                return _redirect_done("web_on_site_done", req.ticket)
    return render(
        request, "web/on_site.html", {"form": form, "no_center": no_center, "centers_count": len(centers_list)}
    )


@_customer_page
def on_site_done(request, service_no: str):
    from booking.models import OnSiteRequest

    ticket, last4 = _verified_ticket(request, service_no)
    req = OnSiteRequest.objects.select_related("center").filter(ticket_id=ticket.pk).first()
    if req is None:
        raise Http404(_("No on-site request for this repair."))
    return render(
        request,
        "web/on_site_done.html",
        {
            "req": req,
            "ticket": ticket,
            "track_url": _track_url(request, ticket, last4),
        },
    )


# --- warranty and plans --------------------------------------------------------------------


def warranty(request):
    """Coverage by IMEI. An unknown sale date is said as such (bring the proof of purchase), never
    "out of warranty"; out of warranty shows the model's published fixed prices and a booking link."""
    from warranty.models import PlanProduct
    from warranty.selectors import device_coverage, device_for_coverage

    form = forms.WarrantyForm(request.GET or None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        try:
            device = device_for_coverage(imei=form.cleaned_data["imei"])
        except DomainError as err:
            forms.add_domain_error(form, err, fallback="imei")
        else:
            coverage = device_coverage(device=device)
            held = {p.code: p for p in PlanProduct.objects.filter(code__in=[c.code for c in coverage.plans])}
            context.update(
                {
                    "device": device,
                    "coverage": coverage,
                    "sale_date_unknown": device.sold_at is None,
                    "held_plans": [{"plan": c, "product": held.get(c.code)} for c in coverage.plans],
                    "plans": booking_selectors.plans_buyable(device=device),
                }
            )
            if not coverage.in_warranty:
                context["prices"] = _price_rows(device.model)
    return render(request, "web/warranty.html", context)


# --- published repair prices ---------------------------------------------------------------

PRICE_KINDS = ("battery", "screen", "mainboard")


def _price_rows(model) -> list:
    """The model's published repairs (repairs.selectors.catalog_for_model, the data of
    GET /api/v1/catalog/repairs/): battery, screen and board first, then the rest."""
    from repairs.selectors import catalog_for_model

    ops = list(catalog_for_model(model=model))
    order = {code: i for i, code in enumerate(PRICE_KINDS)}
    ops.sort(key=lambda op: (order.get(op.code, len(order)), op.code))
    for op in ops:
        op.new_total = op.part_price + op.labor
        op.refurbished_total = op.refurbished_price + op.labor if op.refurbished_price is not None else None
    return ops


def prices(request):
    """Every active model with published repair prices, grouped by category."""
    from warranty.models import DeviceModel

    models_with_prices = (
        DeviceModel.objects.filter(active=True, repair_operations__published=True)
        .distinct()
        .order_by("category", "name")
    )
    groups: dict[str, dict] = {}
    for m in models_with_prices:
        groups.setdefault(m.category, {"label": m.get_category_display(), "models": []})["models"].append(m)
    return render(request, "web/prices.html", {"groups": list(groups.values())})


def price_model(request, code: str):
    from warranty.models import DeviceModel

    model = DeviceModel.objects.filter(code=code, active=True).first()
    if model is None:
        raise Http404(_("No such device model."))
    rows = _price_rows(model)
    if not rows:
        raise Http404(_("No published prices for this model."))
    return render(request, "web/price_model.html", {"model": model, "rows": rows})


@require_http_methods(["GET", "POST"])
def checkout(request):
    """Buy a plan on the web: the plan and its price, then WeChat Pay or Alipay (the counter's providers)."""
    from warranty.selectors import device_find

    data = request.POST if request.method == "POST" else request.GET
    imei, plan_code = data.get("imei", ""), data.get("plan", "")
    device = device_find(imei=imei) if imei else None
    offer = None
    if device is not None:
        offer = next(
            ((p, price) for p, price in booking_selectors.plans_buyable(device=device) if p.code == plan_code), None
        )
    if offer is None:
        return render(request, "web/checkout_unavailable.html", {"imei": imei}, status=404)
    form = forms.CheckoutForm(request.POST or None, initial={"imei": imei, "plan": plan_code})
    if request.method == "POST" and form.is_valid():
        from payments.pay_links import plan_order_path
        from servicehub.api.throttling import LookupThrottle

        if not LookupThrottle().allow_request(request, _PlanCheckoutScope()):
            form.add_error(None, _("Too many orders from your network. Please try again later."))
            return render(
                request,
                "web/checkout.html",
                {"form": form, "product": offer[0], "price": offer[1], "device": device, "sandbox": _payment_sandbox()},
                status=429,
            )
        try:
            payment = booking_services.plan_order_checkout(
                imei=device.imei, plan_code=plan_code, method=form.cleaned_data["method"]
            )
        except DomainError as err:
            forms.add_domain_error(form, err, fallback="method")
        else:
            return redirect(plan_order_path(payment.plan_purchase_id))
    return render(
        request,
        "web/checkout.html",
        {"form": form, "product": offer[0], "price": offer[1], "device": device, "sandbox": _payment_sandbox()},
        status=400 if form.errors else 200,
    )


class _PlanCheckoutScope:
    throttle_scope = "plan_checkout"


def _payment_sandbox() -> bool:
    from payments.providers.registry import QR_METHODS, provider_name_for_method

    return any(provider_name_for_method(m) == "sandbox" for m in QR_METHODS)


def plan_order(request, token: str):
    """The web plan order: the QR to pay while it waits, then the active plan with its receipt (signed link)."""
    import segno
    from django.utils.safestring import mark_safe

    from payments.models import Payment
    from payments.pay_links import plan_order_purchase_id
    from payments.receipts import receipt_path
    from warranty.models import PlanPurchase

    purchase_id = plan_order_purchase_id(token)
    purchase = (
        PlanPurchase.objects.select_related("product", "device__model").filter(pk=purchase_id, channel="web").first()
        if purchase_id
        else None
    )
    if purchase is None:
        raise Http404(_("This link is not valid any more."))
    payments = list(Payment.objects.filter(plan_purchase_id=purchase.pk).order_by("-pk")[:5])
    pending = next((p for p in payments if p.status == "pending" and p.qr_payload), None)
    paid = next((p for p in payments if p.status == "succeeded"), None)
    return render(
        request,
        "web/plan_order.html",
        {
            "purchase": purchase,
            "pending": pending,
            "paid": paid,
            "receipt_link": receipt_path(paid.pk) if paid else "",
            "qr": mark_safe(segno.make(pending.qr_payload, error="m").svg_inline(scale=4, border=2))  # noqa: S308
            if pending
            else "",
            "sandbox": _payment_sandbox(),
        },
    )


# --- survey, callback ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@_customer_page
def survey(request, service_no: str):
    ticket, last4 = _verified_ticket(request, service_no)
    form = forms.SurveyForm(request.POST or None)
    already = hasattr(ticket, "survey") and _has_survey(ticket)
    if request.method == "POST" and form.is_valid():
        try:
            booking_services.survey_submit(ticket_id=ticket.pk, **form.cleaned_data)
        except DomainError as err:
            forms.add_domain_error(form, err)
        else:
            return render(request, "web/survey_done.html", {"ticket": ticket})
    return render(
        request,
        "web/survey.html",
        {
            "form": form,
            "ticket": ticket,
            "phone_last4": last4,
            "already": already,
            "open": ticket.status in booking_services.SURVEY_OPEN_STATUSES,
        },
    )


def _has_survey(ticket) -> bool:
    from booking.models import Survey

    return Survey.objects.filter(ticket_id=ticket.pk).exists()


@require_http_methods(["GET", "POST"])
def callback(request):
    form = forms.CallbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cb = booking_services.callback_request_create(language=get_language(), **form.cleaned_data)
        except DomainError as err:
            forms.add_domain_error(form, err)
        else:
            return render(request, "web/callback_done.html", {"callback": cb})
    return render(request, "web/callback.html", {"form": form})
