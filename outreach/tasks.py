"""Celery tasks of outreach's scheduled jobs: thin, idempotent (run once per period by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task

from . import jobs


@shared_task(name="jobs.event_reminders", acks_late=True)
def event_reminders_task() -> dict | None:
    return jobs.job_event_reminders()


@shared_task(name="jobs.sign_sessions_close", acks_late=True)
def sign_sessions_close_task() -> dict | None:
    return jobs.job_sign_sessions_close()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "outreach: event reminders",
            "task": "jobs.event_reminders",
            "crontab": {"minute": "30", "hour": "17"},
            "description": "Reminds people registered for tomorrow's community events and classes by SMS.",
        },
        {
            "name": "outreach: close sign-language sessions",
            "task": "jobs.sign_sessions_close",
            "crontab": {"minute": "*/15"},
            "description": "Marks sign-language sessions staff left scheduled well after their start: held if the "
            "customer checked in, else did not join.",
        },
    ]
