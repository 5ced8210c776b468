"""Celery tasks of the service network: thin, idempotent (run once per period by ``servicehub.jobs``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import jobs


# Task names are stable ("jobs.*"): beat rows and messages in flight reference them; they route to the jobs queue.
@shared_task(name="jobs.service_days_generate", acks_late=True)
def service_days_generate_task() -> dict | None:
    return jobs.job_service_days_generate()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "centers: generate next month's Service Days",
            "renamed_from": ["jobs: generate next month's Service Days"],
            "task": "jobs.service_days_generate",
            "crontab": {"minute": "30", "hour": "2", "day_of_month": str(settings.JOBS_SERVICE_DAYS_DAY_OF_MONTH)},
            "description": "Creates next month's Service Day rows for every active center (idempotent).",
        },
    ]
