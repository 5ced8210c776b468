"""What a courier provider does for ServiceHub: book a leg, and read (and verify) its status pushes.

A provider is any object with this shape (``CourierProvider``); the registry (``logistics.couriers``) picks
one by setting. Providers do no database work: ``logistics.services`` calls them and records the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext as _

from servicehub.errors import DomainError


@dataclass(frozen=True)
class Party:
    name: str
    phone: str
    address: str


@dataclass(frozen=True)
class BookingRequest:
    """One leg to book: our order id (unique per shipment), who sends, who receives."""

    order_id: str
    service_no: str
    sender: Party
    receiver: Party
    cargo: str = "手机"


@dataclass(frozen=True)
class Booking:
    carrier: str  # the name stored on the shipment (``logistics.choices.carrier_label`` knows it)
    tracking_no: str
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CourierEvent:
    """One status of one waybill, as the provider pushed it (``event`` is a ``ShipmentEventKind``)."""

    tracking_no: str
    event: str
    at: dt.datetime
    external_id: str
    note: str = ""


class CourierUnavailable(DomainError):
    """The courier's system did not answer or refused the order: book by hand (typed number) or retry."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            "courier_unavailable",
            message or _("The courier could not be booked right now. Try again, or type the waybill number."),
            status=503,
        )


class PushRejected(DomainError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__("invalid_signature", message or _("The push is not signed by the courier."), status=400)


class CourierProvider(Protocol):
    name: str  # registry key, e.g. "sandbox", "sf_express"
    carrier: str  # stored on the shipment

    def book(self, request: BookingRequest) -> Booking:
        """Create the courier order; raises ``CourierUnavailable`` when it cannot."""
        ...

    def parse_push(self, *, body: bytes, headers: Mapping[str, str]) -> list[CourierEvent]:
        """Verify a status push (``PushRejected`` when forged) and read its events (unknown codes skipped)."""
        ...

    def push_ack(self) -> dict:
        """The body the provider expects back when a push was taken."""
        ...
