"""Public centers API, Service Days and the staff coverage endpoint: shapes, filters, errors, queries."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from centers.choices import CenterKind
from centers.models import ServiceCenter, ServiceDay
from centers.services import service_days_generate
from tests.factories.centers import (
    OpeningExceptionFactory,
    ServiceCenterFactory,
    region_chain,
    weekly_hours,
)
from tests.factories.users import StaffUserFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SH)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY_10)
    return MONDAY_10


@pytest.fixture
def network():
    """Five Shanghai sites on a line going north, 1.1 km apart, plus one in Nanjing."""
    sites = []
    for i in range(5):
        c = ServiceCenterFactory(code=f"SC-SH-{i + 1:03d}", lat=31.23 + i * 0.01, lng=121.47)
        weekly_hours(c, [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))], days=range(5))
        sites.append(c)
    ServiceCenter.objects.filter(code="SC-SH-005").update(
        kind=CenterKind.COLLECTION_POINT, services=["phone", "walk_in"], hub=sites[0]
    )
    _p, _c, nanjing = region_chain("320000000000", "320100000000", "320102000000")
    sites.append(ServiceCenterFactory(code="SC-JS-001", region=nanjing, city=nanjing.parent,
                                      province=nanjing.parent.parent, lat=32.06, lng=118.79))  # fmt: skip
    return sites


def codes(response):
    return [r["code"] for r in response.json()["results"]]


# --- list -----------------------------------------------------------------------------------------


def test_list_is_paginated_by_code_in_one_query_once_cached(api_client, network, django_assert_num_queries):
    # cold: the page, its rows again (read after their versions), the hours they are rendered with, the
    # business calendars (hours, exceptions)
    with django_assert_num_queries(5):
        cold = api_client.get("/api/v1/centers/", {"page_size": 4})
    with django_assert_num_queries(1):  # rows and calendars cached per center version: the page alone
        r = api_client.get("/api/v1/centers/", {"page_size": 4})
    assert r.status_code == 200
    assert r.json() == cold.json()
    body = r.json()
    assert body["count"] == 6
    assert codes(r) == ["SC-JS-001", "SC-SH-001", "SC-SH-002", "SC-SH-003"]
    assert body["next"].endswith("page=2&page_size=4") and body["previous"] is None
    r2 = api_client.get("/api/v1/centers/", {"page_size": 4, "page": 2})
    assert codes(r2) == ["SC-SH-004", "SC-SH-005"]
    assert r2.json()["next"] is None and "page=" not in r2.json()["previous"]
    assert api_client.get("/api/v1/centers/", {"page": 3, "page_size": 4}).json()["code"] == "not_found"


def test_list_item_shape(api_client, network, frozen_now):
    item = api_client.get("/api/v1/centers/", {"page_size": 2}).json()["results"][1]
    assert set(item) == {"code", "name", "kind", "official", "address", "region", "lat", "lng", "phone",
                         "services", "opening_hours", "is_open_now", "distance_km"}  # fmt: skip
    assert item["region"] == {"adcode": "310101000000", "name": "黄浦区"}
    assert item["opening_hours"][:2] == [
        {"weekday": 0, "opens": "09:00", "closes": "12:00"},
        {"weekday": 0, "opens": "13:00", "closes": "18:00"},
    ]
    assert item["is_open_now"] is True
    assert item["distance_km"] is None


def test_near_sorts_by_distance_within_radius(api_client, network, django_assert_max_num_queries):
    api_client.get("/api/v1/centers/", {"near": "31.2498,121.4701", "radius_km": "1.5"})  # warms the rows
    with django_assert_max_num_queries(1):  # another position near by: the page query alone
        r = api_client.get("/api/v1/centers/", {"near": "31.2499,121.47", "radius_km": "1.5"})
    assert r.status_code == 200
    assert codes(r) == ["SC-SH-003", "SC-SH-002", "SC-SH-004"]
    d = [x["distance_km"] for x in r.json()["results"]]
    assert d[0] == pytest.approx(0.011, abs=0.001) and d == sorted(d) and max(d) <= 1.5
    # default radius 25 km: all five Shanghai sites, none from Nanjing
    assert len(codes(api_client.get("/api/v1/centers/", {"near": "31.23,121.47"}))) == 5


def test_filters_kind_service_region_open_now(api_client, network, frozen_now):
    assert codes(api_client.get("/api/v1/centers/", {"kind": "collection_point"})) == ["SC-SH-005"]
    assert codes(api_client.get("/api/v1/centers/", {"service": "loaners"}))[:1] == ["SC-JS-001"]
    assert "SC-SH-005" not in codes(api_client.get("/api/v1/centers/", {"service": "loaners"}))
    assert codes(api_client.get("/api/v1/centers/", {"region": "320000"})) == ["SC-JS-001"]  # province
    assert codes(api_client.get("/api/v1/centers/", {"region": "320100000000"})) == ["SC-JS-001"]  # city
    assert len(codes(api_client.get("/api/v1/centers/", {"region": "310101000000"}))) == 5  # county
    # Monday 10:00: the five Shanghai sites have hours; Nanjing has none; one is closed by an exception
    OpeningExceptionFactory(center=network[1], date=frozen_now.date(), closed=True)
    open_now = codes(api_client.get("/api/v1/centers/", {"open_now": "true"}))
    assert open_now == ["SC-SH-001", "SC-SH-003", "SC-SH-004", "SC-SH-005"]


def test_inactive_centers_are_not_listed(api_client, network):
    ServiceCenter.objects.filter(code="SC-SH-001").update(active=False)
    assert "SC-SH-001" not in codes(api_client.get("/api/v1/centers/", {"page_size": 100}))


@pytest.mark.parametrize(
    "params,field",
    [
        ({"near": "31.2"}, "near"),
        ({"near": "abc,def"}, "near"),
        ({"near": "91,121"}, "near"),
        ({"near": "31,200"}, "near"),
        ({"near": "nan,121"}, "near"),
        ({"near": "31,121", "radius_km": "-5"}, "radius_km"),
        ({"near": "31,121", "radius_km": "0"}, "radius_km"),
        ({"near": "31,121", "radius_km": "501"}, "radius_km"),
        ({"near": "31,121", "radius_km": "1e308"}, "radius_km"),
        ({"near": "31,121", "radius_km": "nan"}, "radius_km"),
        ({"near": "31,121", "radius_km": "ten"}, "radius_km"),
        ({"radius_km": "5"}, "radius_km"),
        ({"kind": "kiosk"}, "kind"),
        ({"service": "teleport"}, "service"),
        ({"open_now": "maybe"}, "open_now"),
        ({"region": "shanghai"}, "region"),
        ({"region": "999999"}, "region"),
        ({"kind": ""}, "kind"),  # empty is not "no filter"
        ({"service": ""}, "service"),
        ({"open_now": ""}, "open_now"),
        ({"near": ""}, "near"),
    ],
)
def test_bad_list_input_is_400_naming_the_parameter(api_client, network, params, field):
    r = api_client.get("/api/v1/centers/", params)
    assert r.status_code == 400
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]


# --- detail ---------------------------------------------------------------------------------------


def test_detail_shape_with_holiday_hours_and_service_days(
    api_client, network, frozen_now, django_assert_max_num_queries
):
    center = network[0]
    OpeningExceptionFactory(center=center, date=dt.date(2027, 2, 6), closed=False,
                            opens=dt.time(10), closes=dt.time(16), reason="Spring Festival")  # fmt: skip
    OpeningExceptionFactory(center=center, date=dt.date(2026, 1, 1), closed=True)  # past: not shown
    service_days_generate(year=2026, month=12)
    with django_assert_max_num_queries(4):
        r = api_client.get("/api/v1/centers/SC-SH-001/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"code", "name", "kind", "official", "address", "region", "lat", "lng", "phone",
                         "services", "opening_hours", "is_open_now", "holiday_hours", "service_days"}  # fmt: skip
    assert body["is_open_now"] is True
    assert len(body["opening_hours"]) == 10
    assert body["holiday_hours"] == [
        {
            "date": "2027-02-06",
            "closed": False,
            "opens": "10:00",
            "closes": "16:00",
            "reason": "Spring Festival",
            "reason_code": "",
        }
    ]
    # today is 2026-12-07: December's Service Days (4-6) are over
    assert body["service_days"] == []


def test_detail_service_days_are_upcoming_only(api_client, network, frozen_now):
    # frozen_now is Monday 2026-12-07: December's Service Days (4-6) are past, January's are upcoming
    service_days_generate(year=2026, month=12)
    service_days_generate(year=2027, month=1)
    body = api_client.get("/api/v1/centers/SC-SH-001/").json()
    assert [d["date"] for d in body["service_days"]] == ["2027-01-01", "2027-01-02", "2027-01-03"]


@pytest.mark.parametrize("code", ["NOPE", "SC-SH-999"])
def test_unknown_code_is_404(api_client, network, code):
    r = api_client.get(f"/api/v1/centers/{code}/")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_inactive_center_detail_is_404(api_client, network):
    ServiceCenter.objects.filter(code="SC-SH-002").update(active=False)
    assert api_client.get("/api/v1/centers/SC-SH-002/").status_code == 404


# --- verify ---------------------------------------------------------------------------------------


def test_verify(api_client, network, django_assert_max_num_queries):
    phone = network[0].phone
    with django_assert_max_num_queries(2):
        r = api_client.get("/api/v1/centers/verify/", {"phone": "+86 " + phone[1:]})
    assert r.status_code == 200
    assert r.json()["official"] is True
    assert [m["code"] for m in r.json()["matches"]] == ["SC-SH-001"]
    fake = api_client.get("/api/v1/centers/verify/", {"name": "山寨手机维修"}).json()
    assert fake == {"official": False, "matches": [], "suggestions": []}


def test_verify_needs_phone_or_name(api_client):
    r = api_client.get("/api/v1/centers/verify/", {"city": "上海"})
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error" and list(r.json()["errors"]) == ["phone"]


# --- Service Days ---------------------------------------------------------------------------------


def test_service_days_list(api_client, network, django_assert_max_num_queries):
    service_days_generate(year=2026, month=12)
    with django_assert_max_num_queries(2):
        r = api_client.get("/api/v1/service-days/", {"month": "2026-12"})
    assert r.status_code == 200
    body = r.json()
    # 4 Shanghai service centers + Nanjing (the collection point has none), 3 days each
    assert len(body) == 15
    assert body[0] == {
        "center": "SC-JS-001",
        "center_name": network[5].name,
        "date": "2026-12-04",
        "perks": ["free_screen_film", "cleaning", "labor_waived", "phone_training"],
    }
    one = api_client.get("/api/v1/service-days/", {"month": "2026-12", "center": "SC-SH-002"}).json()
    assert [d["date"] for d in one] == ["2026-12-04", "2026-12-05", "2026-12-06"]
    ServiceDay.objects.filter(center=network[1], date=dt.date(2026, 12, 5)).update(active=False)
    one = api_client.get("/api/v1/service-days/", {"month": "2026-12", "center": "SC-SH-002"}).json()
    assert [d["date"] for d in one] == ["2026-12-04", "2026-12-06"]
    assert api_client.get("/api/v1/service-days/", {"month": "2027-01"}).json() == []


@pytest.mark.parametrize(
    "params,field", [({"month": "2026-13"}, "month"), ({"month": "12/2026"}, "month"), ({"center": "NOPE"}, "center")]
)
def test_service_days_bad_input(api_client, params, field):
    r = api_client.get("/api/v1/service-days/", params)
    assert r.status_code == 400
    assert list(r.json()["errors"]) == [field]


# --- coverage (staff / key) -------------------------------------------------------------------------


def test_coverage_needs_a_key_with_centers_read(api_client, key_client, network, django_assert_max_num_queries):
    assert api_client.get("/api/v1/coverage/").json()["code"] == "not_authenticated"
    r = key_client(scopes=["tickets:read"]).get("/api/v1/coverage/")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    client = key_client(scopes=["centers:read"])
    with django_assert_max_num_queries(8):
        r = client.get("/api/v1/coverage/")
    assert r.status_code == 200
    body = r.json()
    assert body["active_sites"] == 6
    assert body["cities"]["covered"] == body["cities"]["total"] == 2
    assert body["counties"] == {"total": 2, "covered": 2, "share": 1.0, "uncovered": []}
    assert [p["adcode"] for p in body["provinces"]] == ["310000000000", "320000000000"]
    only = client.get("/api/v1/coverage/", {"province": "32"}).json()
    assert [p["adcode"] for p in only["provinces"]] == ["320000000000"]
    assert client.get("/api/v1/coverage/", {"province": "99"}).status_code == 400


def test_coverage_for_a_staff_session(api_client, network):
    user = StaffUserFactory()
    user.save()  # the factory sets the password without saving; the session hash needs it stored
    api_client.force_login(user)
    assert api_client.get("/api/v1/coverage/").status_code == 200


# --- schema ------------------------------------------------------------------------------------------


def test_schema_documents_params_and_errors(api_client):
    import yaml

    r = api_client.get("/api/schema/")
    assert r.status_code == 200
    schema = yaml.safe_load(r.content)
    op = schema["paths"]["/api/v1/centers/"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"near", "radius_km", "kind", "service", "open_now", "region",
                                                      "page", "page_size"}  # fmt: skip
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("PaginatedCenterList")
    assert "application/problem+json" in op["responses"]["400"]["content"]
    for path in ("/api/v1/centers/{code}/", "/api/v1/centers/verify/", "/api/v1/service-days/", "/api/v1/coverage/"):
        assert "404" in schema["paths"][path]["get"]["responses"] or "400" in schema["paths"][path]["get"]["responses"]
    assert schema["paths"]["/api/v1/coverage/"]["get"]["security"]


def test_service_days_by_region(api_client, network):
    service_days_generate(year=2026, month=12)
    body = api_client.get("/api/v1/service-days/", {"month": "2026-12", "region": "320000"}).json()
    assert {d["center"] for d in body} == {"SC-JS-001"} and len(body) == 3
    r = api_client.get("/api/v1/service-days/", {"month": "2026-12", "region": "999999"})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["region"]
