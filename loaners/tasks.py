"""Celery tasks of loaners' scheduled jobs: thin, idempotent (run once per period by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task

from . import jobs


# Task names are stable ("jobs.*"): beat rows and messages in flight reference them; they route to the jobs queue.
@shared_task(name="jobs.loaners_due_tomorrow", acks_late=True)
def loaners_due_tomorrow_task() -> dict | None:
    return jobs.job_loaners_due_tomorrow()


@shared_task(name="jobs.loaners_overdue", acks_late=True)
def loaners_overdue_task() -> dict | None:
    return jobs.job_loaners_overdue()


@shared_task(name="jobs.amenity_overdue_reminders", acks_late=True)
def amenity_overdue_reminders_task() -> dict | None:
    return jobs.job_amenity_overdue_reminders()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "loaners: loans due tomorrow",
            "renamed_from": ["jobs: loaners due tomorrow"],
            "task": "jobs.loaners_due_tomorrow",
            "crontab": {"minute": "0", "hour": "18"},
            "description": "Reminds customers whose loaner phone is due back tomorrow.",
        },
        {
            "name": "loaners: loans overdue",
            "renamed_from": ["jobs: loaners overdue"],
            "task": "jobs.loaners_overdue",
            "crontab": {"minute": "5"},
            "description": "Marks overdue loans (late fees accrue); each customer is told once.",
        },
        {
            "name": "loaners: overdue amenities",
            "task": "jobs.amenity_overdue_reminders",
            "crontab": {"minute": "0", "hour": "10"},
            "description": "Reminds each borrower of an overdue umbrella, power bank... once by SMS (mobile numbers "
            "only): what it is, that any center takes it back, the deposit.",
        },
    ]
