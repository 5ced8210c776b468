"""Periods and scopes the operations figures are computed over."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from servicehub.dates import parse_day


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in the project's zone (Asia/Shanghai), timezone-aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


@dataclass(frozen=True)
class Period:
    """Local dates ``start``..``end``, both inclusive."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def until(self) -> dt.datetime:
        """Exclusive upper bound: midnight after ``end``."""
        return local_midnight(self.end + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def last_days(cls, n: int, *, today: dt.date | None = None) -> Period:
        today = today or local_today()
        return cls(today - dt.timedelta(days=n - 1), today)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = dt.date(year, month, 1)
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, nxt - dt.timedelta(days=1))

    @classmethod
    def parse(cls, start: str | None, end: str | None, *, default: Period) -> Period:
        """From ``?start=YYYY-MM-DD&end=YYYY-MM-DD``; bad or reversed input gives ``default``.

        Capped at 366 days so a typo cannot ask the database for ten years.
        """
        s = parse_day(start) if start else default.start
        e = parse_day(end) if end else default.end
        if s is None or e is None:  # malformed, impossible, or a year with no day after it
            return default
        if s > e or (e - s).days > 366:
            return default
        return cls(s, e)
