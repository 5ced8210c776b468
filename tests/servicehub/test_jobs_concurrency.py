"""Races against PostgreSQL: many runners of one job period run it once, first time or taking over a failed run.

Each has a control with the guard taken out, showing the harness catches two owners.
"""

import time

import pytest
from django.utils import timezone

from servicehub import jobs
from servicehub.models import JobRun
from tests.concurrency import race as _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def race(target, n=THREADS):
    return _race(target, n)


def test_eight_runners_of_one_job_period_run_it_once():
    runs = race(lambda: jobs.job_run_claim(job="sla_watch", period="2026-11-25T10:00"))
    assert sum(1 for r in runs if r is not None) == 1
    assert JobRun.objects.count() == 1


def test_eight_runners_of_one_job_period_do_the_work_once():
    done = []
    results = race(lambda: jobs.run_job("sla_watch", "2026-11-25T10:00", lambda: done.append(1) or {"n": 1}))
    assert done == [1]
    assert sorted(results, key=bool) == [None] * (THREADS - 1) + [{"n": 1}]


@pytest.fixture
def failed_run():
    run = jobs.job_run_claim(job="sla_watch", period="p")
    jobs.job_run_finish(run=run, error="boom")
    return run


def test_eight_runners_taking_over_a_failed_run_give_it_one_owner(failed_run):
    runs = race(lambda: jobs.job_run_claim(job="sla_watch", period="p"))
    owners = [r for r in runs if r is not None]
    assert len(owners) == 1
    assert JobRun.objects.get().attempts == 2


def unsafe_claim(*, job, period, now=None):
    """The bug the compare-and-set prevents: read the status, then take the run without re-checking it."""
    run = JobRun.objects.get(job=job, period=period)
    if run.status != "failed":
        return None
    time.sleep(0.05)  # widen the window between the read and the write
    JobRun.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now())
    return run


def test_control_without_compare_and_set_a_failed_run_gets_several_owners(failed_run):
    runs = race(lambda: unsafe_claim(job="sla_watch", period="p"))
    assert sum(1 for r in runs if r is not None) > 1  # the harness does catch two owners
