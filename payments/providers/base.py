"""What a payment provider does for us, whatever its SDK: create a QR order, read a notification, refund."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider refused or could not be reached (the message is for the log and the cashier)."""


@dataclass(frozen=True)
class QrOrder:
    """A pending order at the provider: what the customer scans."""

    qr_payload: str


@dataclass(frozen=True)
class Notification:
    """A notification whose signature was verified; the only thing ``payment_confirm`` trusts."""

    notification_id: str
    order_no: str
    provider_txn_id: str
    amount: Decimal
    paid: bool  # False: the provider says the trade closed/failed
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool  # False: accepted, still processing (confirmed later by the provider)
    provider_refund_id: str = ""


@dataclass(frozen=True)
class Answer:
    """What the notify endpoint answers the provider (each provider expects its own words)."""

    status: int
    body: str
    content_type: str = "application/json"


class Provider(Protocol):
    name: str

    def qr_create(self, *, order_no: str, amount: Decimal, description: str, notify_url: str) -> QrOrder: ...

    def notification_parse(self, *, headers: dict[str, str], body: bytes, form: dict[str, str]) -> Notification | None:
        """The verified notification, or None when the signature (or decryption) does not hold."""
        ...

    def refund(
        self, *, order_no: str, provider_txn_id: str, refund_no: str, amount: Decimal, total: Decimal
    ) -> RefundResult: ...

    def answer(self, *, ok: bool) -> Answer: ...
