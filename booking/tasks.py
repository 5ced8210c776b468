"""Celery tasks of booking's scheduled jobs: thin, idempotent (run once per period by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task

from . import jobs


# Task names are stable ("jobs.*"): beat rows and messages in flight reference them; they route to the jobs queue.
@shared_task(name="jobs.appointment_reminders", acks_late=True)
def appointment_reminders_task() -> dict | None:
    return jobs.job_appointment_reminders()


@shared_task(name="jobs.appointment_no_shows", acks_late=True)
def appointment_no_shows_task() -> dict | None:
    return jobs.job_appointment_no_shows()


@shared_task(name="jobs.survey_invitations", acks_late=True)
def survey_invitations_task() -> dict | None:
    return jobs.job_survey_invitations()


@shared_task(name="jobs.plan_orders_abandon", acks_late=True)
def plan_orders_abandon_task() -> dict | None:
    return jobs.job_plan_orders_abandon()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "booking: appointment reminders",
            "renamed_from": ["jobs: appointment reminders"],
            "task": "jobs.appointment_reminders",
            "crontab": {"minute": "0", "hour": "17"},
            "description": "Reminds customers of tomorrow's appointments.",
        },
        {
            "name": "booking: appointment no-shows",
            "renamed_from": ["jobs: appointment no-shows"],
            "task": "jobs.appointment_no_shows",
            "every_seconds": 15 * 60,
            "description": "Marks appointments whose slot ended without a check-in as no-shows.",
        },
        {
            "name": "booking: survey invitations",
            "renamed_from": ["jobs: survey invitations"],
            "task": "jobs.survey_invitations",
            "crontab": {"minute": "20"},
            "description": "Invites customers to the satisfaction survey a day after hand-back.",
        },
        {
            "name": "booking: unpaid web plan orders",
            "task": "jobs.plan_orders_abandon",
            "every_seconds": 10 * 60,
            "description": "Cancels web plan orders not paid within 30 minutes (a late payment is refunded).",
        },
    ]
