"""The sandbox courier: books at once with a made-up waybill number and signs its pushes with a shared secret.

Used in embedded mode, the demo and the tests. ``LOGISTICS_COURIERS["sandbox"]``: ``{"secret": ..., "down":
True}`` (``down`` makes every booking fail, to try the manual fallback). ``push_body(...)`` builds the signed
status push the sandbox "courier" would send, so a demo or a test can move a shipment like the real one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from .base import Booking, BookingRequest, CourierEvent, CourierUnavailable, PushRejected

SIGNATURE_HEADER = "X-Sandbox-Signature"
EVENTS = ("picked_up", "in_transit", "delivered")


class SandboxCourier:
    name = "sandbox"
    carrier = "sf_express"  # shown as a familiar carrier in the demo

    def __init__(self, *, secret: str = "sandbox-secret", down: bool = False) -> None:  # noqa: S107 (a sandbox)
        self.secret = secret
        self.down = down

    def book(self, request: BookingRequest) -> Booking:
        if self.down:
            raise CourierUnavailable()
        digest = hashlib.sha256(f"{self.secret}:{request.order_id}".encode()).hexdigest()
        tracking_no = "SBX" + str(int(digest[:12], 16))[:12].rjust(12, "0")
        return Booking(carrier=self.carrier, tracking_no=tracking_no, raw={"order_id": request.order_id})

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def push_body(self, *events: tuple[str, str, dt.datetime, str]) -> tuple[bytes, dict]:
        """``(tracking_no, event, at, id)`` tuples -> (body, headers) of a signed push."""
        body = json.dumps(
            {"events": [{"id": i, "tracking_no": t, "event": e, "at": at.isoformat()} for t, e, at, i in events]}
        ).encode()
        return body, {SIGNATURE_HEADER: self.sign(body)}

    def parse_push(self, *, body: bytes, headers: Mapping[str, str]) -> list[CourierEvent]:
        given = headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, self.sign(body)):
            raise PushRejected()
        try:
            rows = json.loads(body)["events"]
        except (ValueError, KeyError, TypeError):
            raise PushRejected(_("Not a sandbox push.")) from None
        if not isinstance(rows, list):
            raise PushRejected(_("Not a sandbox push."))
        out = []
        for row in rows:
            if not isinstance(row, dict) or "id" not in row or "tracking_no" not in row:
                continue
            try:
                at = parse_datetime(str(row.get("at", "")))
            except ValueError:
                continue
            if row.get("event") not in EVENTS or at is None or at.tzinfo is None:
                continue
            out.append(
                CourierEvent(tracking_no=str(row["tracking_no"]), event=row["event"], at=at, external_id=str(row["id"]))
            )
        return out

    def push_ack(self) -> dict:
        return {"ok": True}
