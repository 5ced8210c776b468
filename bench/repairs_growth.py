"""Tracking and ticket-detail latency as the ticket table grows: 10,000 vs 1,000,000 tickets.

Usage (PostgreSQL; the database is created if missing and FLUSHED first, so use your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_repairs_bench .venv/bin/python bench/repairs_growth.py \
        [--small 10000] [--large 1000000] [--samples 300]

Phase "small": ``--small`` tickets; phase "large": the same database grown to ``--large``
tickets. Rows are bulk-loaded with PostgreSQL ``COPY``: each ticket has 4 timeline events
(book, check-in, diagnosis, quote) and a one-line pending quote; tickets are spread over 50
centers, 20,000 customers and 50,000 devices. In each phase, after a warm-up, with the Django test
client (in-process, no network; the whole middleware/DRF stack runs):

* ``GET /api/v1/track/{service_no}/?phone_last4=NNNN`` (anonymous, the public tracking API),
* ``GET /api/v1/tickets/{service_no}/`` (a superuser session: detail with timeline, quote, allowed actions),

for random tickets, interleaved. Prints the medians (ms), exact query counts and the
large/small ratios as JSON. Throttling is switched off for the run. Absolute times are
machine noise; the ratios and query counts are the result.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["THROTTLE_ANON"] = "100000000/min"
os.environ["THROTTLE_TRACKING"] = "100000000/min"
os.environ["THROTTLE_KEY"] = "100000000/min"

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CENTERS = 50
CUSTOMERS = 20_000
DEVICES = 50_000
CHUNK = 50_000


def ensure_database() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import scratchdb

    scratchdb.ensure(os.environ["DATABASE_URL"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run against PostgreSQL (DATABASE_URL=postgres://.../sh_repairs_bench).")
    ensure_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    base = setup_base()
    rng = random.Random(20180301)
    results = {"build_seconds": {}}
    t0 = time.monotonic()
    grow(base, 0, args.small, rng)
    results["build_seconds"]["small"] = round(time.monotonic() - t0, 1)
    results["small"] = measure(base, args.samples, rng)
    t0 = time.monotonic()
    grow(base, args.small, args.large, rng)
    results["build_seconds"]["large"] = round(time.monotonic() - t0, 1)
    results["large"] = measure(base, args.samples, rng)
    ratios = {
        k: round(results["large"][k]["median_ms"] / results["small"][k]["median_ms"], 2) for k in ("track", "detail")
    }
    print(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "sizes": {"small": args.small, "large": args.large},
                "results": results,
                "ratios_large_over_small": ratios,
            },
            indent=2,
            default=str,
        )
    )


def setup_base() -> dict:
    """Centers, a superuser, customers and devices (bulk_create), a small catalog."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from centers.models import Region, ServiceCenter
    from repairs.models import Customer, RepairOperation
    from warranty.models import Device, DeviceModel, StatutoryPolicy

    province = Region.objects.create(adcode="310000000000", name="上海市", level="province")
    city = Region.objects.create(adcode="310100000000", name="市辖区", level="city", parent=province)
    county = Region.objects.create(adcode="310101000000", name="黄浦区", level="county", parent=city)
    centers = ServiceCenter.objects.bulk_create(
        ServiceCenter(
            code=f"BC{i:04d}",
            name=f"Bench center {i}",
            kind="service_center",
            region=county,
            city=city,
            province=province,
            address="Road 1",
            lat=31.2 + i / 1000,
            lng=121.4,
            phone=f"021-6{i:07d}",
            opened_on=dt.date(2020, 1, 1),
        )
        for i in range(CENTERS)
    )
    StatutoryPolicy.objects.get_or_create(category="phone")
    model = DeviceModel.objects.create(code="BENCH1", name="Bench Phone", category="phone", tier="flagship")
    RepairOperation.objects.create(
        device_model=model,
        code="screen",
        name="Screen",
        fault_category="screen",
        part_price=Decimal("1099.00"),
        labor=Decimal("100.00"),
        fixed_price=Decimal("659.00"),
    )
    customers = Customer.objects.bulk_create(
        (Customer(name=f"客户{i}", phone=f"+86139{i:08d}") for i in range(CUSTOMERS)), batch_size=5000
    )
    sold = timezone.now() - dt.timedelta(days=700)
    Device.objects.bulk_create(
        (Device(imei=f"86{i:013d}", model=model, sold_at=sold) for i in range(DEVICES)), batch_size=5000
    )
    User = get_user_model()
    admin = User.objects.create_superuser("bench-admin", "bench@example.com", "bench-password-123")
    return {
        "center_ids": [c.pk for c in centers],
        "customer_ids": [c.pk for c in customers],
        "customer_phones": {c.pk: c.phone for c in customers},
        "device_ids": list(Device.objects.order_by("pk").values_list("pk", flat=True)),
        "operation_id": RepairOperation.objects.get().pk,
        "admin": admin,
        "tickets": [],  # (service_no, phone_last4) sample pool
    }


