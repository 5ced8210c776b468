"""Nearest-centers search: exact against brute-force haversine, safe bounding box, two queries."""

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centers.choices import CenterKind
from centers.geo import EARTH_RADIUS_KM, bounding_box, haversine_km
from centers.models import ServiceCenter
from centers.selectors import centers_nearest
from tests.factories.centers import region_chain


def destination(lat, lng, bearing_deg, distance_km):
    """The point ``distance_km`` from (lat, lng) along ``bearing_deg`` on the sphere."""
    d = distance_km / EARTH_RADIUS_KM
    p1, l1, b = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


def make_sites(points, kind=CenterKind.SERVICE_CENTER, prefix="P"):
    _province, city, county = region_chain()
    objs = [
        ServiceCenter(
            code=f"{prefix}{i:05d}",
            name=f"Site {i}",
            kind=kind,
            region=county,
            city=city,
            province=city.parent,
            address="x",
            lat=lat,
            lng=lng,
            services=["phone"],
        )
        for i, (lat, lng) in enumerate(points)
    ]
    return ServiceCenter.objects.bulk_create(objs)


# --- the bounding box alone (pure Python) ----------------------------------------------


@pytest.mark.parametrize("lat", [0.0, 18.2, 31.23, 45.0, 53.5, 70.0])
@pytest.mark.parametrize("radius", [0.5, 25.0, 200.0, 500.0])
def test_bbox_contains_every_point_of_the_circle(lat, radius):
    box = bounding_box(lat, 100.0, radius)
    for tenth in range(0, 3600, 5):
        plat, plng = destination(lat, 100.0, tenth / 10, radius * (1 - 1e-9))
        assert box.min_lat <= plat <= box.max_lat
        assert box.all_lng or box.min_lng <= plng <= box.max_lng, (tenth / 10, plng, box)


def test_control_naive_longitude_box_would_cut_off_points():
    """Control: the tempting box ``radius / (R cos lat)`` misses points inside the circle at high
    latitude, so the test above can catch that bug."""
    lat, lng, radius = 53.5, 122.0, 500.0  # Mohe, China's north tip
    naive = math.degrees(radius / (EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    missed = [b / 10 for b in range(0, 3600, 5) if abs(destination(lat, lng, b / 10, radius * 0.999)[1] - lng) > naive]
    assert missed, "the naive box should miss some points inside the radius"


def test_bbox_near_the_pole_spans_all_longitudes():
    assert bounding_box(89.9, 10.0, 50.0).all_lng
    assert bounding_box(10.0, 179.9, 50.0).all_lng  # would cross the antimeridian


# --- against the database ---------------------------------------------------------------


@pytest.fixture
def random_sites(db):
    rng = random.Random(42)
    # Dense around Shanghai and sparse over eastern China; plus the far north.
    points = [(31.23 + rng.uniform(-1, 1), 121.47 + rng.uniform(-1, 1)) for _ in range(250)]
    points += [(rng.uniform(20, 45), rng.uniform(100, 125)) for _ in range(200)]
    points += [(53.5 + rng.uniform(-3, 3), 122.0 + rng.uniform(-8, 8)) for _ in range(100)]
    return {s.code: (s.lat, s.lng) for s in make_sites(points)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(min_value=18, max_value=54),
    lng=st.floats(min_value=98, max_value=128),
    radius=st.floats(min_value=0.5, max_value=500),
)
def test_nearest_matches_brute_force(random_sites, lat, lng, radius):
    got = centers_nearest(lat=lat, lng=lng, radius_km=radius)
    expected = sorted(
        ((haversine_km(lat, lng, a, b), code) for code, (a, b) in random_sites.items()),
    )
    expected = [(d, c) for d, c in expected if d <= radius]
    # Points within a micrometre of the edge may fall either way (float noise): ignore only those.
    edge = {c for c, (a, b) in random_sites.items() if abs(haversine_km(lat, lng, a, b) - radius) < 1e-9}
    assert [c.code for c in got if c.code not in edge] == [c for _d, c in expected if c not in edge]
    for center in got:
        assert center.distance_km == pytest.approx(haversine_km(lat, lng, center.lat, center.lng), abs=1e-6)


@pytest.mark.django_db
@pytest.mark.parametrize("lat,lng,radius", [(31.23, 121.47, 10.0), (53.5, 122.3, 500.0), (22.5, 114.05, 0.8)])
def test_points_just_inside_are_found_and_just_outside_are_not(lat, lng, radius):
    # Given points 1 m inside and 1 m outside the radius in every direction
    inside, outside = [], []
    for bearing in [*range(0, 360, 10), 89.0, 89.5, 90.5, 91.0, 269.0, 271.0]:
        inside.append(destination(lat, lng, bearing, radius - 0.001))
        outside.append(destination(lat, lng, bearing, radius + 0.001))
    make_sites(inside, prefix="IN")
    make_sites(outside, prefix="OUT")
    # When searching
    got = centers_nearest(lat=lat, lng=lng, radius_km=radius)
    # Then exactly the inside points come back, sorted by distance
    assert sorted(c.code for c in got) == sorted(f"IN{i:05d}" for i in range(len(inside)))
    distances = [c.distance_km for c in got]
    assert distances == sorted(distances)
    assert max(distances) <= radius


@pytest.mark.django_db
def test_nearest_is_two_queries_with_hours_and_open_state(django_assert_num_queries):
    sites = make_sites([(31.23 + i / 1000, 121.47) for i in range(30)])
    from tests.factories.centers import weekly_hours

    for s in sites[:5]:
        weekly_hours(s)
    with django_assert_num_queries(2):
        got = centers_nearest(lat=31.23, lng=121.47, radius_km=50, limit=10)
        # hours and is_open_now are already there: touching them runs no query
        for c in got:
            list(c.opening_hours.all())
            assert isinstance(c.is_open_now, bool)
    assert [c.code for c in got] == [f"P{i:05d}" for i in range(10)]


@pytest.mark.django_db
def test_nearest_filters_kind_service_and_inactive():
    a, b, c = make_sites([(31.23, 121.47), (31.231, 121.47), (31.232, 121.47)])
    ServiceCenter.objects.filter(pk=b.pk).update(kind=CenterKind.COLLECTION_POINT)
    ServiceCenter.objects.filter(pk=c.pk).update(active=False)
    ServiceCenter.objects.filter(pk=a.pk).update(services=["phone", "pc"])
    assert [x.code for x in centers_nearest(lat=31.23, lng=121.47, radius_km=5)] == [a.code, b.code]
    assert [x.code for x in centers_nearest(lat=31.23, lng=121.47, radius_km=5, kind="collection_point")] == [b.code]
    assert [x.code for x in centers_nearest(lat=31.23, lng=121.47, radius_km=5, service="pc")] == [a.code]
    assert centers_nearest(lat=31.23, lng=121.47, radius_km=5, service="wearable") == []
