"""Webhooks: the outbox writer, Standard Webhooks signatures, SSRF refusals, delivery and retries."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from partners import services
from partners.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from partners.webhooks import (
    MAX_ATTEMPTS,
    delivery_body,
    signed_headers,
    webhook_event_emit,
    webhook_url_check,
)
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


# --- emit (the contract) ---------------------------------------------------------


def test_emit_writes_one_row_per_matching_subscription_only(django_capture_on_commit_callbacks):
    center = ServiceCenterFactory()
    mine = PartnerFactory()
    mine.centers.add(center)
    other = PartnerFactory()
    ep_mine = WebhookEndpointFactory(partner=mine, events=["ticket.status_changed"])
    WebhookEndpointFactory(partner=mine, events=["loan.overdue"])  # not subscribed to this event
    WebhookEndpointFactory(partner=other, events=["ticket.status_changed"])  # another partner's
    WebhookEndpointFactory(partner=mine, events=["ticket.status_changed"], active=False)

    with django_capture_on_commit_callbacks() as callbacks:
        n = webhook_event_emit(event_type="ticket.status_changed", payload={"service_no": "X"}, center_id=center.pk)

    assert n == 1
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "status")) == [(ep_mine.pk, "pending")]
    assert len(callbacks) == 1  # queued only after commit


def test_emit_by_partner_ids_and_none_when_no_one_subscribes():
    p = PartnerFactory()
    WebhookEndpointFactory(partner=p, events=["plan.activated"])
    assert webhook_event_emit(event_type="plan.activated", payload={}, partner_ids=[p.pk]) == 1
    assert webhook_event_emit(event_type="plan.activated", payload={}, partner_ids=[]) == 0
    assert webhook_event_emit(event_type="loan.overdue", payload={}, partner_ids=[p.pk]) == 0
    with pytest.raises(ValueError):
        webhook_event_emit(event_type="nope", payload={})


# --- signing ---------------------------------------------------------------------


def test_signature_verifies_with_the_official_standardwebhooks_package():
    endpoint = WebhookEndpointFactory()
    body = b'{"type":"ticket.status_changed","data":{"service_no":"S1"}}'
    headers = signed_headers(endpoint=endpoint, msg_id="msg_1", body=body)

    payload = Webhook(endpoint.secret).verify(body, headers)

    assert payload["data"] == {"service_no": "S1"}
    assert headers["webhook-signature"].startswith("v1,")


def test_tampered_body_or_other_secret_fails_verification():
    endpoint = WebhookEndpointFactory()
    other = WebhookEndpointFactory()
    body = b'{"a":1}'
    headers = signed_headers(endpoint=endpoint, msg_id="msg_2", body=body)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(other.secret).verify(body, headers)


def test_rotation_signs_with_both_secrets_until_the_old_one_expires():
    endpoint = WebhookEndpointFactory()
    old = endpoint.secret
    endpoint, new = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
    body = b"{}"
    headers = signed_headers(endpoint=endpoint, msg_id="msg_3", body=body)

    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)

    endpoint.previous_secret_expires_at = timezone.now() - dt.timedelta(seconds=1)
    headers = signed_headers(endpoint=endpoint, msg_id="msg_4", body=body)
    assert len(headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


# --- SSRF --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[2002:7f00:1::1]/hook",  # 6to4 wrapping 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "https://[fd00::1]/hook",  # unique local
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "ftp://example.com/x",
        "https://user:pw@93.184.215.14/x",
    ],
)
def test_private_loopback_link_local_and_odd_urls_are_refused(url):
    with pytest.raises(DomainError) as exc:
        webhook_url_check(url)
    assert exc.value.code == "invalid_webhook_url"
    assert exc.value.field == "url"


def test_http_is_refused_outside_debug_and_testing(settings):
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(DomainError):
        webhook_url_check("http://93.184.215.14/hook", resolve=False)
    settings.TESTING = True
    assert webhook_url_check("http://93.184.215.14/hook", resolve=False)[0] == "http"


def test_a_public_address_passes():
    assert webhook_url_check("https://93.184.215.14/hook")[3] == ["93.184.215.14"]
    assert webhook_url_check("https://[2606:2800:220:1:248:1893:25c8:1946]/hook")[0] == "https"


def test_send_time_recheck_refuses_a_host_that_now_resolves_to_loopback(monkeypatch):
    """Registered while public, then DNS changed (rebinding): the attempt is refused and logged, nothing sent."""
    endpoint = WebhookEndpointFactory(url="https://hooks.example.com/x")
    webhook_event_emit(event_type="shipment.updated", payload={"shipment_id": 1}, partner_ids=[endpoint.partner_id])
    delivery = WebhookDelivery.objects.get()
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", 443))])

    services.webhook_delivery_attempt(delivery_id=delivery.pk)

    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("refused:")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("pending", 1)


# --- delivery against a local server -----------------------------------------------


class _Server:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                outer.requests.append((dict(self.headers.items()), self.rfile.read(length), self.path))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://169.254.169.254/")
                self.end_headers()
                self.wfile.write(b"ok " * 1000)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def allow_local(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def _emit_one(url):
    endpoint = WebhookEndpointFactory(url=url, events=["ticket.status_changed"])
    webhook_event_emit(
        event_type="ticket.status_changed",
        payload={"service_no": "S9", "status": "ready"},
        partner_ids=[endpoint.partner_id],
    )
    return endpoint, WebhookDelivery.objects.get(endpoint=endpoint)


def test_successful_delivery_is_signed_thin_and_logged(allow_local):
    with _Server([200]) as server:
        endpoint, delivery = _emit_one(server.url)
        services.webhook_delivery_attempt(delivery_id=delivery.pk)

    headers, body, path = server.requests[0]
    assert path == "/hook"
    assert Webhook(endpoint.secret).verify(body, headers)["data"] == {"service_no": "S9", "status": "ready"}
    assert headers["webhook-id"] == delivery.msg_id
    assert json.loads(body)["type"] == "ticket.status_changed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("succeeded", 1, 200)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.success is True
    assert len(attempt.response_body) == 1000  # truncated


def test_failure_backs_off_exponentially_and_a_second_worker_cannot_double_send(allow_local):
    with _Server([500, 200]) as server:
        endpoint, delivery = _emit_one(server.url)
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert dt.timedelta(seconds=4) < delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=5)
        # Not due yet: another worker (or the sweep) does nothing.
        assert services.webhook_delivery_attempt(delivery_id=delivery.pk) is None
        assert len(server.requests) == 1
        services.webhook_delivery_attempt(delivery_id=delivery.pk, now=timezone.now() + dt.timedelta(seconds=6))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery)] == [500, 200]


def test_redirects_are_not_followed(allow_local):
    with _Server([302]) as server:
        _endpoint, delivery = _emit_one(server.url)
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert len(server.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)


def test_410_disables_the_endpoint_and_cancels_its_pending_deliveries(allow_local):
    with _Server([410]) as server:
        endpoint, delivery = _emit_one(server.url)
        webhook_event_emit(event_type="ticket.status_changed", payload={}, partner_ids=[endpoint.partner_id])
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert "410" in endpoint.disabled_reason
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == ["cancelled", "failed"]


def test_gives_up_after_the_last_scheduled_attempt_about_three_days_later(allow_local):
    from partners.webhooks import RETRY_SCHEDULE

    total = sum(RETRY_SCHEDULE)
    assert 2.5 * 86400 < total < 3.5 * 86400
    with _Server([503] * MAX_ATTEMPTS) as server:
        _endpoint, delivery = _emit_one(server.url)
        now = timezone.now()
        for _ in range(MAX_ATTEMPTS):
            services.webhook_delivery_attempt(delivery_id=delivery.pk, now=now)
            delivery.refresh_from_db()
            now = (delivery.next_attempt_at or now) + dt.timedelta(seconds=1)
    assert (delivery.status, delivery.attempt_count) == ("failed", MAX_ATTEMPTS)
    assert len(server.requests) == MAX_ATTEMPTS


def test_redeliver_queues_one_more_attempt_with_the_same_id(allow_local, django_capture_on_commit_callbacks):
    with _Server([200, 200]) as server:
        _endpoint, delivery = _emit_one(server.url)
        services.webhook_delivery_attempt(delivery_id=delivery.pk)
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_delivery_redeliver(delivery_id=delivery.pk)
    assert [h["webhook-id"] for h, _b, _p in server.requests] == [delivery.msg_id, delivery.msg_id]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)


def test_delivery_body_is_thin():
    _endpoint, delivery = _emit_one("https://hooks.example.com/x")
    doc = json.loads(delivery_body(delivery))
    assert set(doc) == {"type", "timestamp", "data"}
    assert delivery.status == DeliveryStatus.PENDING


def test_a_ticket_transition_writes_a_status_changed_row_in_its_transaction():
    """repairs.events.ticket_changed -> the ticket.changed event -> partners.subscribers: "at" is ISO text, as sent."""
    from logistics.services import shipment_create, shipment_event_record
    from servicehub.actors import SYSTEM
    from tests.factories.partners import make_ticket

    hub = ServiceCenterFactory(kind="mail_in_hub")
    partner = PartnerFactory()
    partner.centers.add(hub)
    endpoint = WebhookEndpointFactory(partner=partner, events=["ticket.status_changed", "quote.ready"])
    ticket = make_ticket(center=hub, status="booked", channel="mail_in")
    shipment = shipment_create(ticket=ticket, leg="customer_to_hub")
    at = timezone.now() - dt.timedelta(minutes=5)
    shipment_event_record(shipment_id=shipment.pk, event="picked_up", at=at, seal_no="S", actor=SYSTEM)
    shipment_event_record(
        shipment_id=shipment.pk, event="delivered", at=at + dt.timedelta(minutes=1), seal_no="S", actor=SYSTEM
    )

    rows = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    assert [(r.event_type, r.payload["status"], r.payload["previous_status"]) for r in rows] == [
        ("ticket.status_changed", "received", "booked")
    ]
    assert isinstance(rows[0].payload["at"], str)  # ISO text, as sent
    assert json.loads(delivery_body(rows[0]))["data"]["service_no"] == ticket.service_no
