"""How a device is identified: by its IMEI or, for PCs, smart screens and bands, its serial number.

The one rule (and its one message) for every form, serializer and service that takes a device.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from servicehub.errors import DomainError

DEVICE_ID_REQUIRED = _("Give the device's IMEI or serial number.")


def device_id_given(imei: str | None, serial: str | None) -> bool:
    """True when an IMEI or a serial number was given (blank and whitespace count as not given)."""
    return bool(str(imei or "").strip() or str(serial or "").strip())


def device_id_require(imei: str | None, serial: str | None, *, field: str = "imei") -> None:
    """Refuses (``validation_error`` on ``field``) a device given by neither an IMEI nor a serial."""
    if not device_id_given(imei, serial):
        raise DomainError("validation_error", DEVICE_ID_REQUIRED, field=field)
