"""Business-hours calendars: when a center is open, and time counted only while it is.

Pure and typed: a ``BusinessCalendar`` is built from plain values (the weekly hours, the center's dated
exceptions, its holiday policy), never touches the database, and is cheap to pickle into the cache
(``centers.selectors.center_calendar`` loads and caches one per center). See docs/repairs.md, "How time is
counted".

Which hours a local date has, first rule that applies:

1. the center's own ``OpeningException`` of that date (closed, or special hours) -- it always wins;
2. a center with no weekly hours at all is open around the clock (wall-clock time, as before this module);
3. a national public holiday (``chinesecalendar``) closes the center, unless ``opens_on_public_holidays``;
4. a national make-up working day (调休, a Saturday or Sunday worked instead of a holiday weekday) is worked
   with the center's weekday hours (its first Monday-Friday with hours), unless ``opens_on_public_holidays``
   (such a store keeps its own weekend hours: the national calendar does not change it at all);
5. the weekly hours of that weekday (several rows = a lunch break).

An interval whose closing time is not after its opening time runs past midnight (20:00-02:00, 10:00-00:00):
it belongs to the day it opens on, so a closed exception on the next day does not cut it short.
Boundaries are whole minutes (seconds of a ``TimeField`` are ignored). China has had no daylight saving
time since 1991, so local wall-clock arithmetic is exact.

The calendar compiles the open intervals of a window of days into sorted lists of epoch minutes with the
business minutes before each interval; ``add_business_minutes`` and ``business_minutes_between`` are then
two binary searches. The window grows on demand (a query outside it recompiles a larger one).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chinese_calendar import constants as _national  # type: ignore[import-untyped]  # ships no types

CENTER_TZ = ZoneInfo("Asia/Shanghai")
DAY = 1440
_EPOCH = date(2000, 1, 1)
_EPOCH_ORD = _EPOCH.toordinal()
_EPOCH_DT = datetime(2000, 1, 1, tzinfo=CENTER_TZ)
# How far past the window an addition may search for open time before giving up (a center closed for good).
MAX_SEARCH_DAYS = 800
_INITIAL_BEFORE, _INITIAL_AFTER = 14, 60

# The national calendar (chinesecalendar 1.11.0 knows 2004-2026): holiday dates and make-up working days.
NATIONAL_HOLIDAYS: frozenset[date] = frozenset(_national.holidays)
NATIONAL_MAKEUP_WORKDAYS: frozenset[date] = frozenset(_national.workdays)

Interval = tuple[int, int]  # minutes after the day's midnight; the end may pass 1440 (overnight)


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def interval_of(opens: time, closes: time) -> Interval:
    """``(opens, closes)`` as minutes of the day; a closing time not after the opening runs into the next day."""
    start, end = _minute(opens), _minute(closes)
    if end <= start:
        end += DAY
    return start, end


class CalendarExhausted(ValueError):
    """No open time within ``MAX_SEARCH_DAYS``: the center is closed (for good, or for longer than that)."""


@dataclass(slots=True, eq=False)
class BusinessCalendar:
    """One center's business hours. Build with ``calendar_build``; query with the module functions."""

    weekly: tuple[tuple[Interval, ...], ...]  # 7 entries, Monday first
    exceptions: Mapping[date, tuple[Interval, ...]]  # the center's own dates; () = closed all day
    opens_on_public_holidays: bool = False
    always_open: bool = False
    holidays: frozenset[date] | None = None  # None = the national calendar (not pickled into the cache)
    makeup_workdays: frozenset[date] | None = None
    # the compiled window: [lo_day, hi_day) as day numbers after the epoch
    _lo: int = field(default=0, repr=False)
    _hi: int = field(default=0, repr=False)
    _starts: list[int] = field(default_factory=list, repr=False)
    _ends: list[int] = field(default_factory=list, repr=False)
    _cum: list[int] = field(default_factory=list, repr=False)  # business minutes before _starts[i]

    # --- which hours a day has ---------------------------------------------------------------------------

    def day_intervals(self, day: date) -> tuple[Interval, ...]:
        """The intervals that open on ``day`` (the rules in the module docstring)."""
        own = self.exceptions.get(day)
        if own is not None:
            return own
        if self.always_open:
            return ((0, DAY),)
        if not self.opens_on_public_holidays:
            if day in (NATIONAL_HOLIDAYS if self.holidays is None else self.holidays):
                return ()
            makeup = NATIONAL_MAKEUP_WORKDAYS if self.makeup_workdays is None else self.makeup_workdays
            if day in makeup and not self.weekly[day.weekday()]:
                return next((hours for hours in self.weekly[:5] if hours), ())
        return self.weekly[day.weekday()]

    def __getstate__(self) -> dict[str, object]:
        # Only the source values go into the cache; the compiled window is rebuilt on first use.
        return {name: getattr(self, name) for name in _SOURCE_FIELDS}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name in _SOURCE_FIELDS:
            object.__setattr__(self, name, state[name])
        self._lo = self._hi = 0
        self._starts, self._ends, self._cum = [], [], []

    # --- the compiled window ------------------------------------------------------------------------------

    def _compile(self, lo: int, hi: int) -> None:
        raw: list[Interval] = []
        for n in range(lo - 1, hi):  # the day before the window may run past midnight into it
            base = n * DAY
            day = date.fromordinal(_EPOCH_ORD + n)
            raw.extend((base + s, base + e) for s, e in self.day_intervals(day))
        raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        for s, e in raw:
            s, e = max(s, lo * DAY), min(e, hi * DAY)
            if s >= e:
                continue
            if ends and s <= ends[-1]:  # overlapping or touching: one interval
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        cum, total = [], 0
        for s, e in zip(starts, ends, strict=True):
            cum.append(total)
            total += e - s
        cum.append(total)  # a sentinel: the business minutes of the whole window
        self._lo, self._hi, self._starts, self._ends, self._cum = lo, hi, starts, ends, cum

    def _cover(self, first_minute: int, last_minute: int) -> None:
        """Make sure the window covers both epoch minutes (recompiling a larger one if not)."""
        lo, hi = first_minute // DAY, last_minute // DAY + 1
        if self._starts or self._hi > self._lo:
            if self._lo <= lo and hi <= self._hi:
                return
            lo, hi = min(lo, self._lo), max(hi, self._hi)
        self._compile(lo - _INITIAL_BEFORE, hi + _INITIAL_AFTER)

    def _position(self, minute: int) -> tuple[int, bool]:
        """(business minutes of the window before ``minute``, is that minute open)."""
        i = bisect_right(self._starts, minute) - 1
        if i < 0:
            return 0, False
        if minute < self._ends[i]:
            return self._cum[i] + minute - self._starts[i], True
        return self._cum[i + 1], False

    def _minute_at(self, position: int, *, prefer_next: bool) -> int:
        """The epoch minute reached after ``position`` business minutes of the window (grows it as needed).

        ``prefer_next``: a position that is exactly a closing time maps to the next opening (where the
        remaining seconds of a started minute are then counted) instead of the closing time itself.
        """
        # The window's last interval may be cut at its end: a position at the end is only final past it.
        while position >= self._cum[-1]:
            if self._hi - self._lo > 2 * MAX_SEARCH_DAYS:
                raise CalendarExhausted("no open time ahead")
            self._compile(self._lo, self._hi + max(_INITIAL_AFTER, self._hi - self._lo))
        cum = self._cum
        j = (bisect_right(cum, position) if prefer_next else bisect_left(cum, position)) - 1
        return self._starts[j] + position - cum[j]


