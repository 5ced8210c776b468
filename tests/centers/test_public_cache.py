"""The cached public data of a center: served from the cache, and a change shows at once.

The writes bump the center's cache version in ``transaction.on_commit``; tests run inside a
transaction, so ``django_capture_on_commit_callbacks(execute=True)`` plays the commit.
"""

import datetime as dt

import pytest
from django.utils import timezone

from centers import selectors, services
from centers.models import OpeningException
from tests.cachecalls import record_cache_calls
from tests.factories.booking import local, open_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def center(db):
    return open_center(name="Cache Center", opens=dt.time(9), closes=dt.time(18))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_center_detail_is_served_from_the_cache(client, center, django_assert_num_queries):
    with django_assert_num_queries(4):
        first = client.get(f"/api/v1/centers/{center.code}/").json()
    with django_assert_num_queries(0):
        second = client.get(f"/api/v1/centers/{center.code}/").json()
    assert first == second
    assert len(first["opening_hours"]) == 7


def test_is_open_now_is_recomputed_on_every_read_of_the_cached_center(center, django_assert_num_queries):
    day = timezone.localdate()
    assert selectors.center_public_detail(code=center.code, at=local(day, 10)).is_open_now is True
    with django_assert_num_queries(0):
        assert selectors.center_public_detail(code=center.code, at=local(day, 19)).is_open_now is False
        assert selectors.center_public_detail(code=center.code, at=local(day, 8, 59)).is_open_now is False
        assert selectors.center_public_detail(code=center.code, at=local(day, 9)).is_open_now is True


def test_the_api_serializes_a_center_once_per_version_and_language(client, center, commit, monkeypatch):
    from centers.api import serializers

    calls = []
    real = serializers.CenterDetailSerializer.to_representation

    def counting(self, instance):
        calls.append(instance.code)
        return real(self, instance)

    monkeypatch.setattr(serializers.CenterDetailSerializer, "to_representation", counting)
    url = f"/api/v1/centers/{center.code}/"
    day = timezone.localdate() + dt.timedelta(days=3)
    with commit():
        services.opening_exception_set(center_id=center.pk, day=day, closed=True)
        OpeningException.objects.filter(center=center, date=day).update(reason_code="public_holiday")
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json() == english
    assert len(calls) == 1  # the second answer was the cached rendering
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert len(calls) == 2  # not the English rendering
    assert chinese["holiday_hours"][0]["reason"] != english["holiday_hours"][0]["reason"]
    with commit():
        services.center_update(center_id=center.pk, name="Renamed Center")
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["name"] == "Renamed Center"
    assert len(calls) == 3


def test_the_cached_api_rendering_keeps_is_open_now_live(client, center, monkeypatch):
    url = f"/api/v1/centers/{center.code}/"
    day = timezone.localdate()
    monkeypatch.setattr(timezone, "now", lambda: local(day, 10))
    assert client.get(url).json()["is_open_now"] is True
    monkeypatch.setattr(timezone, "now", lambda: local(day, 19))
    assert client.get(url).json()["is_open_now"] is False


# The exception (9-11) replaces the weekly 13-18 of that day.
@pytest.mark.parametrize("hour,expected", [(10, True), (12, False), (17, False)])
def test_cached_is_open_now_agrees_with_the_sql_twin(center, commit, hour, expected):
    day = timezone.localdate() + dt.timedelta(days=2)
    with commit():
        services.opening_exception_set(center_id=center.pk, day=day, closed=False, opens=dt.time(9), closes=dt.time(11))
        services.opening_hours_set(center_id=center.pk, weekday=day.weekday(), intervals=[(dt.time(13), dt.time(18))])
    at = local(day, hour)
    sql = selectors.centers_search(at=at).get(pk=center.pk).is_open_now
    selectors.center_public_detail(code=center.code, at=at)  # fills the cache
    cached = selectors.center_public_detail(code=center.code, at=at).is_open_now
    assert cached == sql == expected


