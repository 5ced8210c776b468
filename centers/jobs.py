"""Scheduled jobs of the service network (run by the tasks in ``centers/tasks.py``; see ``servicehub.jobs``)."""

from __future__ import annotations

from datetime import date, datetime

from servicehub.jobs import local_now, run_job

from .services import service_days_generate


def next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def job_service_days_generate(*, now: datetime | None = None) -> dict | None:
    """Create next month's Service Days for every active center (``centers.services.service_days_generate``).

    Once per target month (``JobRun``); the unique (center, date) rows make a forced re-run create nothing.
    """
    year, month = next_month(local_now(now).date())

    def work() -> dict:
        return {"year": year, "month": month, "created": service_days_generate(year=year, month=month)}

    return run_job("service_days_generate", f"{year:04d}-{month:02d}", work)
