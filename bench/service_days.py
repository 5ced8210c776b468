"""Benchmark: the monthly Service Day job over the full national network (PostgreSQL).

Usage (from the project root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_jobs .venv/bin/python bench/service_days.py [--keep]

Creates a scratch database ``<DATABASE_URL's database>_days`` (bench/scratchdb.py; dropped first; dropped at
the end unless --keep),
loads the demo network (2,400 centers + 20,000 collection points = 22,400 sites), then runs
``centers.jobs.job_service_days_generate`` (JobRun claim + ``centers.services.service_days_generate``):

1. the real network shape: only customer-facing centers get Service Days;
2. a re-run for the same month (new JobRun period forced): must create 0 rows;
3. the worst case: all 22,400 sites made customer-facing (bench-only UPDATE), next month.

Prints wall time, rows created, rows/s and SQL query counts (CaptureQueriesContext) as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchdb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the scratch database is created beside it)")
    scratch = scratchdb.scratch_name(base, "days")
    os.environ["DATABASE_URL"] = scratchdb.recreate(base, scratch)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from centers.demo import seed
    from centers.jobs import job_service_days_generate
    from centers.models import ServiceCenter, ServiceDay
    from servicehub.models import JobRun

    class Quiet:
        def write(self, *a, **k):
            pass

    results: dict = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    }
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    seed(out=Quiet(), options={"centers": 2400, "collection_points": 20000, "seed": 0})
    results["setup_seconds"] = round(time.perf_counter() - t0, 1)
    results["sites"] = ServiceCenter.objects.count()

    def run(label: str, now) -> None:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = job_service_days_generate(now=now)
            seconds = time.perf_counter() - start
        created = (result or {}).get("created", 0)
        results[label] = {
            "eligible_centers": ServiceCenter.objects.filter(
                active=True, kind__in=("service_center", "flagship", "experience_store")
            ).count(),
            "created": created,
            "seconds": round(seconds, 3),
            "rows_per_second": round(created / seconds) if created else 0,
            "queries": len(queries),
        }

    # The demo seed already created this and next month's days: run for months it has not touched.
    now = timezone.localtime().replace(day=20, hour=2, minute=30) + timezone.timedelta(days=62)
    run("real_network", now)
    JobRun.objects.all().delete()  # force the same month again: the rows' unique index must hold
    run("rerun_same_month", now)
    ServiceCenter.objects.filter(kind="collection_point").update(kind="service_center")
    run("all_sites_customer_facing", now + timezone.timedelta(days=31))
    results["service_day_rows_total"] = ServiceDay.objects.count()
    results["months"] = sorted(JobRun.objects.values_list("period", flat=True))
    print(json.dumps(results, indent=2))
    connection.close()
    if not args.keep:
        scratchdb.drop(base, scratch)


if __name__ == "__main__":
    main()
