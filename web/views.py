"""Public pages (everything except /track/, which the repairs app serves).

Server-rendered; htmx only swaps parts of the same pages (day picker, center list), so every
page works without JavaScript. Views parse input with forms and call services/selectors.
"""

from __future__ import annotations

import datetime as dt

import segno
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from booking import selectors as booking_selectors
from booking import services as booking_services
from booking.payments import payment_provider
from centers import selectors as center_selectors
from centers.choices import ServiceOffering
from servicehub.errors import DomainError

from . import forms
from .calendar import appointment_ics

DAYS_SHOWN = 14


# --- helpers -------------------------------------------------------------------------------


class _TrackingScope:
    throttle_scope = "tracking"


def _verified_ticket(request, service_no: str):
    """The ticket if ``phone_last4`` (query or form) matches its customer's phone; else 404.

    Guessing the 4 digits is throttled per client exactly like the tracking page and API
    (the ``tracking`` rate): over the budget the answer is 429, whatever the digits.
    """
    from repairs.selectors import ticket_track
    from servicehub.api.throttling import LookupThrottle

    if not LookupThrottle().allow_request(request, _TrackingScope()):
        raise _TooManyLookups
    last4 = request.POST.get("phone_last4") or request.GET.get("phone_last4") or ""
    ticket = ticket_track(service_no=service_no, phone_last4=last4)
    if ticket is None:
        raise Http404(_("No repair with this number and phone."))
    return ticket, last4


class _TooManyLookups(Exception):
    pass


def _customer_page(view):
    """Pages behind the service number + phone digits: 429 page when the client guesses too much."""
    from functools import wraps

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _TooManyLookups:
            return render(request, "web/too_many.html", status=429)

    return wrapped


def _track_url(request, ticket, last4: str) -> str:
    """Absolute URL of the repair's tracking page (served by the repairs app), with the phone digits.

    ``/track/<service_no>/`` is a stable URL (API.md: SMS and QR codes link to it).
    """
    try:
        path = reverse("repairs:track-detail", args=[ticket.service_no])
    except NoReverseMatch:
        path = f"/track/{ticket.service_no}/"
    return request.build_absolute_uri(path + "?" + urlencode({"phone_last4": last4}))


def _slot_choices(slots) -> list[tuple[str, str]]:
    return [
        (s.start.isoformat(), f"{timezone.localtime(s.start):%H:%M}–{timezone.localtime(s.end):%H:%M}")
        for s in slots if s.available > 0
    ]


def _days_with_slots(center, today):
    days = []
    for offset in range(1, DAYS_SHOWN + 1):
        day = today + dt.timedelta(days=offset)
        templates = booking_selectors.slot_templates(center=center, day=day)
        days.append({"date": day, "open": bool(templates)})
    return days


# --- home, centers, verify -----------------------------------------------------------------


def home(request):
    return render(request, "web/home.html", {"search_form": forms.CenterSearchForm()})


def _centers_for_query(q: str):
    """Centers near the place named in ``q`` (cpca parses city/district names), else by name."""
    from booking.addresses import address_parse

    parsed = address_parse(q)
    region = None
    if parsed is not None and parsed.adcode:
        region = center_selectors.region_by_adcode(adcode=parsed.adcode)
        if region is None and parsed.city:
            region = center_selectors.region_by_adcode(adcode=parsed.adcode[:4] + "00")
        if region is None:
            region = center_selectors.region_by_adcode(adcode=parsed.adcode[:2] + "0000")
    if region is not None and region.lat is not None and region.lng is not None:
        return center_selectors.centers_nearest(lat=region.lat, lng=region.lng, radius_km=60, limit=30), region
    if region is not None:
        return list(center_selectors.with_hours(center_selectors.centers_search(region=region))[:30]), region
    qs = center_selectors.centers_search().filter(name__icontains=q) | center_selectors.centers_search().filter(
        address__icontains=q
    )
    return list(center_selectors.with_hours(qs.order_by("code"))[:30]), None


def centers(request):
    form = forms.CenterSearchForm(request.GET or None)
    results, region, searched = [], None, False
    if form.is_bound and form.is_valid():
        q, lat, lng = form.cleaned_data["q"], form.cleaned_data["lat"], form.cleaned_data["lng"]
        if lat is not None and lng is not None:
            results = center_selectors.centers_nearest(lat=lat, lng=lng, radius_km=60, limit=30)
            searched = True
        elif q:
            results, region = _centers_for_query(q.strip())
            searched = True
        else:
            form.add_error("q", _("Enter a city or an address, or use your location."))
    context = {"form": form, "results": results, "region": region, "searched": searched}
    template = "web/_center_results.html" if request.htmx else "web/centers.html"
    return render(request, template, context)


