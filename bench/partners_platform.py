"""Partner platform costs: idempotency middleware, webhook outbox, webhook delivery. Ratios + exact query counts.

Usage (PostgreSQL; the database is FLUSHED first, so use your own):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sh_platform .venv/bin/python bench/partners_platform.py

Measured in one process with the Django test client (in-process, no network):

1. ``POST /api/v1/shipments/{id}/events/`` style writes are not used (they change state); the idempotency
   cost is measured on ``POST /api/v1/loans/{id}/return-preview/`` (a read-only POST of a partner key):
   median latency and query count without a key, with a fresh key (first request: insert + store), and
   a replay (lookup only);
2. ``webhook_event_emit`` query count and median time with 1 and with 200 matching subscriptions
   (the outbox write must stay a constant number of queries);
3. webhook delivery attempts per second against a local HTTP server on 127.0.0.1 (one worker, sequential).

Prints raw numbers and ratios as JSON.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicehub.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("THROTTLE_KEY", "1000000/min")
os.environ.setdefault("THROTTLE_ANON", "1000000/min")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

N = 200


def median_ms(fn, n=N):
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(samples), 3)


def queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def main():
    assert settings.IS_POSTGRES, "run against PostgreSQL (DATABASE_URL)"
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.DEBUG = True
    import partners.webhooks

    # Measure the outbox write only: no Celery dispatch (eager mode would send inline).
    partners.webhooks._queue = lambda ids: None

    from centers.models import Region, ServiceCenter
    from loaners.models import DepositRule, Loaner
    from loaners.services import loan_checkout
    from partners.models import Partner, WebhookDelivery, WebhookEndpoint
    from partners.services import api_key_create, webhook_delivery_attempt
    from partners.webhooks import new_secret, webhook_event_emit
    from repairs.models import Customer, RepairTicket
    from servicehub.actors import SYSTEM
    from warranty.models import Device, DeviceModel

    province = Region.objects.create(adcode="310000000000", name="上海市", level="province")
    city = Region.objects.create(adcode="310100000000", name="市辖区", level="city", parent=province)
    county = Region.objects.create(adcode="310101000000", name="黄浦区", level="county", parent=city)
    center = ServiceCenter.objects.create(
        code="BENCH1",
        name="Bench",
        kind="service_center",
        region=county,
        city=city,
        province=province,
        address="x",
        lat=31.2,
        lng=121.4,
    )
    partner = Partner.objects.create(name="Bench partner")
    partner.centers.add(center)
    _key, raw = api_key_create(partner=partner)
    model = DeviceModel.objects.create(code="B1", name="B1", category="phone", tier="flagship")
    customer = Customer.objects.create(name="x", phone="+8613800000000")
    device = Device.objects.create(imei="860123450000011", model=model)
    ticket = RepairTicket.objects.create(
        service_no="BENCH0001",
        center=center,
        channel="walk_in",
        customer=customer,
        device=device,
        fault_category="screen",
        status="repairing",
    )
    DepositRule.objects.create(tier="flagship", deposit=Decimal("1000.00"), late_fee_per_day=Decimal("10.00"))
    from django.utils import timezone

    Loaner.objects.create(
        imei="359900110000019",
        model=model,
        home_center=center,
        current_center=center,
        replacement_value=Decimal("100.00"),
        status="available",
        condition="good",
        accessories=["charger"],
        last_wiped_at=timezone.now(),
        needs_wipe=False,
    )
    loan = loan_checkout(ticket_id=ticket.pk, tier="flagship", payment_method="cash", actor=SYSTEM)

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/loans/{loan.pk}/return-preview/"
    body = json.dumps({"condition": "ok", "deductions": []})
    post = lambda **h: client.post(url, body, content_type="application/json", **h)  # noqa: E731
    assert post().status_code == 200
    counter = iter(range(10**9))
    results = {
        "idempotency": {
            "queries_no_key": queries(post),
            "queries_first": queries(lambda: post(HTTP_IDEMPOTENCY_KEY=f"q{next(counter)}")),
            "queries_replay": queries(lambda: post(HTTP_IDEMPOTENCY_KEY="q0")),
            "median_ms_no_key": median_ms(post),
            "median_ms_first": median_ms(lambda: post(HTTP_IDEMPOTENCY_KEY=f"k{next(counter)}")),
            "median_ms_replay": median_ms(lambda: post(HTTP_IDEMPOTENCY_KEY="k0")),
        }
    }
    r = results["idempotency"]
    r["ratio_first_vs_no_key"] = round(r["median_ms_first"] / r["median_ms_no_key"], 2)
    r["ratio_replay_vs_no_key"] = round(r["median_ms_replay"] / r["median_ms_no_key"], 2)

    # --- outbox write
    def emit():
        with transaction.atomic():
            webhook_event_emit(event_type="ticket.status_changed", payload={"service_no": "X"}, center_id=center.pk)

    WebhookEndpoint.objects.create(
        partner=partner, url="https://example.com/h", events=["ticket.status_changed"], secret=new_secret()
    )
    out = {"queries_1_endpoint": queries(emit), "median_ms_1_endpoint": median_ms(emit, 100)}
    others = [Partner.objects.create(name=f"P{i}") for i in range(N - 1)]
    for p in others:
        p.centers.add(center)
    WebhookEndpoint.objects.bulk_create(
        [
            WebhookEndpoint(
                partner=p, url="https://example.com/h", events=["ticket.status_changed"], secret=new_secret()
            )
            for p in others
        ]
    )
    out["queries_200_endpoints"] = queries(emit)
    out["median_ms_200_endpoints"] = median_ms(emit, 50)
    out["ratio_200_vs_1"] = round(out["median_ms_200_endpoints"] / out["median_ms_1_endpoint"], 2)
    results["outbox"] = out
    from partners.models import WebhookAttempt

    WebhookAttempt.objects.all().delete()
    WebhookDelivery.objects.all().delete()

    # --- delivery attempts against a local server
    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.update(active=False)
    ep = WebhookEndpoint.objects.create(
        partner=partner, url=f"http://127.0.0.1:{srv.server_port}/h", events=["shipment.updated"], secret=new_secret()
    )
    with transaction.atomic():
        for _ in range(300):
            webhook_event_emit(event_type="shipment.updated", payload={"shipment_id": 1}, partner_ids=[partner.pk])
    ids = list(WebhookDelivery.objects.filter(endpoint=ep).values_list("pk", flat=True))
    q = queries(lambda: webhook_delivery_attempt(delivery_id=ids[0]))
    t = time.perf_counter()
    for pk in ids[1:]:
        webhook_delivery_attempt(delivery_id=pk)
    elapsed = time.perf_counter() - t
    srv.shutdown()
    results["delivery"] = {
        "queries_per_attempt": q,
        "attempts": len(ids) - 1,
        "attempts_per_s": round((len(ids) - 1) / elapsed, 1),
        "succeeded": WebhookDelivery.objects.filter(endpoint=ep, status="succeeded").count(),
    }
    results["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "db": connection.vendor}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
