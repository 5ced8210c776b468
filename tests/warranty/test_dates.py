"""Property tests of the date conventions (warranty/dates.py): no database needed."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from warranty import dates
from warranty.models import StatutoryPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
sales = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2032, 12, 31), timezones=st.just(dt.UTC))


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), SHANGHAI)


def start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), SHANGHAI)


@given(sold=sales)
def test_the_sale_day_is_the_shanghai_calendar_day(sold):
    assert dates.local_date(sold) == sold.astimezone(SHANGHAI).date()


@given(sold=sales, days=st.integers(min_value=0, max_value=60))
def test_day_n_is_the_last_covered_day(sold, days):
    until = dates.add_days(dates.local_date(sold), days)
    assert dates.covers(until, end_of(until))
    assert not dates.covers(until, start_of(until + dt.timedelta(days=1)))
    assert (until - dates.local_date(sold)).days == days


@given(sold=sales, months=st.integers(min_value=1, max_value=36))
def test_month_periods_land_in_the_right_month_clipped_to_its_end(sold, months):
    start = dates.local_date(sold)
    until = dates.add_months(start, months)
    assert (until.year - start.year) * 12 + (until.month - start.month) == months
    assert until.day == start.day or (until.day < start.day and (until + dt.timedelta(days=1)).day == 1)


@given(sold=sales)
def test_phone_defaults(sold):
    policy = StatutoryPolicy(category="phone")
    day0 = dates.local_date(sold)
    assert policy.return_until(day0) == day0 + dt.timedelta(days=7)
    assert policy.exchange_until(day0) == day0 + dt.timedelta(days=15)
    assert policy.repair_until(day0) == dates.add_months(day0, 12)
    assert policy.repair_until(day0, "battery") == dates.add_months(day0, 6)
