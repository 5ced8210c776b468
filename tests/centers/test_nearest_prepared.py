"""The prepared nearest page (``centers_nearest_page``) gives what ``centers_search`` paged gives."""

import random

import pytest
from django.db.models import Count, Window

from centers import selectors
from tests.factories.centers import ServiceCenterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scattered():
    rng = random.Random(7)
    centers = [
        ServiceCenterFactory(lat=31.2 + rng.uniform(-0.6, 0.6), lng=121.4 + rng.uniform(-0.6, 0.6)) for _ in range(40)
    ]
    # two at the very same spot (a tie broken by code), one inactive, one far away, one at the edge of the globe
    ServiceCenterFactory(lat=31.25, lng=121.45)
    ServiceCenterFactory(lat=31.25, lng=121.45)
    ServiceCenterFactory(lat=31.26, lng=121.44, active=False)
    ServiceCenterFactory(lat=39.9, lng=116.4)
    ServiceCenterFactory(lat=89.9, lng=-179.9)
    return centers


def _row(c):
    return (c.pk, c.code, round(c.distance_km, 9), c._total, c.region.pk, c.name)


def _queryset_page(lat, lng, radius_km, offset, limit):
    qs = selectors.centers_search(near=(lat, lng), radius_km=radius_km, annotate_open=False)
    return list(qs.annotate(_total=Window(Count("pk")))[offset : offset + limit])


@pytest.mark.parametrize(
    "lat, lng, radius_km, offset, limit",
    [
        (31.25, 121.45, 30, 0, 10),
        (31.25, 121.45, 30, 10, 10),
        (31.25, 121.45, 30, 40, 10),  # past the last (and past the prepared pages: built each time)
        (31.25, 121.45, 30, 3, 7),  # a page size that is not prepared
        (31.25, 121.45, 0.001, 0, 10),  # the tie at one spot
        (31.0, 121.0, 200, 0, 100),
        (39.9, 116.4, 5, 0, 10),
        (89.95, 0.0, 500, 0, 10),  # the box spans every longitude near the pole
        (-33.9, 151.2, 50, 0, 10),  # nothing there
    ],
)
def test_the_same_rows_in_the_same_order_with_the_same_count(scattered, lat, lng, radius_km, offset, limit):
    expected = [_row(c) for c in _queryset_page(lat, lng, radius_km, offset, limit)]
    got = selectors.centers_nearest_page(lat=lat, lng=lng, radius_km=radius_km, offset=offset, limit=limit)
    assert [_row(c) for c in got] == expected
    if (lat, lng, radius_km, offset) == (31.25, 121.45, 30, 0):
        assert len(expected) == 10 and expected[0][3] > 10  # the control: a real page of a bigger count


def test_one_query_whatever_the_point(scattered, django_assert_num_queries):
    rng = random.Random(3)
    for _ in range(5):
        with django_assert_num_queries(1):  # the region came with the row
            rows = selectors.centers_nearest_page(
                lat=31.2 + rng.uniform(-0.3, 0.3), lng=121.4 + rng.uniform(-0.3, 0.3), radius_km=50, offset=0, limit=10
            )
            assert rows and all(r.region.name for r in rows)


def test_the_api_answers_the_plain_nearest_search_from_it(api_client, scattered, monkeypatch):
    calls = []
    real = selectors.centers_nearest_page
    monkeypatch.setattr(selectors, "centers_nearest_page", lambda **kw: (calls.append(kw), real(**kw))[1])
    body = api_client.get("/api/v1/centers/", {"near": "31.25,121.45", "page_size": 5, "page": 2}).json()
    assert calls == [{"lat": 31.25, "lng": 121.45, "radius_km": selectors_default_radius(), "offset": 5, "limit": 5}]
    expected = _queryset_page(31.25, 121.45, selectors_default_radius(), 5, 5)
    assert [r["code"] for r in body["results"]] == [c.code for c in expected]
    assert body["count"] == expected[0]._total > 5 and body["previous"]
    assert (body["next"] is not None) == (body["count"] > 10)
    # a filter beside near goes the general way
    api_client.get("/api/v1/centers/", {"near": "31.25,121.45", "kind": "service_center"})
    assert len(calls) == 1


def selectors_default_radius():
    from centers.api.serializers import DEFAULT_RADIUS_KM

    return DEFAULT_RADIUS_KM


def test_only_the_first_pages_of_the_usual_sizes_are_prepared(scattered):
    selectors._NEAREST_PAGES.clear()
    for offset, limit in ((0, 10), (10, 10), (20, 10), (30, 10), (0, 7), (500, 100)):
        selectors.centers_nearest_page(lat=31.25, lng=121.45, radius_km=30, offset=offset, limit=limit)
    assert sorted(k[1:] for k in selectors._NEAREST_PAGES) == [(0, 10), (10, 10), (20, 10)]
