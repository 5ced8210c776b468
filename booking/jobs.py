"""Scheduled jobs of booking: appointment reminders and no-shows, satisfaction survey invitations.

Run by the tasks in ``booking/tasks.py``, once per period (``servicehub.jobs.run_job``). State changes go
through booking's services; the customer's messages are written by ``notifications.reminders`` from the
events emitted here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from repairs.choices import TicketStatus
from repairs.models import RepairTicket
from servicehub.events import emit
from servicehub.jobs import local_now, run_job, slot_period
from servicehub.models import OutboxEvent

from . import selectors, services

EVENT_TYPES = {
    "appointment.reminder_due": "tomorrow's appointment is to be reminded (marked reminded in the same transaction)",
    "survey.invitation_due": "a customer is invited to the satisfaction survey a day after hand-back (once per ticket)",
}

# The survey looks back this far so a day with the worker down is caught up.
SURVEY_WINDOW = timedelta(days=3)
# One no-show run per 5-minute slot (scheduled every 15 minutes; a manual run in the same slot is a no-op).
NO_SHOW_SLOT_MINUTES = 5


def job_appointment_reminders(*, now: datetime | None = None) -> dict | None:
    """Remind customers of tomorrow's appointments (``selectors.appointments_for_reminder``).

    Each: ``appointment_mark_reminded`` (compare-and-set) and its ``appointment.reminder_due`` event in one
    transaction, so an appointment is reminded once even across a manual run or a crashed run's retry.
    """
    now = local_now(now)
    tomorrow = now.date() + timedelta(days=1)

    def work() -> dict:
        count = 0
        for appointment in selectors.appointments_for_reminder(day=tomorrow):
            with transaction.atomic():
                if not services.appointment_mark_reminded(appointment_id=appointment.pk, now=now):
                    continue  # reminded meanwhile (a manual run, or a crashed run's rows)
                emit(
                    "appointment.reminder_due",
                    {
                        "appointment_id": appointment.pk,
                        "ticket_id": appointment.ticket_id,
                        "start": timezone.localtime(appointment.start).isoformat(),
                    },
                    center_id=appointment.center_id,
                )
            count += 1
        return {"day": tomorrow.isoformat(), "reminded": count}

    return run_job("appointment_reminders", tomorrow.isoformat(), work)


def job_appointment_no_shows(*, now: datetime | None = None) -> dict | None:
    """Mark appointments whose slot ended without a check-in (``services.appointments_mark_no_shows``)."""
    now = local_now(now)

    def work() -> dict:
        return {"no_shows": services.appointments_mark_no_shows(now=now)}

    return run_job("appointment_no_shows", slot_period(now, NO_SHOW_SLOT_MINUTES), work)


def job_survey_invitations(*, now: datetime | None = None) -> dict | None:
    """Invite customers to the satisfaction survey a day after hand-back: one ``survey.invitation_due`` per ticket.

    Looks at tickets delivered 1 to 4 days ago (hourly, so an outage is caught up) and skips those already
    invited: an invitation event is the record that it went out (outbox rows are kept). Result: ``invited``,
    the tickets invited by this run.
    """
    now = local_now(now)
    until = now - timedelta(days=1)
    since = until - SURVEY_WINDOW

    def work() -> dict:
        tickets = (
            RepairTicket.objects.filter(
                status__in=[TicketStatus.DELIVERED, TicketStatus.CLOSED],
                delivered_at__gt=since,
                delivered_at__lte=until,
            )
            .order_by("pk")
            .values_list("pk", "center_id")
        )
        # A ticket delivered after ``since`` was invited (if at all) after ``since`` too.
        invited = set(
            OutboxEvent.objects.filter(type="survey.invitation_due", created_at__gt=since).values_list(
                "payload__ticket_id", flat=True
            )
        )
        count = 0
        for ticket_id, center_id in tickets.iterator(chunk_size=2000):
            if ticket_id in invited:
                continue
            with transaction.atomic():
                emit("survey.invitation_due", {"ticket_id": ticket_id}, center_id=center_id)
            count += 1
        return {"invited": count}

    return run_job("survey_invitations", now.strftime("%Y-%m-%dT%H"), work)


def job_plan_orders_abandon(*, now: datetime | None = None) -> dict | None:
    """Every 10 minutes: cancel web plan orders still unpaid after 30 minutes, and give back what a cancelled
    order still keeps (a refund that failed when its late payment settled)."""
    now = local_now(now)

    def work() -> dict:
        return {
            "abandoned": services.plan_orders_abandon(now=now),
            "refunded": services.plan_orders_refund_cancelled(),
        }

    return run_job("plan_orders_abandon", slot_period(now, 10), work)
