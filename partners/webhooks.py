"""Outgoing webhooks: the outbox writer, Standard Webhooks signing, SSRF-safe sending.

``webhook_event_emit`` writes one ``WebhookDelivery`` row per matching subscription, in the
caller's transaction, and queues a Celery task per row on commit. Its caller is
``partners.subscribers``, which turns the domain events (``servicehub.events``) into deliveries;
domain apps never call it. The periodic sweep
(``partners.tasks.webhook_deliveries_sweep``) re-queues anything due that a lost
broker message left behind, so a Redis outage delays deliveries but loses none.

Signing follows https://www.standardwebhooks.com/: headers ``webhook-id``,
``webhook-timestamp`` (unix seconds) and ``webhook-signature`` =
``v1,<base64 HMAC-SHA256(secret, f"{id}.{timestamp}.{body}")>`` -- two
space-separated signatures while a rotated-out secret is still valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.errors import DomainError

from .choices import WebhookEvent
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"
# Seconds after the first attempt: immediately, then backing off to ~20 h; the last try is ~3 days later.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 20 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
SEND_TIMEOUT = 10  # seconds, connect and read
RESPONSE_KEEP = 1000  # characters of the response body kept per attempt
USER_AGENT = "ServiceHub-Webhooks/1.0"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (Standard Webhooks)."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def endpoint_signing_secrets(endpoint: WebhookEndpoint, *, now=None) -> list[str]:
    now = now or timezone.now()
    out = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        out.append(endpoint.previous_secret)
    return out


def signed_headers(*, endpoint: WebhookEndpoint, msg_id: str, body: bytes, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = " ".join(
        sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in endpoint_signing_secrets(endpoint)
    )
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


# --- SSRF guard -------------------------------------------------------------------


def _allow_private() -> bool:
    # Only the test suite sets this (to deliver to a server on 127.0.0.1).
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False))


def _allow_http() -> bool:
    return bool(settings.DEBUG or getattr(settings, "TESTING", False) or getattr(settings, "WEBHOOK_ALLOW_HTTP", False))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64): each must be public too."""
    out = []
    if addr.ipv4_mapped is not None:
        out.append(addr.ipv4_mapped)
    if addr.sixtofour is not None:
        out.append(addr.sixtofour)
    if addr.teredo is not None:
        out.extend(addr.teredo)
    if addr in _NAT64:
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    return out


def _is_public(addr) -> bool:
    return addr.is_global and not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


def address_is_public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(addr)
        if embedded:
            return all(_is_public(a) for a in embedded)
    return _is_public(addr)


def _refuse(message: str):
    raise DomainError("invalid_webhook_url", message, status=400, field="url")


