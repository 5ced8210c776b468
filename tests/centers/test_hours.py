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
