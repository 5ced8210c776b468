"""What the per-slot row lock costs: N customers booking ONE slot (contended) vs N customers
spread over N/capacity slots (same number of bookings, little contention).

Run against PostgreSQL (your own database; it migrates it and leaves the rows behind):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_web DEBUG=1 \
        .venv/bin/python bench/booking_contention.py --customers 200 --capacity 10 --workers 30

Prints wall time, bookings per second and slot_full answers per second for both shapes, and
their ratio. Every run uses a fresh center, so runs do not interfere.
"""

import argparse
import datetime as dt
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from stdnum import luhn  # noqa: E402

from booking import services  # noqa: E402
from booking.models import Appointment, SlotRule  # noqa: E402
from centers.models import OpeningHours, Region, ServiceCenter  # noqa: E402
from servicehub.errors import DomainError  # noqa: E402
from warranty.models import DeviceModel  # noqa: E402

_counter = iter(range(10**9))
_lock = threading.Lock()


def _next() -> int:
    with _lock:
        return next(_counter)


def _imei(n: int) -> str:
    body = f"35{uuid.uuid4().int % 10**6:06d}{n % 10**6:06d}"
    return body + luhn.calc_check_digit(body)


def _center(capacity: int) -> ServiceCenter:
    tag = uuid.uuid4().hex[:8]
    province, _ = Region.objects.get_or_create(adcode="990000000000", defaults={"name": "Bench", "level": "province"})
    center = ServiceCenter.objects.create(
        code=f"BENCH-{tag}",
        name=f"Bench {tag}",
        kind="service_center",
        region=province,
        city=province,
        province=province,
        address="bench",
        lat=30.0,
        lng=120.0,
        services=["phone", "appointment"],
    )
    OpeningHours.objects.bulk_create(
        [OpeningHours(center=center, weekday=d, opens=dt.time(8), closes=dt.time(20)) for d in range(7)]
    )
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    SlotRule.objects.create(center=center, weekday=tomorrow.weekday(), slot_minutes=30, desks=capacity)
    return center


def _run(center, starts: list, workers: int) -> tuple[float, int, int]:
    DeviceModel.objects.get_or_create(
        code="BENCH-PHONE", defaults={"name": "Bench", "category": "phone", "tier": "standard"}
    )

    def book(start):
        n = _next()
        try:
            services.appointment_book(
                center=center,
                start=start,
                name="Bench",
                phone=f"137{n % 10**8:08d}",
                imei=_imei(n),
                model_code="BENCH-PHONE",
                issue="bench",
            )
            return "booked"
        except DomainError as err:
            return err.code
        finally:
            connection.close()

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(book, starts))
    return time.perf_counter() - began, outcomes.count("booked"), outcomes.count("slot_full")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--capacity", type=int, default=10)
    parser.add_argument("--workers", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (row locks are what is measured).")
    call_command("migrate", verbosity=0)
    tz = timezone.get_default_timezone()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    def at(minutes: int):
        return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(8)) + dt.timedelta(minutes=minutes), tz)

    contended = _center(args.capacity)
    c_time, c_booked, c_full = _run(contended, [at(0)] * args.customers, args.workers)
    assert c_booked == args.capacity, c_booked
    assert Appointment.objects.filter(center=contended).count() == args.capacity

    spread = _center(args.capacity)
    slots = max(1, args.customers // args.capacity)
    s_starts = [at(30 * (i % slots)) for i in range(args.customers)]
    s_time, s_booked, s_full = _run(spread, s_starts, args.workers)

    print(f"customers={args.customers} capacity={args.capacity} workers={args.workers}")
    print(
        f"one slot     : {c_time:.3f} s, booked {c_booked}, slot_full {c_full}, {args.customers / c_time:.1f} answers/s"
    )
    print(
        f"{slots} slots   : {s_time:.3f} s, booked {s_booked}, slot_full {s_full}, "
        f"{args.customers / s_time:.1f} answers/s"
    )
    print(f"ratio one-slot/spread wall time: {c_time / s_time:.2f}")


if __name__ == "__main__":
    main()
