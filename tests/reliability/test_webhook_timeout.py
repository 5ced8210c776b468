"""A webhook receiver that answers after the send timeout: the attempt is recorded as a timeout, the next
attempt is scheduled, and once the receiver is healthy the delivery succeeds exactly once -- with the same
``webhook-id`` every time, so nothing is lost and nothing is delivered twice."""

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from partners import services, webhooks
from partners.models import WebhookAttempt, WebhookDelivery
from partners.webhooks import webhook_event_emit
from tests.factories.partners import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


class SlowReceiver:
    """Local HTTP server; sleeps ``delays[i]`` seconds before answering request i (then answers 200)."""

    def __init__(self, delays):
        self.delays = list(delays)
        self.received = []  # webhook-id of every request that reached the handler
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append(self.headers["webhook-id"])
                delay = outer.delays.pop(0) if outer.delays else 0
                time.sleep(delay)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up already

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def short_timeout(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    monkeypatch.setattr(webhooks, "SEND_TIMEOUT", 0.5)


def _emit(url, n=1):
    endpoint = WebhookEndpointFactory(url=url, events=["ticket.status_changed"])
    for i in range(n):
        webhook_event_emit(
            event_type="ticket.status_changed",
            payload={"service_no": f"S{i}", "status": "ready"},
            partner_ids=[endpoint.partner_id],
        )
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk"))


def test_a_receiver_slower_than_the_timeout_is_recorded_and_retried_then_delivered_once(short_timeout):
    with SlowReceiver([2.0, 0]) as receiver:
        [delivery] = _emit(receiver.url)
        started = time.monotonic()
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
        assert time.monotonic() - started < 1.9  # we did not wait for the slow receiver
        delivery.refresh_from_db()
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert attempt.success is False and attempt.status_code is None
        assert "timed out" in attempt.error.lower() or "timeout" in attempt.error.lower(), attempt.error
        assert (delivery.status, delivery.attempt_count) == ("pending", 1)
        assert delivery.next_attempt_at > timezone.now()  # a retry is scheduled
        # not due yet: a sweep/second worker does not send it again
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
        assert delivery.pk not in services.webhook_deliveries_due()
        later = delivery.next_attempt_at + dt.timedelta(seconds=1)
        assert delivery.pk in services.webhook_deliveries_due(now=later)
        services.webhook_delivery_attempt(delivery_id=delivery.pk, now=later)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert [a.success for a in WebhookAttempt.objects.filter(delivery=delivery).order_by("pk")] == [False, True]
    assert receiver.received == [delivery.msg_id, delivery.msg_id]  # same id: the receiver can dedupe


def test_a_burst_to_a_timing_out_receiver_loses_and_duplicates_nothing(short_timeout):
    with SlowReceiver([2.0] * 5) as receiver:
        deliveries = _emit(receiver.url, n=5)
        for d in deliveries:
            services.webhook_delivery_attempt(delivery_id=d.pk)
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
        due = max(WebhookDelivery.objects.values_list("next_attempt_at", flat=True)) + dt.timedelta(seconds=1)
        for pk in services.webhook_deliveries_due(now=due):
            services.webhook_delivery_attempt(delivery_id=pk, now=due)
            services.webhook_delivery_attempt(delivery_id=pk, now=due)  # a duplicate queue message: no-op
    rows = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert sorted(rows.values_list("status", "attempt_count")) == [("succeeded", 2)] * 5
    assert WebhookAttempt.objects.filter(success=True).count() == 5
    # every event reached the receiver, each id twice (timeout + success), nothing else
    assert sorted(receiver.received) == sorted([d.msg_id for d in deliveries] * 2)
