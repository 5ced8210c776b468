"""Celery task of outreach's scheduled job: thin, idempotent (run once per day by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task(name="jobs.event_reminders", acks_late=True)
def event_reminders_task() -> dict | None:
    return jobs.job_event_reminders()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "outreach: event reminders",
            "task": "jobs.event_reminders",
            "crontab": {"minute": "30", "hour": "17"},
            "description": "Reminds people registered for tomorrow's community events and classes by SMS.",
        },
    ]
