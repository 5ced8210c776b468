"""Celery tasks of repairs' scheduled jobs: thin, idempotent (run once per period by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import jobs


# Task names are stable ("jobs.*"): beat rows and messages in flight reference them; they route to the jobs queue.
@shared_task(name="jobs.sla_watch", acks_late=True)
def sla_watch_task() -> dict | None:
    return jobs.job_sla_watch()


@shared_task(name="jobs.express_watch", acks_late=True)
def express_watch_task() -> dict | None:
    return jobs.job_express_watch()


@shared_task(name="jobs.tickets_auto_close", acks_late=True)
def tickets_auto_close_task() -> dict | None:
    return jobs.job_tickets_auto_close()


@shared_task(name="jobs.service_day_reminders", acks_late=True)
def service_day_reminders_task() -> dict | None:
    return jobs.job_service_day_reminders()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "repairs: SLA watch",
            "renamed_from": ["jobs: SLA watch"],
            "task": "jobs.sla_watch",
            "every_seconds": settings.JOBS_SLA_WATCH_MINUTES * 60,
            "description": "Flags overdue ticket stages, e-mails the center managers, emits ticket.sla_breached.",
        },
        {
            "name": "repairs: express watch",
            "task": "jobs.express_watch",
            "every_seconds": 60,
            "description": "Express repairs not ready by their 1-hour promise: escalated like an SLA breach.",
        },
        {
            "name": "repairs: auto-close delivered tickets",
            "renamed_from": ["jobs: auto-close delivered tickets"],
            "task": "jobs.tickets_auto_close",
            "crontab": {"minute": "40", "hour": "3"},
            "description": "Closes tickets delivered N days ago whose loan is settled (system actor).",
        },
        {
            "name": "repairs: Service Day reminders",
            "renamed_from": ["jobs: Service Day reminders"],
            "task": "jobs.service_day_reminders",
            "crontab": {"minute": "0", "hour": "10"},
            "description": "Reminds recent customers of a center's Service Day a few days before it starts.",
        },
    ]
