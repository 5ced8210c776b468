"""Warranty at registry scale: coverage look-ups, plan sales and claims — query counts and ratios.

Usage (PostgreSQL; the database is FLUSHED first, so use your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_warranty \
        .venv/bin/python bench/warranty_coverage.py [--large 500000]

Phase "small": 10,000 devices (a third with a plan). Phase "large": the registry grown to
``--large`` devices (default 500,000) in the same database. In each phase, interleaved after a
warm-up, with the Django test client (in-process, no network):

* ``GET /api/v1/devices/{imei}/coverage/`` for random registered IMEIs,
* ``GET /api/v1/plans/?model=CODE``,
* ``plan_purchase_create`` (service) for fresh devices, and ``plan_claim_use`` on fresh purchases.

Prints raw medians (ms), exact query counts per operation, and the large/small ratios as JSON.
Throttling is switched off (THROTTLE_ANON). Absolute times are machine noise; the ratios and
query counts are the result.
"""

from __future__ import annotations

import argparse
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
os.environ["THROTTLE_ANON"] = "1000000/min"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=500_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    if not settings.IS_POSTGRES:
        sys.exit("Run against PostgreSQL (DATABASE_URL=postgres://...).")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)

    import io

    from warranty import demo

    demo.seed(out=io.StringIO(), options={})
    results = {}
    grow(0, args.small)
    results["small"] = measure(args.samples, tag="small", total=args.small)
    grow(args.small, args.large)
    results["large"] = measure(args.samples, tag="large", total=args.large)
    ratios = {
        k: round(results["large"][k]["median_ms"] / results["small"][k]["median_ms"], 2)
        for k in results["small"]
        if isinstance(results["small"][k], dict)
    }
    print(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "results": results,
                "ratios_large_over_small": ratios,
            },
            indent=2,
        )
    )


def grow(start: int, end: int) -> None:
    """Bulk-insert devices ``start..end`` (Luhn-valid IMEIs) and plans for every third one."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone
    from stdnum import luhn

    from warranty.models import Device, DeviceModel, PlanProduct, PlanPurchase

    models = list(DeviceModel.objects.filter(category="phone").order_by("code"))
    screen = PlanProduct.objects.get(code="SCREEN12")
    now = timezone.now()
    rng = random.Random(start)
    t0 = time.monotonic()
    batch = 5000
    for lo in range(start, end, batch):
        hi = min(lo + batch, end)
        devices = []
        for n in range(lo, hi):
            body = f"86{n:012d}"
            devices.append(
                Device(
                    imei=body + luhn.calc_check_digit(body),
                    model=models[n % len(models)],
                    sold_at=now - dt.timedelta(days=rng.randint(1, 900)),
                )
            )
        with transaction.atomic():
            Device.objects.bulk_create(devices, batch_size=batch)
            ids = Device.objects.filter(imei__in=[d.imei for d in devices[::3]]).values_list("pk", "sold_at")
            PlanPurchase.objects.bulk_create(
                [
                    PlanPurchase(
                        device_id=pk,
                        product=screen,
                        purchased_at=sold,
                        starts_on=timezone.localtime(sold).date(),
                        ends_on=timezone.localtime(sold).date() + dt.timedelta(days=365),
                        price_paid=199,
                        channel="partner",
                        claims_allowed=1,
                    )
                    for pk, sold in ids
                ],
                batch_size=batch,
            )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE warranty_device; ANALYZE warranty_planpurchase;")
    print(f"grew registry {start} -> {end} devices in {time.monotonic() - t0:.1f}s", file=sys.stderr)


def measure(samples: int, *, tag: str, total: int) -> dict:
    import datetime as dt

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from stdnum import luhn

    from centers.models import ServiceCenter  # noqa: F401  (repairs ticket needs a center)
    from servicehub.actors import SYSTEM
    from tests.factories.warranty import make_imei, repair_ticket
    from warranty import services
    from warranty.models import Device, DeviceModel

    client = Client()
    rng = random.Random(42)
    models = list(DeviceModel.objects.filter(category="phone").values_list("code", flat=True))
    model = DeviceModel.objects.get(code="MATE70PRO")

    def coverage():
        n = rng.randrange(total)
        body = f"86{n:012d}"
        r = client.get(f"/api/v1/devices/{body + luhn.calc_check_digit(body)}/coverage/")
        assert r.status_code == 200, r.content

    def plans():
        r = client.get(f"/api/v1/plans/?model={rng.choice(models)}")
        assert r.status_code == 200

    counter = {"n": 0}

    def fresh_device():
        counter["n"] += 1
        return Device.objects.create(
            imei=make_imei(counter["n"], tac=f"9{tag == 'large':d}{len(tag)}00000"),
            model=model,
            sold_at=timezone.now() - dt.timedelta(days=2),
        )

    def sell():
        services.plan_purchase_create(device=fresh_device(), plan_code="SCREEN12", actor=SYSTEM)

    def claim():
        device = fresh_device()
        p = services.plan_purchase_create(device=device, plan_code="CAREPLUS24", actor=SYSTEM)
        ticket = repair_ticket(device=device)
        t = time.perf_counter()
        services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
        return time.perf_counter() - t

    ops = {"coverage_api": coverage, "plans_api": plans, "purchase_create": sell, "claim_use": claim}
    queries = {}
    for name, fn in ops.items():  # warm-up + exact query count
        fn()
        with CaptureQueriesContext(connection) as ctx:
            if name == "claim_use":
                device = fresh_device()
                p = services.plan_purchase_create(device=device, plan_code="CAREPLUS24", actor=SYSTEM)
                ticket = repair_ticket(device=device)
                ctx.initial_queries = len(connection.queries)
                services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
            else:
                fn()
        queries[name] = len(ctx.captured_queries)
    timings = {name: [] for name in ops}
    for _ in range(samples):
        for name, fn in ops.items():
            t = time.perf_counter()
            extra = fn()
            timings[name].append(extra if name == "claim_use" else time.perf_counter() - t)
    out = {"devices": Device.objects.count()}
    for name, values in timings.items():
        values.sort()
        out[name] = {
            "median_ms": round(statistics.median(values) * 1000, 3),
            "p95_ms": round(values[int(len(values) * 0.95)] * 1000, 3),
            "queries": queries[name],
        }
    return out


if __name__ == "__main__":
    main()