_SOURCE_FIELDS = ("weekly", "exceptions", "opens_on_public_holidays", "always_open", "holidays", "makeup_workdays")


def calendar_build(
    *,
    weekly: Iterable[tuple[int, time, time]],
    exceptions: Iterable[tuple[date, bool, time | None, time | None]] = (),
    opens_on_public_holidays: bool = False,
    holidays: frozenset[date] | None = None,
    makeup_workdays: frozenset[date] | None = None,
) -> BusinessCalendar:
    """A calendar from ``(weekday, opens, closes)`` rows and ``(date, closed, opens, closes)`` exceptions.

    ``holidays``/``makeup_workdays`` default to the national calendar (tests pass their own).
    """
    days: list[list[Interval]] = [[] for _ in range(7)]
    rows = list(weekly)
    for weekday, opens, closes in rows:
        days[weekday].append(interval_of(opens, closes))
    own: dict[date, tuple[Interval, ...]] = {}
    for day, closed, x_opens, x_closes in exceptions:
        own[day] = () if closed or x_opens is None or x_closes is None else (interval_of(x_opens, x_closes),)
    return BusinessCalendar(
        weekly=tuple(tuple(sorted(d)) for d in days),
        exceptions=own,
        opens_on_public_holidays=opens_on_public_holidays,
        always_open=not rows,
        holidays=holidays,
        makeup_workdays=makeup_workdays,
    )


ALWAYS_OPEN = calendar_build(weekly=())


# --- conversions -----------------------------------------------------------------------------------------


