"""Scheduled jobs: run once per period, whoever fires them.

A job is a function in the app whose rule it applies (``repairs/jobs.py``, ``loaners/jobs.py``, ...), run by a
thin Celery task in that app's ``tasks.py`` on the beat schedule (``servicehub/schedules.py``). Each run is
claimed per period through a ``JobRun`` row (unique per job and period), so two beats, a duplicate delivery or
a manual run next to the scheduled one do the work once; a run that crashed is taken over after its lease
(``JOBS_RUN_LEASE_SECONDS``). The work inside must be idempotent too (unique rows, compare-and-set marks,
dedupe keys downstream), so a re-run after a crash half-way finishes without doing anything twice.

A job never writes a customer message or a webhook itself: it changes state through its app's services and
emits domain events (``servicehub.events.emit``); the reactions subscribe (docs/jobs.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import JobRun, JobRunStatus

logger = logging.getLogger("servicehub.jobs")


def job_run_claim(*, job: str, period: str, now: datetime | None = None) -> JobRun | None:
    """Own the run of ``job`` for ``period``, or ``None`` when someone else has it or it is done.

    Changes: inserts the ``JobRun`` row (the unique (job, period) index decides between two runners starting
    at once); or takes over a run that ``failed`` or is still ``running`` past its lease (the runner crashed).
    Refuses (``None``): a run that succeeded, or one running within its lease.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.JOBS_RUN_LEASE_SECONDS)
    try:
        with transaction.atomic():
            return JobRun.objects.create(job=job, period=period, started_at=now, lease_until=lease_until)
    except IntegrityError:
        pass
    token = uuid.uuid4()
    taken = JobRun.objects.filter(
        Q(status=JobRunStatus.FAILED) | Q(status=JobRunStatus.RUNNING, lease_until__lt=now), job=job, period=period
    ).update(
        status=JobRunStatus.RUNNING,
        claim_token=token,
        attempts=F("attempts") + 1,
        started_at=now,
        lease_until=lease_until,
        finished_at=None,
        error="",
    )
    if not taken:
        return None
    return JobRun.objects.get(job=job, period=period)


def job_run_finish(*, run: JobRun, result: dict | None = None, error: str = "") -> bool:
    """Record the end of a run this runner still owns (compare-and-set on the claim token)."""
    return bool(
        JobRun.objects.filter(pk=run.pk, claim_token=run.claim_token, status=JobRunStatus.RUNNING).update(
            status=JobRunStatus.FAILED if error else JobRunStatus.SUCCEEDED,
            finished_at=timezone.now(),
            result=result or {},
            error=error[:5000],
        )
    )


def run_job(job: str, period: str, work: Callable[[], dict]) -> dict | None:
    """Run ``work`` once for (job, period); ``None`` when another runner has (or had) it.

    A ``work`` that raises marks the run failed (the next attempt may claim it) and re-raises.
    """
    run = job_run_claim(job=job, period=period)
    if run is None:
        logger.info("job %s %s: already done or running elsewhere; skipped", job, period)
        return None
    try:
        result = work()
    except Exception as exc:
        job_run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
        logger.exception("job %s %s failed", job, period)
        raise
    job_run_finish(run=run, result=result)
    logger.info("job %s %s done: %s", job, period, result)
    return result


def local_now(now: datetime | None = None) -> datetime:
    """``now`` (default: the current time) in the project's zone (Asia/Shanghai): periods are local."""
    return timezone.localtime(now or timezone.now())


def slot_period(now: datetime, minutes: int) -> str:
    """The ``minutes``-wide slot ``now`` falls in, as a period key (``2026-11-25T10:05``)."""
    floored = now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
    return floored.strftime("%Y-%m-%dT%H:%M")
