"""Date arithmetic for warranty periods — the one place the boundary conventions live.

Conventions (see docs/warranty.md):

* Periods are counted in **local calendar dates** (``Asia/Shanghai``, the project's
  ``TIME_ZONE``): a phone sold at 23:30 Shanghai time on 1 March was sold on
  1 March, even though it is 15:30 UTC.
* The sale day is **day 0**. "Return within 7 days" means the last day to return is
  day 7 (inclusive); day 8 is out. So ``until = sale_date + N days``.
* Month periods use ``dateutil.relativedelta``, which clips to the end of a shorter
  month: 31 Jan + 1 month = 28 Feb (29 Feb in a leap year); 29 Feb 2024 + 12 months
  = 28 Feb 2025. ``until = sale_date + N months`` is the last covered day (inclusive).
* A moment ``at`` is inside a period when ``local_date(at) <= until``.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.utils import timezone


def local_date(value: dt.datetime | dt.date) -> dt.date:
    """The calendar date in the project time zone (Asia/Shanghai) of an aware datetime."""
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return timezone.localtime(value).date()
    return value


def add_days(start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=days)


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` + N calendar months, clipped to the month's last day (relativedelta)."""
    return start + relativedelta(months=months)


def covers(until: dt.date | None, at: dt.datetime | dt.date) -> bool:
    """True when the local date of ``at`` is on or before the inclusive ``until``."""
    return until is not None and local_date(at) <= until