def webhook_url_check(url: str, *, resolve: bool = True) -> tuple[str, str, int, list[str]]:
    """Validate a webhook URL; return ``(scheme, host, port, public_ips)``.

    Refuses ``validation_error`` (field ``url``) for whitespace or control characters
    (CR/LF) anywhere in it, and (``invalid_webhook_url``, field ``url``): schemes other than https (http
    only with DEBUG/TESTING), credentials in the URL, and hosts that are or resolve to
    private, loopback, link-local, multicast or reserved addresses (every resolved
    address must be public, against DNS tricks).
    """
    # urlsplit() silently drops CR, LF and tab, so a URL carrying a header injection
    # ("https://x/\r\nX-Evil: 1") would pass every check below and be stored as sent.
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch.isspace() for ch in url):
        raise DomainError(
            "validation_error", _("A URL must not contain spaces, line breaks or control characters."), field="url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        _refuse(_("This is not a valid URL."))
    scheme = (parts.scheme or "").lower()
    if scheme != "https" and not (scheme == "http" and _allow_http()):
        _refuse(_("Webhook URLs must use https."))
    if parts.username or parts.password:
        _refuse(_("Webhook URLs must not contain credentials."))
    host = parts.hostname or ""
    if not host:
        _refuse(_("This URL has no host."))
    port = port or (443 if scheme == "https" else 80)
    if not resolve:
        return scheme, host, port, []
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        _refuse(_("This host name does not resolve."))
    ips = sorted({info[4][0] for info in infos})
    if not ips:
        _refuse(_("This host name does not resolve."))
    if not _allow_private() and not all(address_is_public(ip) for ip in ips):
        _refuse(_("Webhook URLs must not point to private, loopback or link-local addresses."))
    return scheme, host, port, ips


# --- Sending ----------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address we already checked (no second DNS lookup to rebind)."""

    def __init__(self, host, port, *, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class SendResult:
    status_code: int | None
    body: str
    error: str
    latency_ms: int


def http_post(url: str, *, body: bytes, headers: dict) -> SendResult:
    """POST once, never following redirects, to a re-checked public address."""
    started = time.monotonic()
    try:
        scheme, host, port, ips = webhook_url_check(url)
    except DomainError as exc:
        return SendResult(None, "", f"refused: {exc.message}", 0)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, ip=ips[0], timeout=SEND_TIMEOUT)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read(RESPONSE_KEEP * 4).decode("utf-8", "replace")[:RESPONSE_KEEP]
        return SendResult(response.status, text, "", int((time.monotonic() - started) * 1000))
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(None, "", f"{type(exc).__name__}: {exc}"[:300], int((time.monotonic() - started) * 1000))
    finally:
        conn.close()


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """Thin payload: the event type, when, and ids/status only -- clients fetch details from the API."""
    doc = {
        "type": delivery.event_type,
        "timestamp": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(doc, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


# --- The outbox writer (the cross-app contract) -----------------------------------


def _new_msg_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def webhook_msg_id(*, source_id: int, endpoint_id: int) -> str:
    """The ``webhook-id`` of the delivery of domain event ``source_id`` (the outbox row) to one endpoint.

    Derived, not random: the same event reaching the same endpoint twice (a replayed dispatch) is the
    same message, and the unique ``msg_id`` keeps it to one row.
    """
    return f"msg_{source_id}_{endpoint_id}"


def webhook_event_emit(
    *,
    event_type: str,
    payload: dict,
    center_id: int | None = None,
    partner_ids: Iterable[int] | None = None,
    source_id: int | None = None,
) -> int:
    """Write a delivery row for every active subscription to ``event_type``; return how many new rows.

    Recipients are the partners in ``partner_ids`` plus the partners operating
    ``center_id``; with neither given, every subscriber (network-wide events only:
    never pass ticket data without a ``center_id``/``partner_ids``). Runs in the
    caller's transaction; each row is queued for sending after commit.
    ``source_id`` is the outbox event this delivery announces (``partners.subscribers``): the
    ``msg_id`` derives from it (``webhook_msg_id``), and a delivery already written for it is not
    written again. Without it (a test, a manual send) the id is random.
    Refuses an unknown ``event_type`` (``ValueError``: a programming error).
    """
    if event_type not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    endpoints = WebhookEndpoint.objects.filter(active=True, partner__active=True, events__icontains=event_type)
    if center_id is not None or partner_ids is not None:
        who = Q(pk__in=[])
        if partner_ids is not None:
            who |= Q(partner_id__in=list(partner_ids))
        if center_id is not None:
            who |= Q(partner__centers=center_id)
        endpoints = endpoints.filter(who)
    # icontains is a prefilter (JSON contains is not portable to SQLite); confirm exactly here.
    matching = [e for e in endpoints.distinct().order_by("pk") if event_type in (e.events or [])]
    if not matching:
        return 0
    msg_ids = {
        e.pk: webhook_msg_id(source_id=source_id, endpoint_id=e.pk) if source_id is not None else _new_msg_id()
        for e in matching
    }
    if source_id is not None:
        seen = set(WebhookDelivery.objects.filter(msg_id__in=msg_ids.values()).values_list("msg_id", flat=True))
        matching = [e for e in matching if msg_ids[e.pk] not in seen]
        if not matching:
            return 0
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=e,
                msg_id=msg_ids[e.pk],
                event_type=event_type,
                payload=payload,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
            )
            for e in matching
        ]
    )
    ids = (
        [r.pk for r in rows]
        if all(r.pk for r in rows)
        else list(WebhookDelivery.objects.filter(msg_id__in=[r.msg_id for r in rows]).values_list("pk", flat=True))
    )
    transaction.on_commit(lambda: _queue(ids))
    return len(rows)


def _queue(delivery_ids: list[int]) -> None:
    from .tasks import webhook_deliver

    for pk in delivery_ids:
        try:
            webhook_deliver.delay(pk)
        except Exception:  # noqa: BLE001 - broker down: the sweep sends it later
            import logging

            logging.getLogger(__name__).warning("could not queue webhook delivery %s; the sweep will", pk)


def next_attempt_delay(attempt_count: int) -> timedelta | None:
    """Delay before the next attempt after ``attempt_count`` failed ones; None = give up."""
    if attempt_count >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=RETRY_SCHEDULE[attempt_count - 1])
