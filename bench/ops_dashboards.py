"""Median response time and query count of the board and each dashboard on a large PostgreSQL database.

    # once: build the data set (see bench/ops_build.py), then
    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ops_bench \\
        .venv/bin/python bench/ops_dashboards.py [--runs 7] [--compare-indexes]

Each page is requested through the full Django stack (``django.test.Client``, logged-in
session, middleware, templates) once to warm up, then ``--runs`` times; the median, min
and max wall times and the number of SQL queries are printed. ``--figures`` also times
every figure function of the HQ dashboard on its own (median of 3), which shows where
the time goes. ``--compare-indexes`` measures everything twice: with the reporting
indexes of ``ops/migrations/0002_reporting_indexes.py`` and ``0003_stage_visit_and_partial_indexes.py``
and after dropping them (they are
re-created at the end).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"
_0002 = importlib.import_module("ops.migrations.0002_reporting_indexes")
_0003 = importlib.import_module("ops.migrations.0003_stage_visit_and_partial_indexes")
_REPLACED = {name for name, _t, _c in _0003.REPLACED}
# The reporting indexes as the migrations leave them: (name, table, PostgreSQL definition).
INDEXES = [(n, t, f"({c})") for n, t, c in _0002.INDEXES if n not in _REPLACED] + [
    (n, t, pg) for n, t, pg, _other in _0003.CREATE
]


def timed(fn, runs: int) -> tuple[list[float], int]:
    fn()  # warm-up (connection, template loading, plan cache)
    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = len(ctx.captured_queries)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples, queries


def users():
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from centers.models import StaffMembership
    from repairs.models import RepairTicket

    User = get_user_model()
    hq, _ = User.objects.get_or_create(username="bench-hq", defaults={"is_staff": True, "is_superuser": True})
    # The busiest center: the worst case for the board and a center's dashboards.
    busiest = (
        RepairTicket.objects.filter(status__in=["received", "diagnosing", "repairing", "quality_check", "ready"])
        .values("center_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    center_id = busiest["center_id"]
    desk = StaffMembership.objects.filter(center_id=center_id, role="front_desk").select_related("user").first().user
    manager = StaffMembership.objects.filter(center_id=center_id, role="manager").select_related("user").first().user
    # A typical center too: the one with the median number of tickets (the busiest is Pareto-skewed).
    per_center = list(RepairTicket.objects.values("center_id").annotate(n=Count("pk")).order_by("n", "center_id"))
    median = per_center[len(per_center) // 2]
    typical = (
        StaffMembership.objects.filter(center_id=median["center_id"], role="manager")
        .select_related("user")
        .first()
        .user
    )
    for u in (desk, manager, typical):
        if not u.is_staff:
            u.is_staff = True
            u.save(update_fields=["is_staff"])
    from centers.models import ServiceCenter

    return hq, desk, manager, typical, ServiceCenter.objects.get(pk=center_id), busiest["n"], median["n"]


def client_for(user) -> Client:
    c = Client()
    c.force_login(user, backend=BACKEND)
    return c


def pages(hq, desk, manager, typical, center):
    anon, c_hq, c_desk, c_mgr = Client(), client_for(hq), client_for(desk), client_for(manager)
    c_typical = client_for(typical)
    return [
        ("board (busiest center)", anon, f"/board/{center.code}/"),
        ("board body (htmx poll)", anon, f"/board/{center.code}/body/"),
        ("front desk, one center (front desk user)", c_desk, "/admin/ops/dashboard/"),
        ("front desk, whole network (HQ)", c_hq, "/admin/ops/dashboard/"),
        ("HQ, the busiest center, 30 days (manager)", c_mgr, "/admin/ops/hq/"),
        ("HQ, a median center, 30 days (manager)", c_typical, "/admin/ops/hq/"),
        ("HQ, whole network, 30 days", c_hq, "/admin/ops/hq/"),
        ("HQ, whole network, 7 days", c_hq, "/admin/ops/hq/?start={start}&end={end}"),
        ("CSV turnaround, network, 30 days", c_hq, "/admin/ops/hq/csv/turnaround/"),
    ]


def measure(runs: int, label: str):
    import datetime as dt

    from ops.periods import local_today

    hq, desk, manager, typical, center, open_n, median_n = users()
    end = local_today()
    start = end - dt.timedelta(days=6)
    print(f"\n### {label}\n")
    print(f"busiest center {center.code}: {open_n} open tickets on the board; median center: {median_n} tickets\n")
    print("| page | median ms | min | max | queries |")
    print("|---|---:|---:|---:|---:|")
    results = {}
    for name, client, url in pages(hq, desk, manager, typical, center):
        url = url.format(start=start.isoformat(), end=end.isoformat())

        def get(client=client, url=url):
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)

        samples, queries = timed(get, runs)
        results[name] = (statistics.median(samples), queries)
        print(
            f"| {name} | {statistics.median(samples):.0f} | {min(samples):.0f} | {max(samples):.0f} | {queries} |",
            flush=True,
        )
    return results


def figures(runs: int = 3):
    from ops.figures import FIGURES, Ctx
    from ops.selectors import reporting_snapshot

    ctx = Ctx.build(center_ids=None)
    print(f"\nFigures, whole network, 30 days (median of {runs}, ms):\n")
    print("| figure | median ms | queries |")
    print("|---|---:|---:|")
    for board in ("front", "hq"):
        for key, fn in FIGURES[board].items():

            def run(fn=fn):
                with reporting_snapshot():  # as the page does: one snapshot, JIT off
                    fn(ctx)

            samples, queries = timed(run, runs)
            print(f"| {board}/{key} | {statistics.median(samples):.0f} | {queries} |", flush=True)


def drop_indexes():
    with connection.cursor() as cur:
        for name, _t, _c in INDEXES:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
        cur.execute("ANALYZE")


def create_indexes():
    with connection.cursor() as cur:
        for name, table, definition in INDEXES:
            cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")
        cur.execute("ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--figures", action="store_true", help="also time every figure function")
    parser.add_argument("--compare-indexes", action="store_true")
    parser.add_argument(
        "--cache", action="store_true", help="keep the HQ figure cache on (default: off, every run computes)"
    )
    args = parser.parse_args()
    settings.OPS_FIGURE_CACHE_SECONDS = 300 if args.cache else 0
    assert settings.IS_POSTGRES, "run against PostgreSQL (DATABASE_URL)"
    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT COUNT(*) FROM repairs_repairticket), (SELECT COUNT(*) FROM repairs_ticketevent)")
        tickets, events = cur.fetchone()
    print(f"database {settings.DATABASES['default']['NAME']}: {tickets:,} tickets, {events:,} timeline events")
    create_indexes()
    with_idx = measure(args.runs, "with the ops reporting indexes")
    if args.figures:
        figures()
    if args.compare_indexes:
        drop_indexes()
        try:
            without = measure(args.runs, "without the ops reporting indexes")
            if args.figures:
                figures()
        finally:
            create_indexes()
        print("\n| page | with indexes ms | without ms | ratio without/with |")
        print("|---|---:|---:|---:|")
        for name, (ms, _q) in with_idx.items():
            print(f"| {name} | {ms:.0f} | {without[name][0]:.0f} | {without[name][0] / ms:.1f}x |")


if __name__ == "__main__":
    main()
