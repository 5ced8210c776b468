"""Benchmark: a burst of 10,000 ticket status changes through a real Celery worker; 0 lost, 0 duplicated.

Usage (from the project root; Redis DB of your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_jobs REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/notifications_burst.py [--tickets 10000] [--producers 2] [--concurrency 2] [--keep]

Creates a scratch database ``<DATABASE_URL's database>_burst`` (bench/scratchdb.py; dropped first, and at
the end unless --keep),
10,000 booked tickets (bulk-inserted setup), starts ``celery -A servicehub worker`` (prefork) on a
private queue with an SMS backend that appends each provider call to a file, then checks every
ticket in (``repairs.services.ticket_transition(action="check_in")``: one transaction each, the
domain event's outbox row written inside it, its dispatch queued on commit; the worker runs the
subscribers, which write the SMS row and queue its send) from ``--producers`` threads.
It waits until every notification is ``sent`` and reports: producer throughput, end-to-end
throughput, queries per status change, provider calls, distinct messages, lost and duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratchdb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--producers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--overhead",
        type=int,
        default=400,
        help="extra tickets to time a status change with and without the outbox (single thread)",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    base, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base.startswith("postgres") or not redis_url:
        sys.exit("Set DATABASE_URL=postgres://... and REDIS_URL=redis://.../<your db>")
    scratch = scratchdb.scratch_name(base, "burst")
    scratch_url = scratchdb.recreate(base, scratch)
    queue = f"bench-burst-{uuid.uuid4().hex[:8]}"
    sms_file = Path(f"/tmp/{queue}.jsonl")
    os.environ.update(
        {
            "DATABASE_URL": scratch_url,
            "CELERY_QUEUE": queue,
            "SECRET_KEY": "bench-only",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "SMS_BACKEND": "tests.integration.backends.FileRecordingSMSBackend",
            "SMS_RECORD_FILE": str(sms_file),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CONN_MAX_AGE": "60",
        }
    )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Notification
    from repairs.models import Customer, RepairTicket
    from repairs.services import ticket_transition
    from servicehub.actors import SYSTEM
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.warranty import DeviceModelFactory, make_imei
    from tests.integration.backends import calls, delivered
    from warranty.models import Device

    results: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "tickets": args.tickets,
        "producers": args.producers,
        "worker_concurrency": args.concurrency,
    }
    call_command("migrate", verbosity=0)
    center = ServiceCenterFactory()
    model = DeviceModelFactory(code="BENCH-1", name="Bench Phone")
    n = args.tickets + args.overhead
    customers = Customer.objects.bulk_create(
        Customer(name=f"客户{i}", phone=f"+86139{i:08d}", language="zh-hans" if i % 3 else "en") for i in range(n)
    )
    devices = Device.objects.bulk_create(Device(imei=make_imei(i), model=model) for i in range(n))
    tickets = RepairTicket.objects.bulk_create(
        RepairTicket(
            service_no=f"BB{i:08d}",
            center=center,
            channel="walk_in",
            customer=c,
            device=d,
            fault_category="screen",
            status="booked",
        )
        for i, (c, d) in enumerate(zip(customers, devices, strict=True))
    )
    ids = [t.pk for t in tickets][: args.tickets]
    overhead_ids = [t.pk for t in tickets][args.tickets :]
    n = args.tickets
    connection.close()

    worker_log = Path(f"/tmp/{queue}.worker.log")
    worker = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "servicehub",
            "worker",
            "--queues",
            queue,
            "--pool=prefork",
            f"--concurrency={args.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # one status change, measured for its query count (outbox row + dispatch included)
        with CaptureQueriesContext(connection) as queries:
            ticket_transition(ticket_id=ids[0], action="check_in", actor=SYSTEM)
        results["queries_per_status_change"] = len(queries)

        # The outbox's share of a status change: the same call with the event switched off and on
        # (``repairs.events.emit``: the outbox row and its after-commit dispatch), alternating blocks
        # of 50 in one thread (medians; read the ratio). With it off, no SMS is written for that block.
        import statistics

        import repairs.events as repair_events

        real_emit = repair_events.emit
        timings: dict[str, list[float]] = {"without_outbox_ms": [], "with_outbox_ms": []}
        for block, start_at in enumerate(range(0, len(overhead_ids), 50)):
            label = "with_outbox_ms" if block % 2 else "without_outbox_ms"
            repair_events.emit = real_emit if block % 2 else (lambda *a, **kw: None)
            for ticket_id in overhead_ids[start_at : start_at + 50]:
                t = time.perf_counter()
                ticket_transition(ticket_id=ticket_id, action="check_in", actor=SYSTEM)
                timings[label].append((time.perf_counter() - t) * 1000)
        repair_events.emit = real_emit
        results["status_change_median"] = {k: round(statistics.median(v), 2) for k, v in timings.items() if v}
        if all(timings.values()):
            results["status_change_median"]["ratio"] = round(
                statistics.median(timings["with_outbox_ms"]) / statistics.median(timings["without_outbox_ms"]), 2
            )
        n_overhead_sent = len(timings["with_outbox_ms"])

        chunks = [ids[1:][i :: args.producers] for i in range(args.producers)]
        errors: list[str] = []

        def produce(chunk):
            from django.db import connection as conn

            try:
                for ticket_id in chunk:
                    ticket_transition(ticket_id=ticket_id, action="check_in", actor=SYSTEM)
            except Exception as exc:  # reported below
                errors.append(repr(exc))
            finally:
                conn.close()

        start = time.perf_counter()
        threads = [threading.Thread(target=produce, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        produced = time.perf_counter() - start
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            done = Notification.objects.filter(status="sent").count()
            if done >= n + n_overhead_sent:
                break
            time.sleep(0.5)
        total = time.perf_counter() - start
        by_status = dict(
            Notification.objects.values_list("status")
            .annotate(c=django.db.models.Count("id"))
            .values_list("status", "c")
        )
        provider_calls = calls(sms_file)
        messages = delivered(sms_file)
        results.update(
            {
                "producer_errors": errors[:5],
                "status_changes_committed": RepairTicket.objects.filter(status="received").count() - len(overhead_ids),
                "producer_seconds": round(produced, 1),
                "status_changes_per_second": round((n - 1) / produced),
                "end_to_end_seconds": round(total, 1),
                "sms_per_second_end_to_end": round(len(messages) / total),
                "notifications_by_status": by_status,
                "max_attempts": Notification.objects.aggregate(m=django.db.models.Max("attempts"))["m"],
                "provider_calls": len(provider_calls),
                "distinct_messages": len(messages),
                "expected_messages": n + n_overhead_sent,
                "lost": n + n_overhead_sent - len(messages),
                "duplicated": len(provider_calls) - len(messages),
            }
        )
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    connection.close()
    if not args.keep:
        scratchdb.drop(base, scratch)
        sms_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