def center_detail(request, code: str):
    center = center_selectors.center_public_detail(code=code)
    if center is None:
        raise Http404(_("No such center."))
    weekly = {}
    for h in center.opening_hours.all():
        weekly.setdefault(h.weekday, []).append(h)
    from centers.choices import DeviceCategory, Weekday

    labels = dict(ServiceOffering.choices) | dict(DeviceCategory.choices)
    hours = [{"day": label, "intervals": weekly.get(value, [])} for value, label in Weekday.choices]
    return render(request, "web/center_detail.html", {
        "center": center, "hours": hours,
        "services": [labels.get(s, s) for s in center.services or []],
        "takes_appointments": booking_selectors.center_takes_appointments(center=center),
    })


def verify(request):
    form = forms.VerifyForm(request.GET or None)
    result = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        result = center_selectors.centers_verify(phone=d["phone"], name=d["name"], city=d["city"])
    return render(request, "web/verify.html", {"form": form, "result": result})


# --- booking -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book(request):
    code = request.GET.get("center") or request.POST.get("center") or ""
    center = booking_selectors.center_for_booking(code=code) if code else None
    if center is None or not booking_selectors.center_takes_appointments(center=center):
        q = request.GET.get("q", "").strip()[:100]
        if q:
            found, _region = _centers_for_query(q)
            centers_list = [c for c in found if booking_selectors.center_takes_appointments(center=c)]
        else:
            centers_list = list(center_selectors.centers_search(service="appointment").order_by("code")[:50])
        return render(request, "web/book_center.html", {"centers": centers_list, "q": q})

    today = timezone.localdate()
    days = _days_with_slots(center, today)
    day = parse_date(request.GET.get("date") or request.POST.get("date") or "") or next(
        (d["date"] for d in days if d["open"]), today + dt.timedelta(days=1)
    )
    slots = booking_selectors.slots_for_day(center=center, day=day)
    choices = _slot_choices(slots)
    alternatives = []
    if request.method == "POST":
        # The chosen time may come from the nearest-free list, not the day shown.
        posted = request.POST.get("start", "")
        if posted and posted not in dict(choices):
            when = parse_datetime(posted)
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
                    center=center, start=parse_datetime(form.cleaned_data["start"]), needs=form.needs(),
                    language=get_language(), **form.person_kwargs(),
                )
            except DomainError as err:
                forms.add_domain_error(form, err, fallback="start")
                if err.code == "slot_full":
                    alternatives = err.extra.get("alternatives", [])
                    # Offer only slots with seats left again.
                    form.fields["start"].choices = _slot_choices(
                        booking_selectors.slots_for_day(center=center, day=day)
                    )
            else:
                last4 = appointment.customer.phone[-4:]
                url = reverse("web_book_done", args=[appointment.ticket.service_no])
                return redirect(f"{url}?{urlencode({'phone_last4': last4})}")
    else:
        form = forms.BookingForm(slot_choices=choices)
    context = {
        "center": center, "days": days, "day": day, "slots": slots, "form": form,
        "alternatives": [
            {"value": a["start"], "start": parse_datetime(a["start"]), "end": parse_datetime(a["end"])}
            for a in alternatives
        ],
    }
    if request.htmx and request.method == "GET":
        return render(request, "web/_slot_picker.html", context)
    return render(request, "web/book.html", context, status=409 if alternatives else 200)


@_customer_page
def book_done(request, service_no: str):
    ticket, last4 = _verified_ticket(request, service_no)
    appointment = booking_selectors.appointment_for_ticket(ticket=ticket)
    if appointment is None:
        raise Http404(_("No appointment for this repair."))
    track_url = _track_url(request, ticket, last4)
    qr_svg = segno.make(track_url, error="m").svg_inline(scale=4, title=_("QR code of your tracking page"))
    return render(request, "web/book_done.html", {
        "ticket": ticket, "appointment": appointment, "track_url": track_url, "qr_svg": qr_svg,
        "ics_url": reverse("web_book_ics", args=[ticket.service_no]) + "?" + urlencode({"phone_last4": last4}),
    })


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


@require_http_methods(["GET", "POST"])
@_customer_page
def appointment_change(request, service_no: str):
    ticket, last4 = _verified_ticket(request, service_no)
    appointment = booking_selectors.appointment_for_ticket(ticket=ticket)
    if appointment is None:
        raise Http404(_("No appointment for this repair."))
    track_url = _track_url(request, ticket, last4)
    center = booking_selectors.center_for_booking(code=appointment.center.code) or appointment.center
    today = timezone.localdate()
    days = _days_with_slots(center, today)
    day = parse_date(request.GET.get("date") or request.POST.get("date") or "") or timezone.localtime(
        appointment.start).date()
    choices = _slot_choices(booking_selectors.slots_for_day(center=center, day=day))
    error = None
    form = forms.RescheduleForm(slot_choices=choices)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                booking_services.appointment_cancel(appointment_id=appointment.pk)
                return redirect(track_url)
            form = forms.RescheduleForm(request.POST, slot_choices=choices)
            if form.is_valid():
                booking_services.appointment_reschedule(
                    appointment_id=appointment.pk, start=parse_datetime(form.cleaned_data["start"])
                )
                return redirect(track_url)
        except DomainError as err:
            if request.POST.get("action") == "cancel":
                error = err.message
            else:
                forms.add_domain_error(form, err, fallback="start")
    return render(request, "web/appointment_change.html", {
        "ticket": ticket, "appointment": appointment, "form": form, "days": days, "day": day,
        "phone_last4": last4, "track_url": track_url, "error": error,
        "can_change": booking_selectors.appointment_can_change(appointment=appointment),
        "deadline": booking_selectors.appointment_change_deadline(appointment=appointment),
    })


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
                pickup_address=d["pickup_address"], pickup_date=d["pickup_date"], pickup_window=d["pickup_window"],
                language=get_language(), **form.person_kwargs()
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
    return render(request, "web/mail_in_done.html", {
        "req": req, "ticket": ticket, "pickup": pickup, "track_url": _track_url(request, ticket, last4),
    })


