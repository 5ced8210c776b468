"""The search by a place (/centers/?q=黄浦区) is cached under the directory version: served with no query
the second time, and any write of any center shows on the next search; "open now" stays the clock's.

The writes bump the versions in ``transaction.on_commit``; tests run inside a transaction, so
``django_capture_on_commit_callbacks(execute=True)`` plays the commit.
"""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from centers import selectors, services
from centers.choices import CenterKind
from centers.models import Region
from tests.factories.booking import local, open_center
from web.find import find_places

pytestmark = pytest.mark.django_db

COUNTY = "黄浦区"


@pytest.fixture
def center(db):
    return open_center(name="Huangpu Center", opens=dt.time(9), closes=dt.time(18))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _codes(result):
    return [c.code for c in result.places]


def test_a_search_by_a_region_name_is_served_from_the_cache_the_second_time(client, center, django_assert_num_queries):
    with django_assert_num_queries(4):  # the region by its name, the centers, their hours, their exceptions
        first = client.get("/centers/", {"q": COUNTY})
    with django_assert_num_queries(0):
        second = client.get("/centers/", {"q": COUNTY})
    assert center.name in first.text
    token = re.compile(r'(X-CSRFToken": "|csrfmiddlewaretoken" value=")[^"]+')  # masked anew on every response
    assert token.sub("", first.text) == token.sub("", second.text)


def test_a_new_center_in_the_region_shows_on_the_next_search(center, commit):
    assert _codes(find_places(q=COUNTY)) == [center.code]
    county = Region.objects.get(name=COUNTY)
    with commit():
        services.center_create(
            code="SC-NEW",
            name="New Center",
            kind=CenterKind.SERVICE_CENTER,
            region=county,
            address="南京东路 2 号",
            lat=center.lat,
            lng=center.lng + 0.001,
        )
    assert sorted(_codes(find_places(q=COUNTY))) == sorted([center.code, "SC-NEW"])


def test_a_deactivated_center_leaves_the_cached_search_at_once(center, commit):
    assert _codes(find_places(q=COUNTY)) == [center.code]
    with commit():
        services.center_deactivate(center_id=center.pk)
    assert _codes(find_places(q=COUNTY)) == []


def test_new_hours_show_on_the_next_search(center, commit):
    day = timezone.localdate()
    assert find_places(q=COUNTY, at=local(day, 19)).places[0].is_open_now is False
    with commit():
        services.opening_hours_set(center_id=center.pk, weekday=day.weekday(), intervals=[(dt.time(9), dt.time(21))])
    assert find_places(q=COUNTY, at=local(day, 19)).places[0].is_open_now is True


def test_a_closed_day_added_by_staff_shows_on_the_next_search(center, commit):
    day = timezone.localdate()
    assert find_places(q=COUNTY, at=local(day, 10)).places[0].is_open_now is True
    with commit():
        services.opening_exception_set(center_id=center.pk, day=day, closed=True)
    place = find_places(q=COUNTY, at=local(day, 10)).places[0]
    assert place.is_open_now is False
    assert place.next_opening == local(day + dt.timedelta(days=1), 9)


def test_open_now_and_next_opening_are_the_clock_s_on_a_cached_search(center, django_assert_num_queries):
    day = timezone.localdate()
    assert find_places(q=COUNTY, at=local(day, 10)).places[0].is_open_now is True
    with django_assert_num_queries(0):
        evening = find_places(q=COUNTY, at=local(day, 19)).places[0]
        morning = find_places(q=COUNTY, at=local(day, 8, 30)).places[0]
    assert (evening.is_open_now, evening.next_opening) == (False, local(day + dt.timedelta(days=1), 9))
    assert (morning.is_open_now, morning.next_opening) == (False, local(day, 9))


def test_an_overnight_interval_of_yesterday_still_holds_on_a_cached_search(center, commit):
    day = timezone.localdate()
    yesterday = day - dt.timedelta(days=1)
    with commit():
        services.opening_exception_set(
            center_id=center.pk, day=yesterday, closed=False, opens=dt.time(20), closes=dt.time(2)
        )
    find_places(q=COUNTY, at=local(day, 12))  # cached
    assert find_places(q=COUNTY, at=local(day, 1)).places[0].is_open_now is True  # yesterday 20:00-02:00
    assert find_places(q=COUNTY, at=local(day, 3)).places[0].is_open_now is False


def test_the_python_clock_agrees_with_the_sql_annotation(center):
    day = timezone.localdate()
    for hour in (0, 8, 9, 12, 17, 18, 23):
        at = local(day, hour)
        sql = selectors.centers_search(at=at).get(pk=center.pk).is_open_now
        assert find_places(q=COUNTY, at=at).places[0].is_open_now is sql, hour


def test_free_text_and_positions_are_not_cached(center, monkeypatch):
    written = []
    real = cache.set
    monkeypatch.setattr(cache, "set", lambda key, *a, **kw: written.append(key) or real(key, *a, **kw))
    assert _codes(find_places(q="Huangpu Center")) == [center.code]  # a center's name: no region is called that
    assert _codes(find_places(near=(center.lat, center.lng))) == [center.code]
    assert [k for k in written if k.startswith("find:")] == []
    find_places(q=COUNTY)
    assert [k.split(":")[1] for k in written if k.startswith("find:")] == ["named", "region"]


def test_another_region_of_the_same_name_is_named_on_the_cached_page_too(center):
    other_city = Region.objects.create(adcode="650100000000", name="乌鲁木齐市", level="city")  # after Shanghai's
    Region.objects.create(adcode="650104000000", name=COUNTY, level="county", parent=other_city)
    first = find_places(q=COUNTY)
    second = find_places(q=COUNTY)  # cached
    assert second.other_regions == first.other_regions == ["乌鲁木齐市" + COUNTY]
    assert _codes(second) == [center.code]


def test_the_cards_are_rendered_once_a_minute_and_show_the_clock(client, center, monkeypatch, settings):
    settings.LANGUAGE_CODE = "en"
    day = dt.date(2026, 11, 12)
    monkeypatch.setattr(timezone, "now", lambda: local(day, 17, 59))
    assert "Open now" in client.get("/centers/", {"q": COUNTY}, HTTP_ACCEPT_LANGUAGE="en").text
    monkeypatch.setattr(timezone, "now", lambda: local(day, 18))
    page = client.get("/centers/", {"q": COUNTY}, HTTP_ACCEPT_LANGUAGE="en").text
    assert "Closed now" in page and "Open now" not in page


def test_a_renamed_center_shows_on_the_cards_at_once(client, center, commit):
    assert "Huangpu Center" in client.get("/centers/", {"q": COUNTY}).text
    with commit():
        services.center_update(center_id=center.pk, name="Renamed Huangpu Center")
    assert "Renamed Huangpu Center" in client.get("/centers/", {"q": COUNTY}).text


def test_the_cards_are_cached_per_language(client, center):
    english = client.get("/centers/", {"q": COUNTY}, HTTP_ACCEPT_LANGUAGE="en").text
    chinese = client.get("/centers/", {"q": COUNTY}, HTTP_ACCEPT_LANGUAGE="zh-hans").text
    assert "Book a time here" in english and "Book a time here" not in chinese
