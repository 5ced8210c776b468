"""Courier providers by setting: ``LOGISTICS_COURIERS = {"default": "sandbox", "sandbox": {...}, "sf_express":
{"partner_id": ..., "check_word": ..., "url": ..., "monthly_card": ...}}``. ``courier_provider()`` is the one
that books (the default); ``courier_provider(name)`` is the one whose pushes arrive at
``/api/v1/couriers/<name>/push/``. Unknown or unconfigured names raise ``LookupError``.
"""

from __future__ import annotations

from django.conf import settings

from .base import Booking, BookingRequest, CourierEvent, CourierProvider, CourierUnavailable, Party, PushRejected

__all__ = [
    "Booking",
    "BookingRequest",
    "CourierEvent",
    "CourierProvider",
    "CourierUnavailable",
    "Party",
    "PushRejected",
    "courier_provider",
]


def _conf() -> dict:
    return dict(getattr(settings, "LOGISTICS_COURIERS", None) or {})


def courier_provider(name: str | None = None) -> CourierProvider:
    conf = _conf()
    name = name or conf.get("default") or "sandbox"
    options = dict(conf.get(name) or {})
    if name == "sandbox":
        from .sandbox import SandboxCourier

        return SandboxCourier(**options)
    if name == "sf_express":
        from .sf_express import SFExpressCourier

        if not options.get("partner_id") or not options.get("check_word"):
            raise LookupError("sf_express is not configured (LOGISTICS_COURIERS['sf_express'])")
        return SFExpressCourier(**options)
    raise LookupError(f"unknown courier provider {name!r}")
