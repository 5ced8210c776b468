"""Reads of community events and classes (issue #22): the public list, the door's look-up, HQ's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .choices import EventKind, EventStatus, RegistrationStatus, SignSessionStatus
from .models import Event, Registration, SignLanguageSession


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime] | None:
    """``"2026-12"`` -> the local midnights starting that month and the next; None when malformed."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = dt.date(year, mon, 1)
    except (TypeError, ValueError):
        return None
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    tz = timezone.get_default_timezone()
    return dt.datetime.combine(first, dt.time(), tzinfo=tz), dt.datetime.combine(nxt, dt.time(), tzinfo=tz)


def events_public(
    *, center_code: str = "", month: str = "", kind: str = "", now: dt.datetime | None = None
) -> QuerySet[Event]:
    """Public events still to come (scheduled, not ended), soonest first; filtered by center code, local month
    (``YYYY-MM``; a malformed one matches nothing -- the API refuses it before) and kind."""
    now = now or timezone.now()
    qs = Event.objects.filter(public=True, status=EventStatus.SCHEDULED, ends_at__gt=now).select_related("center")
    if center_code:
        qs = qs.filter(center__code=center_code)
    if month:
        bounds = month_bounds(month)
        if bounds is None:
            return qs.none()
        qs = qs.filter(starts_at__gte=bounds[0], starts_at__lt=bounds[1])
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("starts_at", "pk")


def event_public(*, event_id: int) -> Event | None:
    """A public event (any status: its page says when sign-up is closed), or None."""
    return Event.objects.select_related("center").filter(pk=event_id, public=True).first()


