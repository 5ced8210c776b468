"""Business-hours calendars (centers/calendar.py) against a brute-force minute-by-minute count.

The brute force decides "open at this minute" from the rules alone (own exception, always open, national
holiday, make-up working day, weekly hours, the previous day's overnight interval) and walks time one
half-minute at a time; the calendar compiles intervals and answers with binary searches. They must agree on
random weekly hours (lunch breaks, closed days, overnight), random dated exceptions (closed or special
hours, overnight too) and the real 2025/2026 national holidays and make-up days of chinesecalendar.
"""

from __future__ import annotations

import datetime as dt
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centers.calendar import (
    CENTER_TZ,
    NATIONAL_HOLIDAYS,
    NATIONAL_MAKEUP_WORKDAYS,
    add_business_minutes,
    business_minutes_between,
    calendar_build,
    epoch_minute,
    is_open,
    next_open,
)

T = dt.time
# Windows around national holidays chinesecalendar 1.11.0 knows: Spring Festival 2025 (make-up 26 Jan, 8 Feb),
# National Day 2025 (make-up 28 Sep, 11 Oct), Spring Festival 2026 (make-up 14 and 28 Feb), National Day 2026.
BASES = [dt.date(2025, 1, 22), dt.date(2025, 9, 24), dt.date(2026, 2, 10), dt.date(2026, 9, 26)]


