"""The Service Days job (centers.jobs): next month's days, once per month."""

import datetime as dt

from centers import jobs
from servicehub.models import JobRun
from tests.factories.centers import ServiceCenterFactory
from tests.factories.warranty import shanghai


def test_service_days_job_creates_next_month_once(db):
    ServiceCenterFactory(kind="service_center")
    ServiceCenterFactory(kind="flagship")
    ServiceCenterFactory(kind="service_center", active=False)
    now = shanghai(2026, 11, 20, 2, 30)
    result = jobs.job_service_days_generate(now=now)
    # first Friday of December 2026 is the 4th: Fri, Sat, Sun at each of the two active centers
    assert result == {"year": 2026, "month": 12, "created": 6}
    assert jobs.job_service_days_generate(now=now) is None  # same period: skipped
    run = JobRun.objects.get(job="service_days_generate")
    assert (run.period, run.status) == ("2026-12", "succeeded")


def test_a_forced_rerun_for_the_same_month_creates_nothing(db):
    ServiceCenterFactory(kind="service_center")
    now = shanghai(2026, 11, 20, 2, 30)
    assert jobs.job_service_days_generate(now=now)["created"] == 3
    JobRun.objects.all().delete()
    assert jobs.job_service_days_generate(now=now) == {"year": 2026, "month": 12, "created": 0}


def test_december_generates_january(db):
    assert jobs.next_month(dt.date(2026, 12, 20)) == (2027, 1)