def sign_up_open(event: Event, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return event.status == EventStatus.SCHEDULED and event.starts_at > now and event.places_left > 0


def door_matches(*, event: Event, query: str) -> list[Registration]:
    """Registrations of ``event`` (not cancelled) matching a door code or the last 4 digits of the phone."""
    digits = "".join(ch for ch in (query or "") if ch.isdigit())
    if len(digits) < 4:
        return []
    qs = Registration.objects.filter(event=event).exclude(status=RegistrationStatus.CANCELLED)
    if len(digits) == 4:
        qs = qs.filter(phone__endswith=digits)
    else:
        qs = qs.filter(Q(code=digits) | Q(phone__endswith=digits))
    return list(qs.order_by("name", "pk")[:20])


def attendance_counts(*, event: Event) -> dict[str, int]:
    rows = Registration.objects.filter(event=event).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys(RegistrationStatus.values, 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def events_by_kind_and_month(
    *, center_ids: frozenset[int] | None, since: dt.datetime, until: dt.datetime
) -> list[dict[str, Any]]:
    """HQ's figure: per local month and kind, events held (``done``), sign-ups, attended, attendance %.

    Counts events starting in ``[since, until)`` that were not cancelled; sign-ups are registrations holding a
    place; the rate is attended / sign-ups of the events held (events still to come do not pull it down).
    Two queries whatever the number of events.
    """
    events = Event.objects.filter(starts_at__gte=since, starts_at__lt=until).exclude(status=EventStatus.CANCELLED)
    if center_ids is not None:
        events = events.filter(center_id__in=center_ids)
    tz = timezone.get_default_timezone()
    held = (
        events.annotate(month=TruncMonth("starts_at", tzinfo=tz))
        .values("month", "kind")
        .annotate(events=Count("pk"), held=Count("pk", filter=Q(status=EventStatus.DONE)))
    )
    regs = (
        Registration.objects.filter(event__in=events)
        .exclude(status=RegistrationStatus.CANCELLED)
        .annotate(month=TruncMonth("event__starts_at", tzinfo=tz))
        .values("month", "event__kind")
        .annotate(
            sign_ups=Count("pk"),
            held_sign_ups=Count("pk", filter=Q(event__status=EventStatus.DONE)),
            attended=Count("pk", filter=Q(status=RegistrationStatus.ATTENDED)),
        )
    )
    table: dict[tuple[str, str], dict[str, Any]] = {}
    for row in held:
        key = (row["month"].strftime("%Y-%m"), row["kind"])
        table[key] = {"month": key[0], "kind": row["kind"], "events": row["events"], "held": row["held"]}
        table[key].update(sign_ups=0, held_sign_ups=0, attended=0)
    for row in regs:
        key = (row["month"].strftime("%Y-%m"), row["event__kind"])
        entry = table.setdefault(key, {"month": key[0], "kind": key[1], "events": 0, "held": 0})
        entry.update(sign_ups=row["sign_ups"], held_sign_ups=row["held_sign_ups"], attended=row["attended"])
    order = {k: i for i, k in enumerate(EventKind.values)}
    rows = sorted(table.values(), key=lambda r: (r["month"], order.get(r["kind"], 99)))
    for r in rows:
        r["rate"] = round(100 * r["attended"] / r["held_sign_ups"], 1) if r["held_sign_ups"] else None
    return rows


# --- sign-language sessions (issue #22 item 4) ------------------------------------------------------------------


def sign_sessions_to_prepare(*, center_ids: list[int] | None, now=None, days_ahead: int = 7) -> list:
    """The desk's preparation tasks: scheduled sessions not prepared yet, from an hour ago to ``days_ahead`` days
    on, at ``center_ids`` (None = every center), soonest first; with the appointment, ticket, customer and
    signer in the same query."""
    now = now or timezone.now()
    qs = SignLanguageSession.objects.filter(
        status=SignSessionStatus.SCHEDULED,
        prepared_at__isnull=True,
        scheduled_start__gte=now - dt.timedelta(hours=1),
        scheduled_start__lt=now + dt.timedelta(days=days_ahead),
    )
    if center_ids is not None:
        qs = qs.filter(center_id__in=center_ids)
    return list(
        qs.select_related("appointment__ticket", "appointment__customer", "center", "signer").order_by(
            "scheduled_start", "pk"
        )[:200]
    )


def sign_session_for_appointment_get(*, appointment_id: int):
    """The appointment's session (or None): what the customer's pages show (the join link, never the host's)."""
    return SignLanguageSession.objects.filter(appointment_id=appointment_id).first()


def accessibility_summary(*, center_ids: frozenset[int] | None, since, until) -> dict[str, Any]:
    """HQ's accessibility figure over appointments starting in ``[since, until)``: sign-language sessions by
    status, and the bookings with each need and how many were served (checked in: the ticket left ``booked`` and
    was not cancelled). Two queries whatever the number of rows."""
    from booking.models import Appointment

    sessions = SignLanguageSession.objects.filter(scheduled_start__gte=since, scheduled_start__lt=until)
    appointments = Appointment.objects.filter(start__gte=since, start__lt=until)
    if center_ids is not None:
        sessions = sessions.filter(center_id__in=center_ids)
        appointments = appointments.filter(center_id__in=center_ids)
    by_status = dict.fromkeys(SignSessionStatus.values, 0)
    for row in sessions.values("status").annotate(n=Count("pk")).order_by():
        by_status[row["status"]] = row["n"]
    served = ~Q(ticket__status__in=("booked", "cancelled"))
    needs = appointments.aggregate(
        sign_language=Count("pk", filter=Q(needs__sign_language=True)),
        sign_language_served=Count("pk", filter=Q(needs__sign_language=True) & served),
        wheelchair=Count("pk", filter=Q(needs__wheelchair=True)),
        wheelchair_served=Count("pk", filter=Q(needs__wheelchair=True) & served),
        elderly_assistance=Count("pk", filter=Q(needs__elderly_assistance=True)),
        elderly_assistance_served=Count("pk", filter=Q(needs__elderly_assistance=True) & served),
    )
    return {"sessions": by_status, "needs": needs}


def sign_sessions_visible(*, actor) -> QuerySet:
    """Sign-language sessions of the actor's centers (HQ, superusers: all), soonest first; rows ready for the staff
    list (center, ticket, signer joined: one query)."""
    qs = SignLanguageSession.objects.select_related("center", "appointment__ticket", "signer").order_by(
        "scheduled_start", "pk"
    )
    if actor.sees_all_centers:
        return qs
    return qs.filter(center_id__in=list(actor.center_ids or ()))
