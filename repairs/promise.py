"""The promised completion time of a ticket, in the repairing center's business time.

A simple model, on purpose (docs/repairs.md, "How time is counted"):

    remaining work = queue + bench time + handling            (business minutes, from the move)
    queue          = ceil(tickets ahead / engineers on duty) x QUEUE_MINUTES_PER_TICKET
    bench time     = the catalog's ``RepairOperation.typical_minutes`` for the device model and fault
                     (else the default of the operation's kind, else of the fault: ``choices``)
    handling       = HANDLING_MINUTES (diagnosis, quality check, hand-back)

"Tickets ahead" are the center's tickets received earlier and still in a working stage (received,
diagnosing, repairing, quality check); "engineers on duty" are the center's active engineer memberships
(there is no roster; at least one). Once the repair started only the bench time and the quality check
remain; in quality check only the check. The promise is rounded up to the quarter hour and only ever
moves later: a recomputed estimate past the promise is a *slip* (``ticket.promise_slipped``), an earlier
one keeps the promise. While the ticket waits on the customer or on parts the clock is paused: leaving the
wait moves the promise by the business minutes waited.

An *express* repair is the 1-hour promise of a quick repair (bench time <= EXPRESS_MAX_BENCH_MINUTES) handed
in at the counter of a repairing center that stays open for the hour: promised to the minute, not rounded,
and watched by the SLA watch to the minute (``repairs.jobs``).
"""

from __future__ import annotations

import datetime as dt
import math

from centers.calendar import BusinessCalendar, add_business_minutes_or_wall, business_minutes_between

from .choices import (
    PAUSE_STAGES,
    TYPICAL_MINUTES_BY_FAULT,
    TYPICAL_MINUTES_BY_KIND,
    Channel,
    TicketStatus,
)
from .models import RepairOperation, RepairTicket

S = TicketStatus
QUEUE_MINUTES_PER_TICKET = 30
HANDLING_MINUTES = 30
QUALITY_CHECK_MINUTES = 15
EXPRESS_PROMISE_MINUTES = 60
EXPRESS_MAX_BENCH_MINUTES = 40
PROMISE_GRID_MINUTES = 15
QUEUE_STAGES = (S.RECEIVED, S.DIAGNOSING, S.REPAIRING, S.QUALITY_CHECK)
BEFORE_REPAIR = (S.BOOKED, S.RECEIVED, S.IN_TRANSIT, S.DIAGNOSING)
COUNTER_CHANNELS = (Channel.WALK_IN, Channel.APPOINTMENT)


def bench_minutes(ticket: RepairTicket) -> int:
    """Typical bench time of the ticket's fault on its device model (one query)."""
    row = (
        RepairOperation.objects.filter(
            device_model_id=ticket.device.model_id, fault_category=ticket.fault_category, published=True
        )
        .order_by("code")
        .values_list("code", "typical_minutes")
        .first()
    )
    if row is not None:
        code, minutes = row
        return minutes or TYPICAL_MINUTES_BY_KIND.get(code, TYPICAL_MINUTES_BY_FAULT[ticket.fault_category])
    return TYPICAL_MINUTES_BY_FAULT.get(ticket.fault_category, TYPICAL_MINUTES_BY_FAULT["other"])


def queue_minutes(ticket: RepairTicket) -> int:
    """The queue ahead of the ticket at its center, in business minutes (two queries)."""
    from centers.models import StaffMembership

    received = ticket.received_at or ticket.created_at
    ahead = (
        RepairTicket.objects.filter(center_id=ticket.center_id, status__in=QUEUE_STAGES, received_at__lt=received)
        .exclude(pk=ticket.pk)
        .count()
    )
    if not ahead:
        return 0
    engineers = StaffMembership.objects.filter(center_id=ticket.center_id, role="engineer", active=True).count()
    return math.ceil(ahead / max(1, engineers)) * QUEUE_MINUTES_PER_TICKET


def round_up(at: dt.datetime, minutes: int = PROMISE_GRID_MINUTES) -> dt.datetime:
    """``at`` rounded up to the grid (local time: the grid is the same in every zone China uses)."""
    at = at.replace(second=0, microsecond=0) + (
        dt.timedelta(minutes=1) if (at.second or at.microsecond) else dt.timedelta()
    )
    extra = -at.minute % minutes
    return at + dt.timedelta(minutes=extra)


def remaining_minutes(ticket: RepairTicket, status: str) -> int | None:
    """Business minutes of work left when the ticket is in ``status``; None = no estimate (done, waiting)."""
    if status in BEFORE_REPAIR:
        if ticket.express:  # the center committed to the hour: the queue does not apply
            return bench_minutes(ticket) + QUALITY_CHECK_MINUTES
        return queue_minutes(ticket) + bench_minutes(ticket) + HANDLING_MINUTES
    if status == S.REPAIRING:
        return bench_minutes(ticket) + QUALITY_CHECK_MINUTES
    if status == S.QUALITY_CHECK:
        return QUALITY_CHECK_MINUTES
    return None


def is_express(ticket: RepairTicket, cal: BusinessCalendar, now: dt.datetime) -> bool:
    """A quick repair handed in at a repairing center's counter that stays open for the promised hour."""
    if ticket.channel not in COUNTER_CHANNELS or ticket.origin_center_id is not None:
        return False
    if bench_minutes(ticket) > EXPRESS_MAX_BENCH_MINUTES:
        return False
    return add_business_minutes_or_wall(cal, now, EXPRESS_PROMISE_MINUTES) == now + dt.timedelta(
        minutes=EXPRESS_PROMISE_MINUTES
    )


def promise_on_move(
    ticket: RepairTicket,
    *,
    cal: BusinessCalendar,
    from_status: str,
    stage_entered_at: dt.datetime | None,
    now: dt.datetime,
) -> dt.datetime | None:
    """Move the ticket (already in its new status) and return the previous promise when this move slips it.

    Sets ``paused_*_minutes`` when a wait ends, ``express`` and the first promise at check-in, and a later
    ``promised_at`` when the work left no longer fits the promise. The caller emits the slip event.
    """
    previous = ticket.promised_at
    counter = PAUSE_STAGES.get(from_status)
    waited = 0
    if counter and stage_entered_at is not None and ticket.status != from_status:
        waited = business_minutes_between(cal, stage_entered_at, now)
        setattr(ticket, counter, getattr(ticket, counter) + waited)
    if from_status == S.BOOKED and ticket.status in (S.RECEIVED, S.IN_TRANSIT):
        ticket.express = is_express(ticket, cal, now)
        if ticket.express:
            ticket.promised_at = add_business_minutes_or_wall(cal, now, EXPRESS_PROMISE_MINUTES)
            return None
    if ticket.status in (S.CANCELLED, S.RETURNING) and from_status not in (S.READY,):
        return None  # declined or cancelled: nothing is repaired, the promise stands as it was
    candidate = None
    if previous is not None and waited:
        candidate = add_business_minutes_or_wall(cal, previous, waited)  # the paused clock moves the promise
    left = remaining_minutes(ticket, ticket.status)
    if left is not None:
        estimate = add_business_minutes_or_wall(cal, now, left)
        candidate = estimate if candidate is None else max(candidate, estimate)
    if candidate is None:
        return None
    if not ticket.express:
        candidate = round_up(candidate)
    if previous is None:
        ticket.promised_at = candidate
        return None
    if candidate > previous:
        ticket.promised_at = candidate
        return previous
    return None
