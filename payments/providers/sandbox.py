"""The sandbox: QR payments that never move money, for ``make run``, the demo and the tests.

The QR it shows opens our own public sandbox page (``/payments/sandbox/<order_no>/``) where the
"customer" confirms; that page (and the staff "simulate the scan" button) sends the same kind of
notification a real provider sends: a JSON body signed with HMAC-SHA256 (a key derived from
``SECRET_KEY``) in the ``Sandbox-Signature`` header, to ``POST /payments/notify/sandbox/``. So the
whole path -- signature check, repeated notification, amount check -- runs as in production.
Set ``PAYMENT_SANDBOX_ENABLED = False`` in production: then the sandbox creates no orders.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.urls import reverse

from .base import Answer, Notification, ProviderError, QrOrder, RefundResult

SIGNATURE_HEADER = "Sandbox-Signature"


def _key() -> bytes:
    return hashlib.sha256(b"servicehub.payments.sandbox:" + settings.SECRET_KEY.encode()).digest()


def sign(body: bytes) -> str:
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


def pay_url(order_no: str) -> str:
    base = settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/")
    return base + reverse("payments:sandbox-pay", args=[order_no])


def notification_build(*, order_no: str, amount: Decimal, paid: bool = True) -> tuple[dict[str, str], bytes]:
    """A correctly signed notification for ``order_no`` (what the sandbox page and "simulate" send)."""
    body = json.dumps(
        {
            "id": "SBN" + secrets.token_hex(10).upper(),
            "order_no": order_no,
            "txn_id": "SBT" + secrets.token_hex(10).upper(),
            "amount": str(amount),
            "status": "paid" if paid else "closed",
        },
        sort_keys=True,
    ).encode()
    return {SIGNATURE_HEADER: sign(body)}, body


class SandboxProvider:
    name = "sandbox"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}

    def qr_create(self, *, order_no: str, amount: Decimal, description: str, notify_url: str) -> QrOrder:
        if not getattr(settings, "PAYMENT_SANDBOX_ENABLED", True):
            raise ProviderError("The payment sandbox is disabled here.")
        return QrOrder(qr_payload=pay_url(order_no))

    def notification_parse(self, *, headers: dict[str, str], body: bytes, form: dict[str, str]) -> Notification | None:
        given = headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, sign(body)):
            return None
        try:
            data = json.loads(body)
            amount = Decimal(str(data["amount"]))
            return Notification(
                notification_id=str(data["id"]),
                order_no=str(data["order_no"]),
                provider_txn_id=str(data["txn_id"]),
                amount=amount,
                paid=data.get("status") == "paid",
                payload=data,
            )
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return None

    def refund(
        self, *, order_no: str, provider_txn_id: str, refund_no: str, amount: Decimal, total: Decimal
    ) -> RefundResult:
        return RefundResult(succeeded=True, provider_refund_id="SBR" + secrets.token_hex(8).upper())

    def answer(self, *, ok: bool) -> Answer:
        return Answer(200 if ok else 400, json.dumps({"ok": ok}))
