"""Scheduled jobs of outreach: the day-before reminder of events and classes; closing sign-language sessions
staff left ``scheduled`` (every 15 minutes).

Run by ``outreach/tasks.py`` once per day (``servicehub.jobs.run_job``). Each registration is marked reminded
(compare-and-set) and its ``event.reminder_due`` emitted in one transaction, so a person is reminded once even
across a manual run or a crashed run's retry; the SMS is written by ``notifications`` from the event.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from servicehub.jobs import local_now, run_job, slot_period

from . import events, services, signlang
from .choices import EventStatus, RegistrationStatus
from .models import Registration


def job_event_reminders(*, now: dt.datetime | None = None) -> dict | None:
    """Remind everyone registered for an event starting tomorrow (local date)."""
    now = local_now(now)
    tomorrow = now.date() + dt.timedelta(days=1)
    tz = now.tzinfo
    since = dt.datetime.combine(tomorrow, dt.time(), tzinfo=tz)
    until = since + dt.timedelta(days=1)

    def work() -> dict:
        due = (
            Registration.objects.filter(
                status=RegistrationStatus.REGISTERED,
                reminded_at__isnull=True,
                event__status=EventStatus.SCHEDULED,
                event__starts_at__gte=since,
                event__starts_at__lt=until,
            )
            .select_related("event")
            .order_by("pk")
        )
        count = 0
        for registration in due:
            with transaction.atomic():
                if not services.registration_mark_reminded(registration_id=registration.pk, now=now):
                    continue  # reminded (or cancelled) meanwhile
                events.event_reminder_due(registration=registration)
            count += 1
        return {"day": tomorrow.isoformat(), "reminded": count}

    return run_job("event_reminders", tomorrow.isoformat(), work)


def job_sign_sessions_close(*, now: dt.datetime | None = None) -> dict | None:
    """Close the sign-language sessions still ``scheduled`` more than ``OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES``
    after their start: ``held`` when the customer checked in, else ``no_show``
    (``signlang.sign_session_close_after_start``: each under its row lock, re-checked). Once per 15-minute slot;
    a re-run finds nothing left to close."""
    now = local_now(now)

    def work() -> dict:
        counts = {"held": 0, "no_show": 0}
        for session_id in signlang.sign_sessions_due_to_close(now=now):
            written = signlang.sign_session_close_after_start(session_id=session_id, now=now)
            if written is not None:
                counts[written] += 1
        return counts

    return run_job("sign_sessions_close", slot_period(now, 15), work)
