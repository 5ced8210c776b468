"""Scheduled jobs of repairs: the SLA watch, auto-close of delivered tickets, Service Day reminders.

Run by the tasks in ``repairs/tasks.py``, once per period (``servicehub.jobs.run_job``). They change state
through repairs' own services and announce with domain events; the messages and webhooks are written by the
subscribers (``notifications.reminders``, ``partners.job_subscribers``), never from here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from centers.calendar import is_open
from centers.models import ServiceDay
from centers.selectors import center_calendars
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from servicehub.events import emit
from servicehub.jobs import local_now, run_job, slot_period

from .choices import OPEN_STATUSES, TicketStatus
from .models import RepairTicket, SlaBreach
from .selectors import tickets_overdue
from .services import ticket_transition

logger = logging.getLogger("repairs.jobs")

EXPRESS_BREACH = "express"  # SlaBreach.status of an express repair not ready by its 1-hour promise
EXPRESS_WATCHED = tuple(s for s in OPEN_STATUSES if s != TicketStatus.READY)

EVENT_TYPES = {
    "ticket.sla_breached": "a ticket's current stage ran past its SLA target (once per ticket, stage and due time)",
    "service_day.reminder_due": "a customer served by a center is to be reminded of its coming Service Day",
}

# Why auto-close keeps a delivered ticket open, registered by the later apps that know (loaners: a loaner is
# still out) in their AppConfig.ready(): name -> predicate(ticket_id=...). The name is the count in the result.
AutoCloseHold = Callable[..., bool]
_auto_close_holds: dict[str, AutoCloseHold] = {}


def auto_close_hold_register(name: str, holds: AutoCloseHold) -> None:
    """Keep a ticket for which ``holds(ticket_id=...)`` is true out of the auto-close (counted as ``name``)."""
    _auto_close_holds[name] = holds


# --------------------------------------------------------------------------- SLA watch


def job_sla_watch(*, now: datetime | None = None) -> dict | None:
    """Flag tickets whose stage is overdue; the managers and partners are told once per breach (by event).

    Only while the ticket's center is open: a breach found while it is closed is held (not recorded) and
    recorded -- hence escalated -- by the first run after the center opens (``sla_breaches_record``).
    """
    now = local_now(now)

    def work() -> dict:
        return sla_breaches_record(now=now, with_counts=True)

    return run_job("sla_watch", slot_period(now, settings.JOBS_SLA_WATCH_MINUTES), work)


def job_express_watch(*, now: datetime | None = None) -> dict | None:
    """Every minute: express repairs (the 1-hour promise) not ready by their promised time are breaches."""
    now = local_now(now)

    def work() -> dict:
        return express_breaches_record(now=now, with_counts=True)

    return run_job("express_watch", slot_period(now, 1), work)


def _record(tickets: Iterable[RepairTicket], *, now: datetime, status_of, due_of) -> tuple[int, int]:
    """(new breaches, held): one ``SlaBreach`` + ``ticket.sla_breached`` per ticket whose center is open now."""
    rows = list(tickets)
    calendars = center_calendars(centers={t.center_id: t.center for t in rows}.values())
    new = held = 0
    for ticket in rows:
        if not is_open(calendars[ticket.center_id], now):
            held += 1  # nobody is on shift to act on it: escalated at the next opening
            continue
        status, due = status_of(ticket), due_of(ticket)
        try:
            with transaction.atomic():
                breach = SlaBreach.objects.create(ticket=ticket, status=status, stage_due_at=due)
                emit(
                    "ticket.sla_breached",
                    {
                        "breach_id": breach.pk,
                        "ticket_id": ticket.pk,
                        "service_no": ticket.service_no,
                        "center": ticket.center.code,
                        "status": status,
                        "stage_due_at": timezone.localtime(due).isoformat(),
                    },
                    center_id=ticket.center_id,
                )
        except IntegrityError:
            continue  # this stage's breach is already recorded (and was announced then)
        new += 1
    return new, held


def sla_breaches_record(*, now: datetime, with_counts: bool = False):
    """One ``SlaBreach`` per overdue stage and its ``ticket.sla_breached`` event, in one transaction each.

    Returns how many breaches are new (``{"new_breaches", "held"}`` with ``with_counts``); a stage already
    recorded (the unique row) is skipped, so it was announced then and is not again. A ticket whose center is
    closed now is held: nothing is written, a later run records it once the center is open. The centers'
    calendars: two queries at most, whatever the number of tickets.
    """
    recorded = SlaBreach.objects.filter(
        ticket_id=OuterRef("pk"), status=OuterRef("status"), stage_due_at=OuterRef("stage_due_at")
    )
    tickets = tickets_overdue(now=now).select_related("center").exclude(Exists(recorded))
    new, held = _record(
        tickets.order_by("pk"),
        now=now,
        status_of=lambda t: t.status,
        due_of=lambda t: t.stage_due_at,
    )
    return {"new_breaches": new, "held": held} if with_counts else new


def express_breaches_record(*, now: datetime, with_counts: bool = False):
    """Express repairs past their promise and not yet ready: a breach of stage ``express`` (once per promise)."""
    tickets = (
        RepairTicket.objects.filter(express=True, status__in=EXPRESS_WATCHED, promised_at__lt=now)
        .exclude(
            Exists(
                SlaBreach.objects.filter(
                    ticket_id=OuterRef("pk"), status=EXPRESS_BREACH, stage_due_at=OuterRef("promised_at")
                )
            )
        )
        .select_related("center")
        .order_by("pk")
    )
    new, held = _record(tickets, now=now, status_of=lambda t: EXPRESS_BREACH, due_of=lambda t: t.promised_at)
    return {"new_breaches": new, "held": held} if with_counts else new


# --------------------------------------------------------------------------- auto-close


def job_tickets_auto_close(*, now: datetime | None = None) -> dict | None:
    """Close tickets delivered ``TICKET_AUTO_CLOSE_DAYS`` ago that nothing holds open (system actor)."""
    now = local_now(now)
    cutoff = now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)

    def work() -> dict:
        closed = refused = 0
        held = dict.fromkeys(_auto_close_holds, 0)
        ids = list(
            RepairTicket.objects.filter(status=TicketStatus.DELIVERED, delivered_at__lte=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for ticket_id in ids:
            hold = next((name for name, holds in _auto_close_holds.items() if holds(ticket_id=ticket_id)), None)
            if hold is not None:
                held[hold] += 1
                continue
            try:
                ticket_transition(
                    ticket_id=ticket_id,
                    action="close",
                    actor=SYSTEM,
                    note=f"Closed automatically {settings.TICKET_AUTO_CLOSE_DAYS} days after delivery.",
                )
            except DomainError as exc:  # e.g. the loan is still out, or someone closed it meanwhile
                logger.info("auto-close of ticket %s refused: %s", ticket_id, exc.code)
                refused += 1
                continue
            closed += 1
        return {"closed": closed, **held, "refused": refused}

    return run_job("tickets_auto_close", now.date().isoformat(), work)


# --------------------------------------------------------------------------- Service Day reminders


def job_service_day_reminders(*, now: datetime | None = None) -> dict | None:
    """Remind recent customers of a center of its Service Day, a few days before it starts.

    Who: customers whose device that center handed back in the last ``JOBS_SERVICE_DAY_AUDIENCE_DAYS`` days
    (a repairs fact, hence here). One ``service_day.reminder_due`` event per customer per Service Day weekend,
    whatever number of centers they visited; the subscriber's dedupe key keeps a forced re-run to one message.
    """
    now = local_now(now)
    target = now.date() + timedelta(days=settings.JOBS_SERVICE_DAY_REMINDER_DAYS_BEFORE)

    def work() -> dict:
        days = {
            sd.center_id: sd
            for sd in ServiceDay.objects.filter(date=target, active=True, center__active=True).select_related("center")
        }
        # Only the first day of a Service Day weekend triggers the reminder.
        first_days = set(
            ServiceDay.objects.filter(center_id__in=list(days), date=target - timedelta(days=1)).values_list(
                "center_id", flat=True
            )
        )
        centers = {cid: sd for cid, sd in days.items() if cid not in first_days}
        since = now - timedelta(days=settings.JOBS_SERVICE_DAY_AUDIENCE_DAYS)
        pairs = (
            RepairTicket.objects.filter(center_id__in=list(centers), delivered_at__gte=since)
            .order_by("customer_id", "center_id")
            .values_list("customer_id", "center_id")
            .distinct()
        )
        chosen: dict[int, int] = {}
        for customer_id, center_id in pairs:
            chosen.setdefault(customer_id, center_id)
        for customer_id, center_id in chosen.items():
            sd = centers[center_id]
            with transaction.atomic():
                emit(
                    "service_day.reminder_due",
                    {
                        "customer_id": customer_id,
                        "center_id": center_id,
                        "service_day_id": sd.pk,
                        "date": sd.date.isoformat(),
                    },
                    center_id=center_id,
                )
        return {"date": target.isoformat(), "centers": len(centers), "customers": len(chosen)}

    return run_job("service_day_reminders", target.isoformat(), work)
