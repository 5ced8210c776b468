"""The centers list (and nearest) API: each center is rendered once per version and language, "open now"
comes from the cached business calendars, and a write of a center, its hours or exceptions shows at once.

The writes bump the versions in ``transaction.on_commit``; ``django_capture_on_commit_callbacks(execute=True)``
plays the commit (tests run inside a transaction).
"""

import datetime as dt

import pytest
from django.utils import timezone

from centers import selectors, services
from tests.factories.booking import local, open_center

pytestmark = pytest.mark.django_db

URL = "/api/v1/centers/"


@pytest.fixture
def center(db):
    return open_center(name="List Center", opens=dt.time(9), closes=dt.time(18))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _item(api_client, **params):
    (item,) = api_client.get(URL, {"page_size": 5, **params}).json()["results"]
    return item


def test_new_hours_show_in_the_list_at_once(api_client, center, commit):
    assert _item(api_client)["opening_hours"][0]["closes"] == "18:00"
    with commit():
        services.opening_hours_set(center_id=center.pk, weekday=0, intervals=[(dt.time(9), dt.time(21))])
    assert _item(api_client)["opening_hours"][0]["closes"] == "21:00"


def test_a_renamed_center_shows_in_the_list_at_once(api_client, center, commit):
    assert _item(api_client)["name"] == "List Center"
    with commit():
        services.center_update(center_id=center.pk, name="Renamed List Center")
    assert _item(api_client)["name"] == "Renamed List Center"


def test_a_closed_day_shows_as_closed_now_at_once(api_client, center, commit, monkeypatch):
    day = timezone.localdate()
    monkeypatch.setattr(timezone, "now", lambda: local(day, 10))
    assert _item(api_client)["is_open_now"] is True
    with commit():
        services.opening_exception_set(center_id=center.pk, day=day, closed=True)
    assert _item(api_client)["is_open_now"] is False


def test_open_now_is_the_clock_s_on_cached_rows(api_client, center, monkeypatch, django_assert_num_queries):
    day = dt.date(2026, 11, 12)  # an ordinary Thursday
    monkeypatch.setattr(timezone, "now", lambda: local(day, 10))
    assert _item(api_client)["is_open_now"] is True
    monkeypatch.setattr(timezone, "now", lambda: local(day, 18))
    with django_assert_num_queries(1):  # the page alone: rows and calendar cached
        assert _item(api_client)["is_open_now"] is False


def test_the_distance_is_the_request_s_on_cached_rows(api_client, center):
    near = _item(api_client, near=f"{center.lat},{center.lng}")
    farther = _item(api_client, near=f"{center.lat + 0.01},{center.lng}")
    assert near["distance_km"] == 0.0
    assert farther["distance_km"] == pytest.approx(1.112, abs=0.001)
    assert {k: v for k, v in near.items() if k != "distance_km"} == {
        k: v for k, v in farther.items() if k != "distance_km"
    }


@pytest.mark.parametrize(
    "at",
    [
        (dt.date(2026, 11, 12), 1, 0),  # the night center's 20:00-02:00 of yesterday
        (dt.date(2026, 11, 12), 8, 59),
        (dt.date(2026, 11, 12), 9, 0),
        (dt.date(2026, 11, 12), 17, 59),
        (dt.date(2026, 11, 12), 18, 0),
        (dt.date(2026, 10, 1), 10, 0),  # National Day: closed unless it opens on public holidays
        (dt.date(2026, 9, 27), 10, 0),  # a make-up working Sunday (调休)
    ],
)
def test_open_now_from_the_calendars_agrees_with_the_sql_twin(api_client, center, monkeypatch, at):
    night = open_center(name="Night", opens=dt.time(20), closes=dt.time(2))
    flagship = open_center(name="Flagship", opens=dt.time(10), closes=dt.time(22), opens_on_public_holidays=True)
    when = local(*at)
    monkeypatch.setattr(timezone, "now", lambda: when)
    items = {i["code"]: i["is_open_now"] for i in api_client.get(URL, {"page_size": 10}).json()["results"]}
    sql = {c.code: c.is_open_now for c in selectors.centers_search(at=when)}
    assert items == sql
    assert set(items) == {center.code, night.code, flagship.code}


def test_the_open_now_filter_still_filters_in_sql(api_client, center, monkeypatch):
    closed = open_center(name="Morning only", opens=dt.time(7), closes=dt.time(9))
    monkeypatch.setattr(timezone, "now", lambda: local(dt.date(2026, 11, 12), 10))
    codes = [i["code"] for i in api_client.get(URL, {"open_now": "true"}).json()["results"]]
    assert codes == [center.code] and closed.code not in codes


def test_a_row_read_before_a_write_is_not_cached_under_the_new_version(center, commit):
    # The page was read (on a lagging replica, or just before the write); the write committed and set the
    # new version; the row rendered now must be the written one, not the page's.
    from centers.api.serializers import CenterSerializer

    stale = selectors.centers_search().get(pk=center.pk)
    with commit():
        services.center_update(center_id=center.pk, name="Written After The Page")
    (row,) = selectors.centers_rendered(
        centers=[stale], kind="test", render=lambda rows: [dict(CenterSerializer(r).data) for r in rows]
    )
    assert row["name"] == "Written After The Page"