def _on_site_centers():
    return list(center_selectors.centers_search(service="on_site").order_by("code")[:200])


def _on_site_center_for(address: str):
    """The first center offering on-site visits in the address's city, else its province; None when none does."""
    from booking.addresses import address_parse

    parsed = address_parse(address)
    if parsed is None or not parsed.adcode:
        return None
    for code in (parsed.adcode[:4] + "00", parsed.adcode[:2] + "0000"):
        region = center_selectors.region_by_adcode(adcode=code)
        if region is not None:
            found = center_selectors.centers_search(service="on_site", region=region).order_by("code").first()
            if found is not None:
                return found
    return None


@require_http_methods(["GET", "POST"])
def on_site(request):
    centers_list = _on_site_centers()
    form = forms.OnSiteForm(request.POST or None, centers=centers_list)
    no_center = False
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        center = next((c for c in centers_list if c.code == d["center"]), None) if d["center"] else None
        center = center or _on_site_center_for(d["address"])
        if center is None:
            no_center = True
            form.add_error("address", _(
                "No service center visits this address yet. You can mail the device in (free both ways) or call "
                "the hotline."
            ))
        else:
            try:
                req = booking_services.on_site_request_create(
                    center=center, address=d["address"], preferred_date=d["preferred_date"], window=d["window"],
                    cannot_travel=form.cannot_travel, language=get_language(), **form.person_kwargs(),
                )
            except DomainError as err:
                forms.add_domain_error(form, err, fallback="address")
            else:
                return _redirect_done("web_on_site_done", req.ticket)
    return render(request, "web/on_site.html", {"form": form, "no_center": no_center,
                                                "centers_count": len(centers_list)})


@_customer_page
def on_site_done(request, service_no: str):
    from booking.models import OnSiteRequest

    ticket, last4 = _verified_ticket(request, service_no)
    req = OnSiteRequest.objects.select_related("center").filter(ticket_id=ticket.pk).first()
    if req is None:
        raise Http404(_("No on-site request for this repair."))
    return render(request, "web/on_site_done.html", {
        "req": req, "ticket": ticket, "track_url": _track_url(request, ticket, last4),
    })


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
            context.update({
                "device": device, "coverage": coverage,
                "sale_date_unknown": device.sold_at is None,
                "held_plans": [{"plan": c, "product": held.get(c.code)} for c in coverage.plans],
                "plans": booking_selectors.plans_buyable(device=device),
            })
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
        DeviceModel.objects.filter(active=True, repair_operations__published=True).distinct().order_by("category", "name")
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
    from warranty.selectors import device_find

    provider = payment_provider()
    data = request.POST if request.method == "POST" else request.GET
    imei, plan_code = data.get("imei", ""), data.get("plan", "")
    device = device_find(imei=imei) if imei else None
    offer = None
    if device is not None:
        offer = next(((p, price) for p, price in booking_selectors.plans_buyable(device=device)
                      if p.code == plan_code), None)
    if offer is None:
        return render(request, "web/checkout_unavailable.html", {"imei": imei}, status=404)
    form = forms.CheckoutForm(request.POST or None, initial={"imei": imei, "plan": plan_code})
    if request.method == "POST" and form.is_valid():
        try:
            order = booking_services.plan_order_checkout(imei=device.imei, plan_code=plan_code,
                                                         card=form.cleaned_data["card"], provider=provider)
        except DomainError as err:
            forms.add_domain_error(form, err, fallback="card")
        else:
            return render(request, "web/checkout_done.html", {"order": order, "product": offer[0],
                                                              "provider": provider})
    return render(request, "web/checkout.html", {"form": form, "product": offer[0], "price": offer[1],
                                                 "device": device, "provider": provider})


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
    return render(request, "web/survey.html", {"form": form, "ticket": ticket, "phone_last4": last4,
                                               "already": already,
                                               "open": ticket.status in booking_services.SURVEY_OPEN_STATUSES})


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
