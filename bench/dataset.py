"""Build the national-scale benchmark database (PostgreSQL), repeatable from a seed.

Usage (the database is created if missing and FLUSHED first -- use your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ev_bench .venv/bin/python bench/dataset.py \
        [--tickets 1000000] [--customers 200000] [--devices 300000] [--loaners 18000] [--seed 20180301]
    # later: add tickets only (no flush) until there are 1,000,000
    ... bench/dataset.py --grow --tickets 1000000

Contents:

* the national network from ``centers.demo.seed`` (2,400 centers + 20,000 collection points, with opening
  hours), the warranty/repairs demo data (device catalog, statutory policies, plans, repair catalog);
* the loaner pool of ``loaners.demo`` (6 per service center / flagship) topped up to ``--loaners``;
* ``--customers`` customers and ``--devices`` devices (COPY), every third device with an active
  screen-care plan purchase (COPY);
* ``--tickets`` historical tickets over the real service centers, each with a 4-event timeline and a pending
  one-line quote -- loaded with PostgreSQL COPY by ``bench/repairs_growth.py``'s ``grow()`` (reused, not copied).

Prints the build time per phase as JSON. Everything is derived from ``--seed``: same seed, same data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")

import repairs_growth  # noqa: E402  (the COPY ticket builder)


class _Quiet(io.StringIO):
    pass


def _copy(cur, table, columns, rows):
    repairs_growth._copy(cur, table, columns, rows)


def build(
    *,
    tickets: int,
    customers: int,
    devices: int,
    loaners: int,
    seed: int,
    out=sys.stderr,
    grow_only: bool = False,
    site_scale: int = 1,
) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    timings = {}

    def phase(name, t0):
        timings[name] = round(time.monotonic() - t0, 1)
        print(f"  {name}: {timings[name]} s", file=out, flush=True)

    if grow_only:
        return _grow_tickets(tickets=tickets, seed=seed, phase=phase, timings=timings)

    t = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    phase("migrate_flush", t)

    t = time.monotonic()
    from centers import demo as centers_demo
    from loaners import demo as loaners_demo
    from repairs import demo as repairs_demo
    from warranty import demo as warranty_demo

    options = {
        "centers": 2400 * site_scale,
        "collection_points": 20000 * site_scale,
        "tickets": 0,
        "seed": seed,
        "rng": random.Random(seed),
    }
    quiet = _Quiet()
    for module in (centers_demo, warranty_demo):
        module.seed(out=quiet, options=options)
    repairs_demo.seed_catalog(quiet)
    loaners_demo.seed(out=quiet, options=options)
    phase("network_catalog_loaners_demo", t)

    from centers.models import ServiceCenter
    from loaners.models import Loaner
    from warranty.models import DeviceModel, PlanProduct

    t = time.monotonic()
    have = Loaner.objects.count()
    if have < loaners:
        template = Loaner.objects.order_by("pk").first()
        center_ids = list(
            ServiceCenter.objects.filter(kind__in=("service_center", "flagship"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        rows = []
        for i in range(loaners - have):
            c = center_ids[i % len(center_ids)]
            rows.append(
                (
                    f"99{i:013d}",
                    template.model_id,
                    c,
                    c,
                    template.condition,
                    "available",
                    json.dumps(template.accessories),
                    str(template.replacement_value),
                    now.isoformat(),
                    "f",
                    now.isoformat(),
                    now.isoformat(),
                )
            )
        with transaction.atomic(), connection.cursor() as cur:
            _copy(
                cur,
                "loaners_loaner",
                [
                    "imei",
                    "model_id",
                    "home_center_id",
                    "current_center_id",
                    "condition",
                    "status",
                    "accessories",
                    "replacement_value",
                    "last_wiped_at",
                    "needs_wipe",
                    "created_at",
                    "updated_at",
                ],
                rows,
            )
    phase("loaners_topup", t)

    rng = random.Random(seed)
    now = timezone.now()
    t = time.monotonic()
    models = list(DeviceModel.objects.filter(category="phone").order_by("code").values_list("pk", flat=True))
    plan = PlanProduct.objects.filter(kind="screen_care").order_by("code").first()
    with transaction.atomic(), connection.cursor() as cur:
        _copy(
            cur,
            "repairs_customer",
            ["name", "phone", "email", "language", "contact_consent", "created_at"],
            ((f"客户{i}", f"+86138{i:08d}", "", "zh-hans", "t", now.isoformat()) for i in range(customers)),
        )
        sold = [now - dt.timedelta(days=rng.randint(1, 900)) for _ in range(devices)]
        _copy(
            cur,
            "warranty_device",
            ["imei", "model_id", "sold_at", "channel", "proof_of_purchase_note", "created_at"],
            (
                (f"35{i:013d}", rng.choice(models), sold[i].isoformat(), "retail", "", now.isoformat())
                for i in range(devices)
            ),
        )
        if plan is not None:
            cur.execute("SELECT id FROM warranty_device WHERE imei LIKE '35%%' ORDER BY id")
            ids = [r[0] for r in cur.fetchall()]
            _copy(
                cur,
                "warranty_planpurchase",
                [
                    "device_id",
                    "product_id",
                    "purchased_at",
                    "starts_on",
                    "ends_on",
                    "price_paid",
                    "channel",
                    "status",
                    "claims_allowed",
                    "claims_used",
                    "created_at",
                ],
                (
                    (
                        pk,
                        plan.pk,
                        sold[i].isoformat(),
                        sold[i].date().isoformat(),
                        (sold[i].date() + dt.timedelta(days=365)).isoformat(),
                        "199.00",
                        "partner",
                        "active" if (now - sold[i]).days < 365 else "expired",
                        1,
                        0,
                        now.isoformat(),
                    )
                    for i, pk in enumerate(ids)
                    if i % 3 == 0
                ),
            )
    phase("customers_devices_plans", t)

    return _grow_tickets(tickets=tickets, seed=seed, phase=phase, timings=timings)


def _grow_tickets(*, tickets, seed, phase, timings) -> dict:
    from django.db import connection

    from centers.models import ServiceCenter
    from repairs.models import Customer, RepairOperation, RepairTicket
    from warranty.models import Device

    have = RepairTicket.objects.count()
    rng = random.Random(seed + have)  # a grown database is as repeatable as a fresh one
    t = time.monotonic()
    customer_rows = list(Customer.objects.filter(phone__startswith="+86138").values_list("pk", "phone"))
    base = {
        "center_ids": list(
            ServiceCenter.objects.filter(kind__in=("service_center", "flagship"))
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "customer_ids": [pk for pk, _ in customer_rows],
        "customer_phones": dict(customer_rows),
        "device_ids": list(Device.objects.filter(imei__startswith="35").order_by("pk").values_list("pk", flat=True)),
        "operation_id": RepairOperation.objects.order_by("pk").values_list("pk", flat=True).first(),
        "tickets": [],
    }
    repairs_growth.grow(base, have, max(have, tickets), rng)
    phase("tickets_copy", t)
    t = time.monotonic()
    with connection.cursor() as cur:  # autocommit: set the visibility map now, not during the next benchmark
        cur.execute("VACUUM (ANALYZE)")
    phase("vacuum_analyze", t)

    counts = {}
    with connection.cursor() as cur:
        for table in (
            "centers_servicecenter",
            "loaners_loaner",
            "repairs_customer",
            "warranty_device",
            "warranty_planpurchase",
            "repairs_repairticket",
            "repairs_ticketevent",
            "repairs_quote",
        ):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT kind, count(*) FROM centers_servicecenter GROUP BY kind ORDER BY kind")
        counts["centers_by_kind"] = dict(cur.fetchall())
    return {"seconds": timings, "total_seconds": round(sum(timings.values()), 1), "rows": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=300_000)
    parser.add_argument("--loaners", type=int, default=18_000)
    parser.add_argument("--seed", type=int, default=20180301)
    parser.add_argument(
        "--site-scale",
        type=int,
        default=1,
        help="multiply the network (2,400 centers + 20,000 collection points) by this",
    )
    parser.add_argument(
        "--grow", action="store_true", help="keep the database and only add tickets until there are --tickets"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run against PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ev_bench")
    repairs_growth.ensure_database()
    result = build(
        tickets=args.tickets,
        customers=args.customers,
        devices=args.devices,
        loaners=args.loaners,
        seed=args.seed,
        grow_only=args.grow,
        site_scale=args.site_scale,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
