"""Reserve and consume cost the same whatever the size of the stock table (issue #20).

Builds stock rows for LOCATIONS x PARTS (bulk_create), then reserves a part for a ticket and consumes it at
finish, through ``parts.services`` exactly as the ticket effects do, and prints the queries and the time per
operation. Run it twice, small and big, on your own PostgreSQL database (it migrates it, leaves rows behind):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_parts_bench DEBUG=1 \
        .venv/bin/python bench/parts_reserve.py --locations 10 --parts 10
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_parts_bench DEBUG=1 \
        .venv/bin/python bench/parts_reserve.py --locations 2400 --parts 500

The data set is reused when it is already there (a run tagged by its size).
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from centers.models import Region, ServiceCenter  # noqa: E402
from parts import services  # noqa: E402
from parts.models import OperationPart, Part, StockLevel  # noqa: E402
from repairs.models import Customer, Quote, QuoteLine, RepairOperation, RepairTicket  # noqa: E402
from servicehub.actors import SYSTEM  # noqa: E402
from warranty.models import Device, DeviceModel  # noqa: E402


def dataset(locations: int, parts: int) -> tuple[ServiceCenter, RepairOperation]:
    tag = f"B{locations}x{parts}"
    province, _ = Region.objects.get_or_create(adcode="990000000000", defaults={"name": "Bench", "level": "province"})
    have = ServiceCenter.objects.filter(code__startswith=f"{tag}-").count()
    ServiceCenter.objects.bulk_create(
        [
            ServiceCenter(
                code=f"{tag}-{i:05d}",
                name=f"Bench {i}",
                kind="service_center",
                region=province,
                city=province,
                province=province,
                address="bench",
                lat=30.0,
                lng=120.0,
            )
            for i in range(have, locations)
        ],
        batch_size=2000,
    )
    model, _ = DeviceModel.objects.get_or_create(
        code=f"{tag}-PHONE", defaults={"name": "Bench", "category": "phone", "tier": "standard"}
    )
    Part.objects.bulk_create(
        [
            Part(part_number=f"{tag}-P{j:04d}", name_zh="配件", name_en="part", kind="battery", cost=Decimal("1.00"))
            for j in range(parts)
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    center_ids = list(
        ServiceCenter.objects.filter(code__startswith=f"{tag}-").order_by("pk").values_list("pk", flat=True)
    )
    part_ids = list(Part.objects.filter(part_number__startswith=f"{tag}-").order_by("pk").values_list("pk", flat=True))
    if StockLevel.objects.filter(location_id=center_ids[-1]).count() < len(part_ids):
        for cid in center_ids:
            StockLevel.objects.bulk_create(
                [StockLevel(location_id=cid, part_id=pid, on_hand=1_000_000) for pid in part_ids],
                ignore_conflicts=True,
                batch_size=5000,
            )
    op, _ = RepairOperation.objects.get_or_create(
        device_model=model,
        code="battery",
        defaults={"name": "battery", "fault_category": "battery", "part_price": Decimal("1"), "labor": Decimal("1")},
    )
    OperationPart.objects.get_or_create(operation=op, grade="new", defaults={"part_id": part_ids[len(part_ids) // 2]})
    center = ServiceCenter.objects.get(pk=center_ids[len(center_ids) // 2])
    return center, op


def ticket(center, op, n: int) -> RepairTicket:
    stamp = f"{time.time_ns() % 10**12:012d}{n:03d}"[-15:]
    customer = Customer.objects.create(name="Bench", phone=f"+86{stamp[-11:]}")
    device = Device.objects.create(model=op.device_model, serial=f"BENCH-{stamp}")
    t = RepairTicket.objects.create(
        service_no=f"BN{stamp[-12:]}",
        center=center,
        channel="walk_in",
        customer=customer,
        device=device,
        fault_category="battery",
        status="repairing",
    )
    quote = Quote.objects.create(ticket=t, version=1, status="approved", total=Decimal("2"))
    QuoteLine.objects.create(
        quote=quote,
        position=1,
        operation=op,
        description="battery",
        code="battery",
        list_part_price=Decimal("1"),
        list_labor=Decimal("1"),
        part_price=Decimal("1"),
        labor=Decimal("1"),
        amount=Decimal("2"),
    )
    return t


def measure(fn) -> tuple[int, float]:
    with CaptureQueriesContext(connection) as q:
        start = time.perf_counter()
        with transaction.atomic():
            fn()
        elapsed = time.perf_counter() - start
    return len(q.captured_queries), elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--parts", type=int, default=10)
    parser.add_argument("--ops", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    center, op = dataset(args.locations, args.parts)
    built = time.perf_counter() - t0
    rows = StockLevel.objects.count()
    tickets = [ticket(center, op, i) for i in range(args.ops)]
    reserve, consume = [], []
    for t in tickets:
        reserve.append(measure(lambda t=t: services.ticket_parts_reserve(ticket=t, actor=SYSTEM, now=timezone.now())))
        consume.append(measure(lambda t=t: services.ticket_parts_consume(ticket=t, actor=SYSTEM, now=timezone.now())))
    for name, runs in (("reserve", reserve), ("consume", consume)):
        queries = sorted({q for q, _ in runs})
        ms = [s * 1000 for _, s in runs[3:]]  # the first few warm the caches
        print(
            f"{args.locations} x {args.parts} ({rows} stock rows in the table, built in {built:.0f}s): {name}: "
            f"queries {queries}, median {statistics.median(ms):.2f} ms, p90 {sorted(ms)[int(len(ms) * 0.9) - 1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
