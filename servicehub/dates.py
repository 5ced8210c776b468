"""Calendar input from people and partners: impossible or far-off dates are refused, never a 500.

``parse_date("2026-02-31")`` raises ``ValueError`` and ``date(9999, 12, 31) + 1 day``
raises ``OverflowError``; pages and endpoints that take a day or a month from a
query string go through these helpers instead, which answer ``None`` for
anything that is not a real date within the years the system serves.
"""

from __future__ import annotations

import datetime as dt
import re

# Years any calendar input may name: wide enough for every real booking, report or sale
# date, narrow enough that a day or month either side always exists.
MIN_YEAR, MAX_YEAR = 2000, 2999

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


def parse_day(value: str | None) -> dt.date | None:
    """``YYYY-MM-DD`` as a date, or ``None`` (empty, malformed, impossible, or outside MIN_YEAR..MAX_YEAR)."""
    if not value or not _DAY.match(value):
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def parse_month(value: str | None) -> tuple[int, int] | None:
    """``YYYY-MM`` as ``(year, month)``, or ``None`` (malformed, month not 1-12, year out of range)."""
    match = _MONTH.match(value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return year, month


def parse_moment(value: str | None) -> dt.datetime | None:
    """An ISO 8601 date-time, or ``None`` (malformed, impossible, or outside MIN_YEAR..MAX_YEAR)."""
    from django.utils.dateparse import parse_datetime

    try:
        moment = parse_datetime(value or "")
    except ValueError:
        return None
    if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    return moment


_installed = False


def install_datetime_input_guards() -> None:
    """Make every DRF ``DateTimeField`` answer ``overflow`` (400) for a date-time at the calendar's edge.

    DRF converts an aware input to the current zone to check it; ``0001-01-01T00:00:00``
    (Asia/Shanghai is ahead of UTC) or ``9999-12-31T23:59:59-12:00`` then raise
    ``OverflowError`` and the request was a 500. Idempotent; called from ``ServiceHubConfig.ready``.
    """
    global _installed
    if _installed:
        return
    from rest_framework import fields as drf_fields

    to_internal = drf_fields.DateTimeField.to_internal_value

    def guarded(self, value):
        try:
            return to_internal(self, value)
        except OverflowError:
            self.fail("overflow")  # DRF's own "Datetime value out of range."

    drf_fields.DateTimeField.to_internal_value = guarded  # type: ignore[method-assign]  # deliberate: installs the input guard
    _installed = True
