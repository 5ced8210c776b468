"""Opening hours: weekly hours, lunch breaks, dated exceptions, local time (Asia/Shanghai)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from centers.models import ServiceCenter
from centers.selectors import center_hours_on, center_is_open, centers_search, with_hours
from tests.factories.centers import OpeningExceptionFactory, ServiceCenterFactory, weekly_hours

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
MONDAY = dt.date(2026, 12, 7)
SUNDAY = dt.date(2026, 12, 13)


def at(day, hh, mm=0, tz=SH):
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=tz)


@pytest.fixture
def center():
    c = ServiceCenterFactory()
    # Mon-Fri with a lunch break, Saturday straight, Sunday closed.
    weekly_hours(c, [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))], days=range(5))
    weekly_hours(c, [(dt.time(10), dt.time(16))], days=[5])
    return c


def test_weekly_hours_with_lunch_break(center):
    assert center_hours_on(center=center, day=MONDAY) == [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))]
    assert center_hours_on(center=center, day=SUNDAY) == []
    assert not center_is_open(center=center, at=at(MONDAY, 8, 59))
    assert center_is_open(center=center, at=at(MONDAY, 9, 0))
    assert center_is_open(center=center, at=at(MONDAY, 11, 59))
    assert not center_is_open(center=center, at=at(MONDAY, 12, 30))  # lunch
    assert center_is_open(center=center, at=at(MONDAY, 13, 0))
    assert not center_is_open(center=center, at=at(MONDAY, 18, 0))  # closes at 18:00 sharp
    assert not center_is_open(center=center, at=at(SUNDAY, 11))


def test_exception_closes_a_normal_day(center):
    OpeningExceptionFactory(center=center, date=MONDAY, closed=True, reason="Inventory")
    assert center_hours_on(center=center, day=MONDAY) == []
    assert not center_is_open(center=center, at=at(MONDAY, 10))
    # the next day is untouched
    assert center_is_open(center=center, at=at(MONDAY + dt.timedelta(days=1), 10))


def test_special_hours_open_a_closed_day_and_replace_the_lunch_break(center):
    OpeningExceptionFactory(center=center, date=SUNDAY, closed=False, opens=dt.time(10), closes=dt.time(16))
    OpeningExceptionFactory(center=center, date=MONDAY, closed=False, opens=dt.time(11), closes=dt.time(15))
    assert center_is_open(center=center, at=at(SUNDAY, 10))
    assert not center_is_open(center=center, at=at(SUNDAY, 16))
    assert center_is_open(center=center, at=at(MONDAY, 12, 30))  # no lunch break on the special day
    assert not center_is_open(center=center, at=at(MONDAY, 9, 30))  # weekly hours do not apply


def test_time_is_judged_in_shanghai_whatever_zone_is_given(center):
    # 02:00 UTC Monday = 10:00 in Shanghai: open
    assert center_is_open(center=center, at=at(MONDAY, 2, tz=UTC))
    # 11:00 UTC Monday = 19:00 in Shanghai: closed
    assert not center_is_open(center=center, at=at(MONDAY, 11, tz=UTC))
    # Sunday 21:00 in New York = Monday 10:00 in Shanghai: open
    assert center_is_open(center=center, at=at(SUNDAY - dt.timedelta(days=7), 21, tz=ZoneInfo("America/New_York")))
    # Monday 23:30 UTC = Tuesday 07:30 in Shanghai: closed (not yet open), though Monday 23:30 means nothing here
    assert not center_is_open(center=center, at=at(MONDAY, 23, 30, tz=UTC))


def test_inactive_center_is_never_open(center):
    ServiceCenter.objects.filter(pk=center.pk).update(active=False)
    center.refresh_from_db()
    assert not center_is_open(center=center, at=at(MONDAY, 10))


def test_prefetched_hours_need_no_query(center, django_assert_num_queries):
    c = with_hours(ServiceCenter.objects.filter(pk=center.pk)).prefetch_related("opening_exceptions").get()
    with django_assert_num_queries(0):
        assert center_is_open(center=c, at=at(MONDAY, 10))
        assert center_hours_on(center=c, day=SUNDAY) == []


@pytest.mark.parametrize("day", [MONDAY, SUNDAY - dt.timedelta(days=1), SUNDAY])
def test_sql_open_state_agrees_with_python(center, day):
    other = ServiceCenterFactory()
    weekly_hours(other, [(dt.time(8), dt.time(20))])
    OpeningExceptionFactory(center=other, date=MONDAY, closed=False, opens=dt.time(12), closes=dt.time(13))
    OpeningExceptionFactory(center=center, date=SUNDAY, closed=False, opens=dt.time(9), closes=dt.time(11))
    for minutes in range(0, 24 * 60, 30):
        moment = at(day, minutes // 60, minutes % 60)
        sql = {c.pk: c.is_open_now for c in centers_search(at=moment)}
        for c in (center, other):
            assert sql[c.pk] == center_is_open(center=c, at=moment), (c.code, moment)


# --- "open now" follows the national calendar and overnight hours, in SQL and in Python alike ---------------


@pytest.fixture
def golden_week_centers():
    """Centers whose hours meet the hard cases between 2026-09-30 and 2026-10-11: the National Day holidays
    (10-01..10-07), the make-up working Saturday 10-10, overnight intervals and a closed day after one."""
    lunch = ServiceCenterFactory(code="T-LUNCH")  # Mon-Fri with lunch, own Saturday hours
    weekly_hours(lunch, [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))], days=range(5))
    weekly_hours(lunch, [(dt.time(10), dt.time(16))], days=[5])
    weekdays = ServiceCenterFactory(code="T-WEEKDAYS")  # no weekend hours: works the make-up Saturday
    weekly_hours(weekdays, [(dt.time(9), dt.time(18))], days=range(5))
    store = ServiceCenterFactory(code="T-STORE", opens_on_public_holidays=True)  # open every night, holidays too
    weekly_hours(store, [(dt.time(20), dt.time(2))])
    night = ServiceCenterFactory(code="T-NIGHT")  # overnight on weekdays, closed on holidays
    weekly_hours(night, [(dt.time(20), dt.time(2))], days=range(5))
    OpeningExceptionFactory(center=night, date=dt.date(2026, 10, 9), closed=True, reason="Stocktake")
    OpeningExceptionFactory(
        center=night, date=dt.date(2026, 10, 3), closed=False, opens=dt.time(10), closes=dt.time(15)
    )
    closed_for_good = ServiceCenterFactory(code="T-INACTIVE", active=False)
    weekly_hours(closed_for_good, [(dt.time(0), dt.time(23, 59))])
    return [lunch, weekdays, store, night, closed_for_good]


_BOUNDARIES = (0, 2, 9, 10, 12, 13, 15, 16, 18, 20)
_TIMES = sorted(
    {(h, 0) for h in _BOUNDARIES}
    | {((h - 1) % 24, 59) for h in _BOUNDARIES}
    | {(1, 0), (3, 0), (11, 0), (14, 0), (22, 0)}
)


def _moments():
    day = dt.date(2026, 9, 30)
    while day <= dt.date(2026, 10, 11):
        # Each opening and closing of the fixture's hours from both sides, and a moment inside each stretch.
        for hh, mm in _TIMES:
            yield at(day, hh, mm)
        day += dt.timedelta(days=1)


def test_open_now_in_sql_and_python_agrees_with_the_business_calendar_minute_by_minute(golden_week_centers):
    from centers import calendar
    from centers.selectors import center_calendar

    cals = {c.code: center_calendar(center=c) for c in golden_week_centers}
    codes = set(cals)
    # Loaded once with their hours and exceptions: the Python side then reads no database per moment.
    loaded = list(with_hours(ServiceCenter.objects.filter(code__in=codes)).prefetch_related("opening_exceptions"))
    mismatches = []
    open_counts = dict.fromkeys(codes, 0)
    for moment in _moments():
        expected = {c.code for c in golden_week_centers if c.active and calendar.is_open(cals[c.code], moment)}
        in_sql = {c.code for c in centers_search(open_now=True, at=moment) if c.code in codes}
        in_python = {c.code for c in loaded if center_is_open(center=c, at=moment)}
        if not (expected == in_sql == in_python):
            mismatches.append((moment.isoformat(), sorted(expected), sorted(in_sql), sorted(in_python)))
        for code in expected:
            open_counts[code] += 1
    assert mismatches == []
    # The comparison is not vacuous: every active center opens in the window, the inactive one never does.
    assert all(open_counts[c] > 0 for c in ("T-LUNCH", "T-WEEKDAYS", "T-STORE", "T-NIGHT"))
    assert open_counts["T-INACTIVE"] == 0


@pytest.mark.parametrize(
    ("code", "moment", "is_open"),
    [
        ("T-WEEKDAYS", at(dt.date(2026, 10, 2), 10), False),  # National Day (a Friday): closed
        ("T-WEEKDAYS", at(dt.date(2026, 10, 10), 10), True),  # make-up Saturday: weekday hours
        ("T-LUNCH", at(dt.date(2026, 10, 10), 9, 30), False),  # it keeps its own Saturday hours (from 10:00)
        ("T-STORE", at(dt.date(2026, 10, 2), 1, 30), True),  # the night of 10-01 runs past midnight
        ("T-NIGHT", at(dt.date(2026, 10, 9), 1, 30), True),  # Thursday's night is not cut by Friday's closure
        ("T-NIGHT", at(dt.date(2026, 10, 9), 21), False),  # Friday itself is closed
        ("T-NIGHT", at(dt.date(2026, 10, 3), 11), True),  # special hours on a holiday win
        ("T-NIGHT", at(dt.date(2026, 10, 2), 1, 30), False),  # 10-01 is a holiday: no night began then
    ],
)
def test_open_now_cases_a_customer_would_check(golden_week_centers, code, moment, is_open):
    found = {c.code for c in centers_search(open_now=True, at=moment)}
    assert (code in found) is is_open
    center = with_hours(ServiceCenter.objects.filter(code=code)).get()
    assert center_is_open(center=center, at=moment) is is_open
