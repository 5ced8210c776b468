"""Booking rush: N customers at once for 50 appointment places, through the real HTTP API on gunicorn.

Usage (after bench/dataset.py; any PostgreSQL database with the demo network works):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_ev_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/booking_rush.py [--customers 500] [--slots 5] [--desks 10] [--workers 3]

One service center gets a slot rule of ``--desks`` desks for the weekday of a day 10 days ahead; the first
``--slots`` slots of that day are the prize (5 x 10 = 50 places). ``--customers`` threads wait on a barrier
and then each POSTs ``/api/v1/appointments/`` for slot ``i % slots`` with its own phone and IMEI. Expected:
exactly 50 x 201, everybody else 409 ``slot_full`` (problem+json), no 5xx, and 10 appointments per slot in the
database. Prints the counts as JSON and exits non-zero if any expectation fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (gunicorn runner, port helper)


def luhn_imei(body14: str) -> str:
    total = 0
    for i, ch in enumerate(body14):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body14 + str((10 - total % 10) % 10)


def setup(*, slots: int, desks: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(load.ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from booking import selectors
    from booking.models import Appointment, SlotRule
    from centers.models import ServiceCenter
    from warranty.models import DeviceModel

    day = timezone.localdate() + dt.timedelta(days=10)
    for center in ServiceCenter.objects.filter(
        kind="service_center", active=True, services__contains=["appointment"]
    ).order_by("-code"):
        if not Appointment.objects.filter(ticket__center=center).exists():
            SlotRule.objects.update_or_create(
                center=center, weekday=day.weekday(), defaults={"slot_minutes": 30, "desks": desks, "active": True}
            )
            starts = [slot.start.isoformat() for slot in selectors.slots_for_day(center=center, day=day)][:slots]
            if len(starts) == slots:
                model = DeviceModel.objects.filter(category="phone", active=True).order_by("code").first()
                connection.close()
                return center.code, center.pk, day, starts, model.code
    raise SystemExit("no center with enough free slots")


def count_in_db(center_pk: int, day) -> dict:
    from django.db import connection

    from booking.models import Appointment

    connection.close()
    rows = Appointment.objects.filter(ticket__center_id=center_pk).values_list("start", flat=True)
    return dict(collections.Counter(s.isoformat() for s in rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--slots", type=int, default=5)
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--out", default="/tmp/servicehub-bench/rush")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("THROTTLE_ANON", load.HIGH)
    code, center_pk, day, starts, model = setup(slots=args.slots, desks=args.desks)
    port = load.free_port(args.port)
    proc = load.start_gunicorn(port, args.workers, out / "gunicorn.log")
    url = f"http://127.0.0.1:{port}/api/v1/appointments/"
    barrier = threading.Barrier(args.customers)
    results = [None] * args.customers
    base = (int(time.time()) % 100_000) * 10_000

    def customer(i: int) -> None:
        body = json.dumps(
            {
                "center": code,
                "start": starts[i % len(starts)],
                "customer": {"name": f"抢号 {i}", "phone": f"136{(base + i) % 100_000_000:08d}"},
                "device": {"imei": luhn_imei(f"87{(base + i):012d}"[:14]), "model": model},
                "issue": "rush",
            }
        ).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        barrier.wait()
        t = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=180) as r:
                results[i] = (r.status, "", r.headers.get("Content-Type", ""), time.monotonic() - t)
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                problem = json.loads(payload).get("code", "")
            except ValueError:
                problem = payload[:80].decode(errors="replace")
            results[i] = (e.code, problem, e.headers.get("Content-Type", ""), time.monotonic() - t)
        except OSError as e:
            results[i] = (0, type(e).__name__, "", time.monotonic() - t)

    threads = [threading.Thread(target=customer, args=(i,)) for i in range(args.customers)]
    t0 = time.monotonic()
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    wall = time.monotonic() - t0
    outcome = collections.Counter(f"{s} {c}".strip() for s, c, _ct, _t in results)
    non_problem_409 = sum(1 for s, _c, ct, _t in results if s == 409 and not ct.startswith("application/problem+json"))
    per_slot = count_in_db(center_pk, day)
    places = args.slots * args.desks
    summary = {
        "center": code,
        "day": day.isoformat(),
        "slots": args.slots,
        "desks": args.desks,
        "places": places,
        "customers": args.customers,
        "gunicorn_workers": args.workers,
        "wall_seconds": round(wall, 1),
        "responses": dict(outcome),
        "booked_201": sum(1 for r in results if r[0] == 201),
        "slot_full_409": sum(1 for r in results if r[0] == 409 and r[1] == "slot_full"),
        "server_errors_5xx": sum(1 for r in results if r[0] >= 500),
        "connection_errors": sum(1 for r in results if r[0] == 0),
        "409_not_problem_json": non_problem_409,
        "appointments_in_db_per_slot": per_slot,
        "max_response_seconds": round(max(r[3] for r in results), 2),
    }
    ok = (
        summary["booked_201"] == places
        and summary["slot_full_409"] == args.customers - places
        and summary["server_errors_5xx"] == 0
        and summary["connection_errors"] == 0
        and sum(per_slot.values()) == places
        and all(v == args.desks for v in per_slot.values())
    )
    summary["held"] = ok
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