def _split(at: datetime) -> tuple[int, timedelta]:
    """(epoch minute of ``at`` in local time, the seconds past that minute)."""
    local = at.astimezone(CENTER_TZ)
    minute = (local.toordinal() - _EPOCH_ORD) * DAY + local.hour * 60 + local.minute
    return minute, timedelta(seconds=local.second, microseconds=local.microsecond)


def _datetime(minute: int) -> datetime:
    return _EPOCH_DT + timedelta(minutes=minute)


def epoch_minute(at: datetime) -> int:
    """The local epoch minute of ``at`` (what the benchmark and bulk callers pass to the ``*_minutes`` forms)."""
    return _split(at)[0]


# --- queries ------------------------------------------------------------------------------------------


def is_open(cal: BusinessCalendar, at: datetime) -> bool:
    """Is the center open at ``at`` (intervals are half-open: open at the opening minute, closed at closing)?"""
    minute, _frac = _split(at)
    day_n, of_day = divmod(minute, DAY)
    if not cal._lo <= day_n < cal._hi:
        # Not compiled around it (a calendar fresh from the cache): today's and yesterday's intervals answer
        # it, with no window of 74 days compiled for one question (the centers list asks it of every row).
        today = date.fromordinal(_EPOCH_ORD + day_n)
        if any(s <= of_day < e for s, e in cal.day_intervals(today)):
            return True
        return any(of_day + DAY < e for _s, e in cal.day_intervals(today - timedelta(days=1)))
    return cal._position(minute)[1]


def next_open(cal: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself when the center is open then, else its next opening time (raises ``CalendarExhausted``)."""
    minute, _frac = _split(at)
    cal._cover(minute, minute)
    position, open_now = cal._position(minute)
    if open_now:
        return at
    return _datetime(cal._minute_at(position, prefer_next=True))


def add_business_minutes(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """The moment ``minutes`` business minutes after ``start`` (aware, local zone).

    Time before an opening does not count; a target ending exactly at a closing time is due at that closing
    time, not at the next opening. ``minutes <= 0`` gives ``next_open(start)``.
    """
    if minutes <= 0:
        return next_open(cal, start)
    minute, frac = _split(start)
    cal._cover(minute, minute)
    position, open_now = cal._position(minute)
    if open_now and frac:
        return _datetime(cal._minute_at(position + minutes, prefer_next=True)) + frac
    return _datetime(cal._minute_at(position + minutes, prefer_next=False))


def add_business_minutes_or_wall(cal: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """``add_business_minutes``, or wall-clock minutes for a center with no open time ahead at all (a move of
    its ticket must not fail because the center closed for good)."""
    try:
        return add_business_minutes(cal, start, minutes)
    except CalendarExhausted:
        return start + timedelta(minutes=max(0, minutes))


def add_business_minutes_at(cal: BusinessCalendar, minute: int, minutes: int) -> int:
    """``add_business_minutes`` on whole epoch minutes: the bulk form (dashboards, the benchmark).

    The same two binary searches as ``add_business_minutes``, inlined: no datetimes, no method calls in
    the common case (the answer lies inside the compiled window).
    """
    if not cal._lo * DAY <= minute < cal._hi * DAY:
        cal._cover(minute, minute)
    starts, cum = cal._starts, cal._cum
    i = bisect_right(starts, minute) - 1
    if i < 0:
        position = 0
    elif minute < cal._ends[i]:
        position = cum[i] + minute - starts[i]
    else:
        position = cum[i + 1]
    position += minutes
    if position >= cum[-1]:
        return cal._minute_at(position, prefer_next=minutes <= 0)
    j = (bisect_right(cum, position) if minutes <= 0 else bisect_left(cum, position)) - 1
    return starts[j] + position - cum[j]


def business_minutes_between(cal: BusinessCalendar, a: datetime, b: datetime) -> int:
    """Whole business minutes from ``a`` to ``b`` (0 when ``b`` is not after ``a``)."""
    if b <= a:
        return 0
    ma, fa = _split(a)
    mb, fb = _split(b)
    cal._cover(ma, mb)
    pa, open_a = cal._position(ma)
    pb, open_b = cal._position(mb)
    seconds = (pb - pa) * 60 + (fb.total_seconds() if open_b else 0) - (fa.total_seconds() if open_a else 0)
    return max(0, int(seconds // 60))


def open_intervals(cal: BusinessCalendar, day: date) -> Sequence[tuple[datetime, datetime]]:
    """The open intervals that begin on local ``day``, as aware datetimes (for pages and documents)."""
    base = (day.toordinal() - _EPOCH_ORD) * DAY
    return [(_datetime(base + s), _datetime(base + e)) for s, e in cal.day_intervals(day)]