def test_a_change_of_hours_shows_at_once(client, center, commit):
    url = f"/api/v1/centers/{center.code}/"
    assert client.get(url).json()["opening_hours"][0] == {"weekday": 0, "opens": "09:00", "closes": "18:00"}
    with commit():
        services.opening_hours_set(center_id=center.pk, weekday=0, intervals=[(dt.time(8), dt.time(12))])
    assert client.get(url).json()["opening_hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "12:00"}


def test_a_holiday_shows_at_once_on_the_center_page_and_the_tracking_hours(client, center, commit):
    day = timezone.localdate() + dt.timedelta(days=1)
    url = f"/api/v1/centers/{center.code}/"
    assert client.get(url).json()["holiday_hours"] == []
    week = selectors.center_week_hours(center=center)
    assert week[1] == {"day": day, "hours": [(dt.time(9), dt.time(18))]}
    with commit():
        services.opening_exception_set(center_id=center.pk, day=day, closed=True, reason="Spring Festival")
    assert client.get(url).json()["holiday_hours"] == [
        {
            "date": day.isoformat(),
            "closed": True,
            "opens": None,
            "closes": None,
            "reason": "Spring Festival",
            "reason_code": "",
        }
    ]
    assert selectors.center_week_hours(center=center)[1] == {"day": day, "hours": []}
    assert f"{day:%m-%d}" in client.get(f"/centers/{center.code}/").content.decode()


def test_the_tracking_pages_hours_table_is_rendered_once_and_follows_a_change(
    center, commit, django_assert_num_queries
):
    from django.utils import translation

    day = timezone.localdate() + dt.timedelta(days=1)
    calls = []

    def render(week):
        calls.append(week)
        return "|".join(f"{d['day']}={d['hours']}" for d in week)

    with translation.override("en"):
        first = selectors.center_week_rendered(center=center, render=render)
        with django_assert_num_queries(0):
            assert selectors.center_week_rendered(center=center, render=render) == first
        assert len(calls) == 1 and f"{day}=[(datetime.time(9, 0), datetime.time(18, 0))]" in first
        with commit():
            services.opening_exception_set(center_id=center.pk, day=day, closed=True, reason="Spring Festival")
        assert f"{day}=[]" in selectors.center_week_rendered(center=center, render=render)
        assert len(calls) == 2
    with translation.override("zh-hans"), django_assert_num_queries(0):  # each language its own table (day
        # names), from the week the English table was rendered from: read with the HTML, not from the database
        selectors.center_week_rendered(center=center, render=render)
    assert len(calls) == 3 and calls[2] == calls[1]


def test_a_rename_and_a_deactivation_show_at_once(client, center, commit):
    url = f"/api/v1/centers/{center.code}/"
    assert client.get(url).json()["name"] == "Cache Center"
    with commit():
        services.center_update(center_id=center.pk, name="Renamed Center")
    assert client.get(url).json()["name"] == "Renamed Center"
    assert "Renamed Center" in client.get(f"/centers/{center.code}/").content.decode()
    with commit():
        services.center_deactivate(center_id=center.pk)
    assert client.get(url).status_code == 404
    assert client.get(f"/centers/{center.code}/").status_code == 404


def test_new_service_days_show_at_once(client, center, commit):
    url = f"/api/v1/centers/{center.code}/"
    assert client.get(url).json()["service_days"] == []
    today = timezone.localdate()
    year, month = (today.year + (today.month == 12), today.month % 12 + 1)
    with commit():
        services.service_days_generate(year=year, month=month)
    assert len(client.get(url).json()["service_days"]) == 3


def test_the_bump_waits_for_the_commit(center, django_capture_on_commit_callbacks):
    """Inside the writing transaction nothing changes: a reader then still caches the OLD rows,
    but under the old version, which the bump after the commit makes unreachable."""
    before = selectors.center_cache_version(code=center.code)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.opening_hours_set(center_id=center.pk, weekday=0, intervals=[])
        assert selectors.center_cache_version(code=center.code) == before
    assert len(callbacks) == 1
    callbacks[0]()
    assert selectors.center_cache_version(code=center.code) != before


def test_an_evicted_version_never_comes_back_as_an_old_one(center):
    from django.core.cache import cache

    first = selectors.center_cache_version(code=center.code)
    cache.delete(selectors.center_version_key(center.code))  # e.g. Redis evicted it
    assert selectors.center_cache_version(code=center.code) != first


def test_admin_save_of_the_hours_inlines_bumps_the_version(center, commit):
    """The admin saves the hours/exceptions inlines itself (not through the services)."""
    from django.contrib.admin.sites import site

    from centers.models import ServiceCenter

    before = selectors.center_cache_version(code=center.code)

    class _Form:
        instance = center

        def save_m2m(self):
            pass

    with commit():
        site._registry[ServiceCenter].save_related(None, _Form(), [], True)
    assert selectors.center_cache_version(code=center.code) != before


def test_an_unknown_code_leaves_no_key_in_the_cache(client, center):
    """Anonymous callers cannot fill Redis with versions of made-up center codes (one key per request)."""
    from django.core.cache import cache

    client.get(f"/api/v1/centers/{center.code}/")  # a real center: its version exists from now on
    assert cache.get(selectors.center_version_key(center.code)) is not None
    for code in ("NO-SUCH-1", "NO-SUCH-2", "x" * 200):
        assert client.get(f"/api/v1/centers/{code}/").status_code == 404
        assert cache.get(selectors.center_version_key(code)) is None
    # Control: the real center's version stayed.
    assert cache.get(selectors.center_version_key(center.code)) is not None


def test_an_unknown_board_code_leaves_no_key_in_the_cache(client, center):
    from django.core.cache import cache

    assert client.get("/board/NO-SUCH-9/").status_code == 404
    assert cache.get(selectors.center_version_key("NO-SUCH-9")) is None


@pytest.mark.parametrize("code", ["SC-SH-001", "sc_1.a"])
def test_a_plain_code_is_its_own_cache_key(code):
    assert selectors.cache_code(code) == code


@pytest.mark.parametrize("code", ["SC 1", "上海-1", "\x00\r\n", "a:b", "x" * 33, "\udc80"])
def test_any_other_code_becomes_a_digest_a_cache_accepts(code, recwarn):
    key = selectors.cache_code(code)
    assert key.startswith("h") and len(key) == 25 and key.isascii() and key.isalnum()
    assert selectors.cache_code(code + "x") != key
    if code.isprintable() and code.isascii():  # (a NUL never reaches a view: servicehub.nul)
        selectors.center_public_detail(code=code[:32])  # no CacheKeyWarning (memcached would refuse the key)
    assert not [w for w in recwarn.list if "CacheKeyWarning" in w.category.__name__]


def test_the_cached_center_is_closed_on_a_national_holiday_like_the_sql_twin(db):
    # Every day 9-18, not a flagship: closed through National Day (1-7 October 2026), open on 8 October.
    center = open_center(name="Holiday Center", opens=dt.time(9), closes=dt.time(18))
    assert center.opens_on_public_holidays is False
    for day, expected in ((dt.date(2026, 10, 1), False), (dt.date(2026, 10, 8), True)):
        at = local(day, 10)
        assert selectors.centers_search(at=at).get(pk=center.pk).is_open_now is expected
        assert selectors.center_public_detail(code=center.code, at=at).is_open_now is expected, day


def test_the_cached_center_is_open_in_the_small_hours_of_an_overnight_interval(db, commit):
    center = open_center(name="Night Center", opens=dt.time(20), closes=dt.time(2))  # 20:00-02:00 every day
    day = dt.date(2026, 11, 12)
    assert selectors.center_public_detail(code=center.code, at=local(day, 1)).is_open_now is True
    assert selectors.center_public_detail(code=center.code, at=local(day, 3)).is_open_now is False
    with commit():  # yesterday closed by an exception: nothing carries over into today's small hours
        services.opening_exception_set(center_id=center.pk, day=day - dt.timedelta(days=1), closed=True)
    detail = selectors.center_public_detail(code=center.code, at=local(day, 1))
    assert detail.is_open_now is False
    assert selectors.centers_search(at=local(day, 1)).get(pk=center.pk).is_open_now is False  # the SQL twin agrees
    assert [e.date for e in detail.upcoming_exceptions] == []  # yesterday's is not "upcoming"


def test_a_warm_center_detail_is_one_cache_read_and_an_entry_of_another_version_is_read_again(
    client, center, monkeypatch, django_assert_num_queries
):
    """The version, the center and its serialized answer in one get_many (beside the throttle's history); an
    entry written under another version is not served (the control: under the current one it is)."""
    from django.core.cache import cache

    url = f"/api/v1/centers/{center.code}/"
    client.get(url)
    calls = record_cache_calls(monkeypatch, cache, ("get", "get_many", "set", "set_many", "add"))
    assert client.get(url).json()["name"] == "Cache Center"
    assert (
        calls.names.count("get_many") == 1 and calls.names.count("get") == 1
    )  # the throttle's history: its get and set
    monkeypatch.undo()
    found = selectors.center_public_detail(code=center.code, rendered=("api",))
    key = f"{found.public_cache_key}:api:en"
    version, data = cache.get(key)
    cache.set(key, (version, {**data, "name": "From The Cache"}), 60)
    with django_assert_num_queries(0):
        assert client.get(url).json()["name"] == "From The Cache"  # the control: the cache is what is served
    cache.set(key, ("another-version", {**data, "name": "Stale"}), 60)
    stale_center = cache.get(found.public_cache_key)[1]
    cache.set(found.public_cache_key, ("another-version", stale_center), 60)
    with django_assert_num_queries(4):  # read again from the database, and cached again under the version
        assert client.get(url).json()["name"] == "Cache Center"
    assert cache.get(key)[0] == cache.get(found.public_cache_key)[0] == version


def test_the_center_pages_cached_body_follows_the_language_and_open_now_the_clock(client, center, monkeypatch):
    url = f"/centers/{center.code}/"
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<h2>Opening hours</h2>" in en and "<h2>Opening hours</h2>" not in zh
    assert "&lt;" not in en.split("<h1>")[1]  # the cached HTML is not escaped again
    day = timezone.localdate()
    monkeypatch.setattr(selectors, "local_now", lambda at=None: local(day, 10))
    assert "Open now" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    monkeypatch.setattr(selectors, "local_now", lambda at=None: local(day, 20))
    assert "Closed now" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