def _t(minute: int) -> dt.time:
    return T(minute // 60 % 24, minute % 60)


@st.composite
def day_hours(draw, allow_empty=True):
    """0-2 intervals on a 5-minute grid; the last may run past midnight."""
    n = draw(st.integers(0 if allow_empty else 1, 2))
    points = sorted(draw(st.sets(st.integers(0, 287), min_size=2 * n, max_size=2 * n)))
    intervals = [(points[2 * i] * 5, points[2 * i + 1] * 5) for i in range(n)]
    if intervals and draw(st.booleans()):
        s, e = intervals[-1]
        e2 = draw(st.integers(0, s // 5)) * 5  # closes the next morning (or at midnight, 00:00), before reopening
        if e2 > 0 or s > 0:
            intervals[-1] = (s, e2)
    return intervals


@st.composite
def calendars(draw):
    base = draw(st.sampled_from(BASES))
    weekly = []
    always_open = draw(st.integers(0, 9)) == 0
    if not always_open:
        days = [draw(day_hours()) for _ in range(7)]
        if not any(days):
            days[draw(st.integers(0, 6))] = draw(day_hours(allow_empty=False))
        weekly = [(wd, _t(s), _t(e)) for wd, hours in enumerate(days) for s, e in hours]
    exceptions = []
    for offset in draw(st.sets(st.integers(-2, 30), max_size=6)):
        day = base + dt.timedelta(days=offset)
        hours = draw(day_hours(allow_empty=False)) if draw(st.booleans()) else []
        if hours:
            s, e = hours[0]
            exceptions.append((day, False, _t(s), _t(e)))
        else:
            exceptions.append((day, True, None, None))
    holiday_open = draw(st.booleans())
    return (
        base,
        calendar_build(weekly=weekly, exceptions=exceptions, opens_on_public_holidays=holiday_open),
        (
            weekly,
            exceptions,
            holiday_open,
        ),
    )


class Brute:
    """The rules, minute by minute."""

    def __init__(self, weekly, exceptions, holiday_open):
        self.weekly = {wd: [] for wd in range(7)}
        for wd, o, c in weekly:
            self.weekly[wd].append((o, c))
        self.always_open = not weekly
        self.exceptions = {d: (None if closed else (o, c)) for d, closed, o, c in exceptions}
        self.holiday_open = holiday_open

    def hours(self, day: dt.date) -> list[tuple[int, int]]:
        if day in self.exceptions:
            rows = [self.exceptions[day]] if self.exceptions[day] else []
        elif self.always_open:
            return [(0, 1440)]
        elif not self.holiday_open and day in NATIONAL_HOLIDAYS:
            rows = []
        elif not self.holiday_open and day in NATIONAL_MAKEUP_WORKDAYS and not self.weekly[day.weekday()]:
            rows = next((self.weekly[wd] for wd in range(5) if self.weekly[wd]), [])
        else:
            rows = self.weekly[day.weekday()]
        out = []
        for o, c in rows:
            s, e = o.hour * 60 + o.minute, c.hour * 60 + c.minute
            out.append((s, e if e > s else e + 1440))
        return out

    def open_at(self, at: dt.datetime) -> bool:
        day, x = at.date(), at.hour * 60 + at.minute
        if any(s <= x < e for s, e in self.hours(day)):
            return True
        return any(s <= x + 1440 < e for s, e in self.hours(day - dt.timedelta(days=1)))

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """Walk half-minutes: the end of the half-minute in which the count reaches ``minutes``."""
        half = dt.timedelta(seconds=30)
        at, count = start, 0
        if minutes == 0:
            while not self.open_at(at):
                at = (at + dt.timedelta(minutes=1)).replace(second=0)
            return at
        while True:
            if self.open_at(at):
                count += 1
                if count == 2 * minutes:
                    return at + half
            at += half

    def between(self, a: dt.datetime, b: dt.datetime) -> int:
        half, at, count = dt.timedelta(seconds=30), a, 0
        while at < b:
            count += self.open_at(at)
            at += half
        return count // 2


def _start(base: dt.date, offset_half_minutes: int) -> dt.datetime:
    return dt.datetime.combine(base, T(0), tzinfo=CENTER_TZ) + dt.timedelta(seconds=30 * offset_half_minutes)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=calendars(), offset=st.integers(0, 2 * 1440 * 12), minutes=st.integers(0, 1500))
def test_add_business_minutes_agrees_with_brute_force(data, offset, minutes):
    base, cal, source = data
    start = _start(base, offset)
    assert add_business_minutes(cal, start, minutes) == Brute(*source).add(start, minutes)


@FAST
@given(data=calendars(), offset=st.integers(0, 2 * 1440 * 10), length=st.integers(0, 2 * 1440 * 3))
def test_business_minutes_between_agrees_with_brute_force(data, offset, length):
    base, cal, source = data
    a = _start(base, offset)
    b = a + dt.timedelta(seconds=30 * length)
    assert business_minutes_between(cal, a, b) == Brute(*source).between(a, b)


@FAST
@given(data=calendars(), offset=st.integers(0, 2 * 1440 * 12))
def test_is_open_and_next_open_agree_with_brute_force(data, offset):
    base, cal, source = data
    at = _start(base, offset)
    brute = Brute(*source)
    assert is_open(cal, at) is brute.open_at(at)
    assert next_open(cal, at) == brute.add(at, 0)


@FAST
@given(data=calendars(), offset=st.integers(0, 2 * 1440 * 12))
def test_is_open_answers_the_same_from_a_fresh_calendar_and_a_compiled_window(data, offset):
    # A calendar fresh from the cache answers from two days' intervals; a compiled one from its window.
    base, cal, source = data
    at = _start(base, offset)
    fresh = pickle.loads(pickle.dumps(cal))
    assert fresh._hi == fresh._lo  # nothing compiled
    direct = is_open(fresh, at)
    assert fresh._hi == fresh._lo  # and the question compiled nothing
    next_open(cal, at)  # compiles a window around ``at``
    assert cal._lo <= epoch_minute(at) // 1440 < cal._hi
    assert direct is is_open(cal, at) is Brute(*source).open_at(at)


@FAST
@given(data=calendars(), offset=st.integers(0, 1440 * 12), minutes=st.integers(1, 3000))
def test_between_inverts_add(data, offset, minutes):
    base, cal, _source = data
    start = _start(base, 2 * offset)
    assert business_minutes_between(cal, start, add_business_minutes(cal, start, minutes)) == minutes


def _weekdays_9_to_18(**kwargs):
    return calendar_build(weekly=[(wd, T(9), T(18)) for wd in range(5)], **kwargs)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CENTER_TZ)


def test_national_day_2026_closes_a_repair_center_and_the_make_up_saturday_opens_it():
    cal = _weekdays_9_to_18()
    # 30 Sep 17:00 + 2 h: one hour that day, the rest after the holiday (1-7 Oct 2026 off).
    assert add_business_minutes(cal, at(2026, 9, 30, 17), 120) == at(2026, 10, 8, 10)
    assert not is_open(cal, at(2026, 10, 5, 10))
    # Saturday 10 Oct 2026 is a make-up working day: open with the weekday hours although Saturdays are closed.
    assert is_open(cal, at(2026, 10, 10, 10))
    assert not is_open(cal, at(2026, 10, 17, 10))  # an ordinary Saturday


def test_a_store_open_on_holidays_keeps_its_weekly_hours_and_its_own_exception_wins():
    store = calendar_build(
        weekly=[(wd, T(10), T(22)) for wd in range(7)],
        exceptions=[(dt.date(2026, 2, 16), True, None, None), (dt.date(2026, 2, 17), False, T(12), T(18))],
        opens_on_public_holidays=True,
    )
    assert is_open(store, at(2026, 2, 18, 11))  # Spring Festival holiday: open anyway
    assert not is_open(store, at(2026, 2, 16, 11))  # 除夕: its own exception closes it
    assert not is_open(store, at(2026, 2, 17, 11)) and is_open(store, at(2026, 2, 17, 12))
    # A repair center's own exception opens it on a public holiday.
    center = _weekdays_9_to_18(exceptions=[(dt.date(2026, 10, 3), False, T(10), T(14))])
    assert is_open(center, at(2026, 10, 3, 10)) and not is_open(center, at(2026, 10, 2, 10))


def test_overnight_hours_count_past_midnight_and_belong_to_the_day_they_open():
    bar = calendar_build(
        weekly=[(4, T(20), T(2))],  # Fridays 20:00 to Saturday 02:00
        exceptions=[(dt.date(2025, 3, 8), True, None, None)],  # the Saturday closed: Friday's night still runs
        opens_on_public_holidays=True,
    )
    assert add_business_minutes(bar, at(2025, 3, 7, 23), 150) == at(2025, 3, 8, 1, 30)
    assert add_business_minutes(bar, at(2025, 3, 7, 23), 200) == at(2025, 3, 14, 20, 20)
    assert is_open(bar, at(2025, 3, 8, 1, 59)) and not is_open(bar, at(2025, 3, 8, 2))


def test_a_target_ending_at_closing_time_is_due_at_closing_not_next_morning():
    cal = _weekdays_9_to_18()
    assert add_business_minutes(cal, at(2025, 3, 3, 17), 60) == at(2025, 3, 3, 18)
    assert add_business_minutes(cal, at(2025, 3, 3, 17, 0, 30), 60) == at(2025, 3, 4, 9, 0, 30)
    assert add_business_minutes(cal, at(2025, 3, 3, 20, 55), 30) == at(2025, 3, 4, 9, 30)


def test_no_weekly_hours_is_wall_clock_time():
    cal = calendar_build(weekly=[])
    start = at(2026, 2, 17, 3, 4, 5)
    assert add_business_minutes(cal, start, 600) == start + dt.timedelta(minutes=600)
    assert business_minutes_between(cal, start, start + dt.timedelta(days=3)) == 3 * 1440


def test_the_cache_holds_only_the_source_values():
    cal = _weekdays_9_to_18()
    add_business_minutes(cal, at(2026, 1, 5, 9), 10_000)  # compiles a window
    copy = pickle.loads(pickle.dumps(cal))
    assert len(pickle.dumps(cal)) < 600
    assert add_business_minutes(copy, at(2026, 9, 30, 17), 120) == at(2026, 10, 8, 10)


def test_a_center_closed_for_good_raises_instead_of_looping():
    from centers.calendar import CalendarExhausted

    closed = calendar_build(
        weekly=[(0, T(9), T(10))],
        exceptions=[(dt.date(2026, 1, 5) + dt.timedelta(weeks=w), True, None, None) for w in range(500)],
        opens_on_public_holidays=True,  # else the make-up Saturdays open it with Monday's hours
    )
    with pytest.raises(CalendarExhausted):
        add_business_minutes(closed, at(2026, 1, 5, 8), 60)