def _model_defaults(table: str, columns: list[str]) -> tuple[list[str], list]:
    """The NOT NULL columns of ``table`` that ``columns`` leaves out, with their model defaults.

    Django keeps field defaults in Python, not in the database, so a COPY that names only the columns a
    bench knows about fails as soon as a model gains a required field (``express`` did). The defaults are
    what ``Model.objects.create`` would write.
    """
    from django.apps import apps
    from django.db.models import NOT_PROVIDED

    model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
    if model is None:
        return [], []
    extra, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.null or field.primary_key or field.default is NOT_PROVIDED:
            continue
        value = field.get_default()
        if isinstance(value, dict | list):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "t" if value else "f"
        extra.append(field.column)
        values.append(value)
    return extra, values


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    extra, defaults = _model_defaults(table, columns)
    columns = [*columns, *extra]
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(r"\N" if v is None else str(v) for v in (*row, *defaults)))
        buf.write("\n")
    buf.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def grow(base: dict, start: int, end: int, rng: random.Random) -> None:
    """COPY tickets start..end with 4 events and a pending one-line quote each."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    for chunk_start in range(start, end, CHUNK):
        n = min(CHUNK, end - chunk_start)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM repairs_repairticket")
            first_id = cur.fetchone()[0] + 1
            tickets = []
            for _i in range(n):
                created = now - dt.timedelta(minutes=rng.randint(60, 60 * 24 * 365))
                cust = rng.choice(base["customer_ids"])
                no = "".join(rng.choices(ALPHABET, k=10))
                tickets.append(
                    (
                        no,
                        rng.choice(base["center_ids"]),
                        "walk_in",
                        cust,
                        rng.choice(base["device_ids"]),
                        "screen",
                        "",
                        "[]",
                        "",
                        "f",
                        "f",
                        "{}",
                        "awaiting_approval",
                        created.isoformat(),
                        created.isoformat(),
                        created.isoformat(),
                        (created + dt.timedelta(days=2)).isoformat(),
                        created.isoformat(),
                        "",
                        "",
                    )
                )
                if len(base["tickets"]) < 5000 or rng.random() < 0.01:
                    base["tickets"].append((no, base["customer_phones"][cust][-4:]))
            _copy(
                cur,
                "repairs_repairticket",
                [
                    "service_no",
                    "center_id",
                    "channel",
                    "customer_id",
                    "device_id",
                    "fault_category",
                    "fault_description",
                    "accessories",
                    "appearance_notes",
                    "repair_mode_enabled",
                    "data_backup_consent",
                    "needs",
                    "status",
                    "created_at",
                    "updated_at",
                    "stage_started_at",
                    "stage_due_at",
                    "received_at",
                    "contact_email",
                    "contact_language",
                ],
                tickets,
            )
            cur.execute("SELECT id, created_at FROM repairs_repairticket WHERE id >= %s ORDER BY id", [first_id])
            rows = cur.fetchall()
            events = []
            quotes = []
            for tid, created in rows:
                for k, (action, frm, to) in enumerate(
                    [
                        ("book", "", "booked"),
                        ("check_in", "booked", "received"),
                        ("start_diagnosis", "received", "diagnosing"),
                        ("send_quote", "diagnosing", "awaiting_approval"),
                    ]
                ):
                    # Events one minute apart: each closes a one-minute stage visit (none for the first).
                    events.append(
                        (
                            tid,
                            action,
                            frm,
                            to,
                            "bench",
                            "",
                            (created + dt.timedelta(minutes=k)).isoformat(),
                            "60 seconds" if k else None,
                        )
                    )
                quotes.append((tid, 1, "pending", "659.00", "[]", "", created.isoformat(), ""))
            _copy(
                cur,
                "repairs_ticketevent",
                ["ticket_id", "action", "from_status", "to_status", "actor_label", "note", "at", "time_in_stage"],
                events,
            )
            _copy(
                cur,
                "repairs_quote",
                ["ticket_id", "version", "status", "total", "exclusions", "note", "created_at", "decided_by_label"],
                quotes,
            )
            cur.execute(
                "INSERT INTO repairs_quoteline (quote_id, position, operation_id, description, grade, list_part_price,"
                " list_labor, part_price, labor, amount, rules, code)"
                " SELECT q.id, 1, %s, 'Screen', 'new', 1099.00, 100.00,"
                ' 659.00, 0.00, 659.00, \'[{"code": "fixed_price", "reason": "One-price offer"}]\', \'screen\''
                " FROM repairs_quote q WHERE q.ticket_id >= %s",
                [base["operation_id"], first_id],
            )
        print(f"  loaded {chunk_start + n:,} tickets", file=sys.stderr, flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def measure(base: dict, samples: int, rng: random.Random) -> dict:
    from django.db import connection, reset_queries
    from django.test import Client

    anon = Client()
    staff = Client()
    staff.force_login(base["admin"])
    pool = base["tickets"]

    def timed(fn):
        reset_queries()
        t = time.perf_counter()
        r = fn()
        ms = (time.perf_counter() - t) * 1000
        assert r.status_code == 200, (r.status_code, r.content[:300])
        return ms, len(connection.queries)

    out = {"track": [], "detail": []}
    queries = {"track": set(), "detail": set()}
    from django.conf import settings

    settings.DEBUG = True  # count queries
    for i in range(samples + 30):
        no, last4 = rng.choice(pool)
        t_ms, t_q = timed(lambda no=no, last4=last4: anon.get(f"/api/v1/track/{no}/", {"phone_last4": last4}))
        no2, _l = rng.choice(pool)
        d_ms, d_q = timed(lambda no2=no2: staff.get(f"/api/v1/tickets/{no2}/"))
        if i >= 30:  # warm-up
            out["track"].append(t_ms)
            out["detail"].append(d_ms)
            queries["track"].add(t_q)
            queries["detail"].add(d_q)
    return {
        k: {
            "median_ms": round(statistics.median(v), 2),
            "p90_ms": round(sorted(v)[int(len(v) * 0.9)], 2),
            "queries": sorted(queries[k]),
            "n": len(v),
        }
        for k, v in out.items()
    }


if __name__ == "__main__":
    main()
