"""Reads: the slots of a day (with seats left), nearest free slots, appointments for jobs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from centers import selectors as center_selectors
from centers.models import OpeningException, ServiceCenter, ServiceDay

from .addresses import address_parse
from .choices import AppointmentStatus
from .models import Appointment, SlotCounter, SlotRule


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    capacity: int
    available: int


def booking_settings() -> dict:
    defaults = {
        "SLOT_MINUTES": 30,
        "DESKS": 2,
        "CHANGE_CUTOFF_MINUTES": 60,
        "NO_SHOW_GRACE_MINUTES": 30,
        "MAX_DAYS_AHEAD": 30,
        "MAIL_IN_COURIER": "SF Express",
    }
    defaults.update(getattr(settings, "BOOKING", {}))
    return defaults


def _hours_on(*, center: ServiceCenter, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """Opening intervals of ``center`` on ``day``, holiday exceptions applied (the centers app's rule)."""
    return list(center_selectors.center_hours_on(center=center, day=day))


def _prefetched(center, name):
    return getattr(center, "_prefetched_objects_cache", {}).get(name)


def _capacity_on(*, center: ServiceCenter, day: dt.date) -> tuple[int, int] | None:
    """(slot minutes, desks) for ``center`` on ``day``; None when it takes no bookings that day."""
    cfg = booking_settings()
    rules = _prefetched(center, "slot_rules")
    if rules is not None:
        rule = next((r for r in rules if r.weekday == day.weekday()), None)
    else:
        rule = SlotRule.objects.filter(center=center, weekday=day.weekday()).first()
    if rule is None:
        minutes, desks, sd_desks = cfg["SLOT_MINUTES"], cfg["DESKS"], None
    elif not rule.active:
        return None
    else:
        minutes, desks, sd_desks = rule.slot_minutes, rule.desks, rule.service_day_desks
    if sd_desks:
        service_days = _prefetched(center, "service_days")
        if service_days is not None:
            is_service_day = any(d.date == day and d.active for d in service_days)
        else:
            is_service_day = ServiceDay.objects.filter(center=center, date=day, active=True).exists()
        if is_service_day:
            desks = sd_desks
    return minutes, desks


def center_for_booking(*, code: str, days: int = 45) -> ServiceCenter | None:
    """An active center with everything the slot computation reads prefetched (5 queries in all,
    whatever the number of days looked at afterwards). Covers ``days`` ahead: more than the
    booking horizon (30) plus the nearest-free search (7)."""
    today = timezone.localdate()
    until = today + dt.timedelta(days=days)
    return (
        ServiceCenter.objects.filter(code=code, active=True)
        .prefetch_related(
            "opening_hours",
            Prefetch("opening_exceptions", queryset=OpeningException.objects.filter(date__gte=today, date__lte=until)),
            "slot_rules",
            Prefetch("service_days", queryset=ServiceDay.objects.filter(date__gte=today, date__lte=until)),
        )
        .first()
    )


def center_takes_appointments(*, center: ServiceCenter) -> bool:
    return center.active and "appointment" in (center.services or [])


def booking_window(*, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day an appointment can be booked for: tomorrow up to ``MAX_DAYS_AHEAD``
    days ahead (``BOOKING`` setting, 30). The booking page offers these days and
    ``appointment_book`` refuses a slot after the last one."""
    return today + dt.timedelta(days=1), today + dt.timedelta(days=booking_settings()["MAX_DAYS_AHEAD"])


def slot_templates(*, center: ServiceCenter, day: dt.date) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Every slot of the day as (start, end, capacity), past ones included; [] when closed."""
    if not center_takes_appointments(center=center):
        return []
    cap = _capacity_on(center=center, day=day)
    if cap is None:
        return []
    minutes, desks = cap
    length = dt.timedelta(minutes=minutes)
    tz = timezone.get_default_timezone()
    out = []
    for opens, closes in _hours_on(center=center, day=day):
        start = timezone.make_aware(dt.datetime.combine(day, opens), tz)
        close_at = timezone.make_aware(dt.datetime.combine(day, closes), tz)
        while start + length <= close_at:
            out.append((start, start + length, desks))
            start += length
    return out


def slots_for_day(*, center: ServiceCenter, day: dt.date, now: dt.datetime | None = None) -> list[Slot]:
    """Bookable slots of ``day`` that have not started yet, with the seats left in each."""
    now = now or timezone.now()
    templates = [t for t in slot_templates(center=center, day=day) if t[0] > now]
    if not templates:
        return []
    booked = dict(
        SlotCounter.objects.filter(center=center, start__gte=templates[0][0], start__lte=templates[-1][0]).values_list(
            "start", "booked"
        )
    )
    return [Slot(start, end, cap, max(cap - booked.get(start, 0), 0)) for start, end, cap in templates]


def slot_find(*, center: ServiceCenter, start: dt.datetime) -> tuple[dt.datetime, dt.datetime, int] | None:
    """The slot template starting exactly at ``start``, or None."""
    local_day = timezone.localtime(start).date()
    for tpl in slot_templates(center=center, day=local_day):
        if tpl[0] == start:
            return tpl
    return None


def slots_nearest_free(
    *, center: ServiceCenter, around: dt.datetime, limit: int = 3, days: int = 7, now: dt.datetime | None = None
) -> list[Slot]:
    """The free slots closest in time to ``around`` (same day first, then the days after)."""
    now = now or timezone.now()
    first_day = timezone.localtime(around).date()
    found: list[Slot] = []
    for offset in range(days):
        found += [
            s
            for s in slots_for_day(center=center, day=first_day + dt.timedelta(days=offset), now=now)
            if s.available > 0
        ]
        if len(found) >= limit and offset >= 0:
            break
    found.sort(key=lambda s: abs((s.start - around).total_seconds()))
    return found[:limit]


def appointments_for_reminder(*, day: dt.date) -> QuerySet[Appointment]:
    """Booked appointments on local ``day`` whose ticket is still booked and not yet reminded."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    return (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            ticket__status="booked",
            start__gte=start,
            start__lt=start + dt.timedelta(days=1),
            reminded_at__isnull=True,
        )
        .select_related("ticket", "customer", "center")
        .order_by("start", "pk")
    )


def appointment_for_ticket(*, ticket) -> Appointment | None:
    return Appointment.objects.filter(ticket=ticket).select_related("center").first()


def appointment_change_deadline(*, appointment: Appointment) -> dt.datetime:
    return appointment.start - dt.timedelta(minutes=booking_settings()["CHANGE_CUTOFF_MINUTES"])


def appointment_can_change(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        appointment.status == AppointmentStatus.BOOKED
        and appointment.ticket.status == "booked"
        and now < appointment_change_deadline(appointment=appointment)
    )


def plans_buyable(*, device, at: dt.datetime | None = None) -> list:
    """Plan products this device can still buy now, as ``[(product, price)]``.

    Eligibility is warranty's rule: ``warranty.services.plan_eligibility_check`` (read-only) is
    asked per product, so the web page and the sale can never disagree. Plans already active
    on the device are left out.
    """
    from servicehub.errors import DomainError
    from warranty.selectors import plans_on_sale
    from warranty.services import plan_eligibility_check

    at = at or timezone.now()
    active = set(device.plan_purchases.filter(status="active").values_list("product_id", flat=True))
    out = []
    for product in plans_on_sale(model=device.model):
        if product.pk in active:
            continue
        try:
            price = plan_eligibility_check(product=product, device=device, at=at)
        except DomainError:
            continue
        out.append((product, price))
    return out


def on_site_center_for_address(*, address: str) -> ServiceCenter | None:
    """The center that visits ``address`` when the customer picked none: the first (by code) offering
    on-site visits in the address's city, else in its province; ``None`` when none does or the
    address names no region."""
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


# --- hotline callbacks (issue #22 item 6) ---------------------------------------------------------------------


def callback_customer_suggestion(*, callback):
    """The customer whose phone is the one the caller typed (normalised E.164 on both sides), or None.

    Only a suggestion for the staff who call back: the request is unverified input, so nothing is linked until
    they confirm it on the call (``services.callback_outcome_log``)."""
    from repairs.models import Customer

    if callback.customer_id is not None:
        return callback.customer
    return Customer.objects.filter(phone=callback.phone).first()


def callback_customer_tickets(*, customer, actor, limit: int = 20) -> list:
    """The customer's tickets the actor may see (their centers, or where the device was handed in), newest first:
    the ones the hotline can pick on the call."""
    from django.db.models import Q

    from repairs.models import RepairTicket

    qs = RepairTicket.objects.filter(customer=customer).select_related("center", "device__model")
    if actor.center_ids is not None:
        ids = list(actor.center_ids)
        qs = qs.filter(Q(center_id__in=ids) | Q(origin_center_id__in=ids))
    return list(qs.order_by("-created_at", "-pk")[:limit])


def callbacks_by_outcome(*, since: dt.datetime, until: dt.datetime) -> dict:
    """HQ's figure of hotline requests made in ``[since, until)``: closed per outcome, still open (and how many of
    those had calls without an answer), the calls without an answer logged. One query."""
    from django.db.models import Count, Q, Sum

    from .choices import CallbackOutcome, CallbackStatus
    from .models import CallbackRequest

    rows = (
        CallbackRequest.objects.filter(created_at__gte=since, created_at__lt=until)
        .values("status", "outcome")
        .annotate(n=Count("pk"), retried=Count("pk", filter=Q(attempts__gt=0)), attempts=Sum("attempts"))
        .order_by()
    )
    outcomes = dict.fromkeys([o for o in CallbackOutcome.values if o != CallbackOutcome.NO_ANSWER], 0)
    open_, open_retried, no_answers = 0, 0, 0
    for row in rows:
        no_answers += row["attempts"] or 0
        if row["status"] == CallbackStatus.OPEN:
            open_ += row["n"]
            open_retried += row["retried"]
        else:
            key = row["outcome"] or CallbackOutcome.RESOLVED
            outcomes[key] = outcomes.get(key, 0) + row["n"]
    return {"outcomes": outcomes, "open": open_, "open_retried": open_retried, "no_answer_calls": no_answers}
