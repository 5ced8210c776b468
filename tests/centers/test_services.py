"""Services and selectors of the centers app: regions, centers, Service Days, verify, coverage, CSV."""

import datetime as dt

import pytest

from centers.choices import DEFAULT_SERVICE_DAY_PERKS, CenterKind, RegionLevel
from centers.models import Region, ServiceCenter, ServiceDay
from centers.selectors import (
    centers_verify,
    coverage_summary,
    phone_digits,
    province_mail_in_hub,
    region_by_adcode,
    region_city,
    region_province,
)
from centers.services import (
    center_create,
    center_deactivate,
    center_update,
    centers_import_csv,
    opening_hours_set,
    regions_load,
    service_day_dates,
    service_days_generate,
)
from servicehub.errors import DomainError
from tests.factories.centers import RegionFactory, ServiceCenterFactory, region_chain

pytestmark = pytest.mark.django_db


# --- regions ------------------------------------------------------------------------------


def test_load_regions_builds_the_full_tree_and_is_idempotent(django_assert_max_num_queries):
    result = regions_load()
    assert result.created == 3511 and result.updated == 0
    counts = {lvl: Region.objects.filter(level=lvl).count() for lvl in RegionLevel.values}
    assert counts == {"province": 34, "city": 344, "county": 3133}
    # every row has coordinates (the 市辖区 rows without any got their parent's)
    assert not Region.objects.filter(lat__isnull=True).exists()
    huangpu = Region.objects.select_related("parent__parent").get(adcode="310101000000")
    assert (huangpu.name, huangpu.parent.adcode, huangpu.parent.parent.name) == ("黄浦区", "310100000000", "上海市")
    filled = Region.objects.get(adcode="520301000000")  # a 市辖区 shipped without coordinates
    assert (filled.lat, filled.lng) == (filled.parent.lat, filled.parent.lng)
    assert filled.is_placeholder
    assert not Region.objects.filter(level="province", parent__isnull=False).exists()
    assert not Region.objects.filter(level__in=["city", "county"], parent__isnull=True).exists()

    # Second run: nothing written (one read of all rows, no inserts or updates)
    with django_assert_max_num_queries(4) as ctx:
        again = regions_load()
    assert (again.created, again.updated) == (0, 0)
    assert not [q for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]

    # A hand-broken row is repaired by the next run
    Region.objects.filter(adcode="310101000000").update(name="x", lat=0)
    assert regions_load().updated == 1
    assert Region.objects.get(adcode="310101000000").name == "黄浦区"


def test_region_helpers():
    province, city, county = region_chain()
    assert region_by_adcode(adcode="310101") == county
    assert region_by_adcode(adcode="310101000000") == county
    assert region_by_adcode(adcode="31x") is None
    assert region_province(region=county) == province
    assert region_province(region=province) == province
    assert region_city(region=county) == city
    assert region_city(region=province) is None


# --- centers ---------------------------------------------------------------------------------


def test_center_create_derives_city_and_province():
    province, city, county = region_chain()
    c = center_create(
        code="SC-T-1",
        name="Test",
        kind="service_center",
        region=county,
        address="a",
        lat=31.2,
        lng=121.4,
        phone="+86 21 6123-4567",
        services=["phone", "walk_in", "phone"],
    )
    assert (c.city, c.province) == (city, province)
    assert c.phone_digits == "2161234567"
    assert c.services == ["phone", "walk_in"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"kind": "kiosk"}, "kind"),
        ({"services": ["phone", "teleport"]}, "services"),
        ({"lat": 91}, "lat"),
        ({"lng": "east"}, "lng"),
        ({"kind": "collection_point"}, "hub"),
    ],
)
def test_center_create_refuses_bad_input(change, field):
    _p, _c, county = region_chain()
    kwargs = {
        "code": "X1",
        "name": "n",
        "kind": "service_center",
        "region": county,
        "address": "a",
        "lat": 31,
        "lng": 121,
    }
    kwargs.update(change)
    with pytest.raises(DomainError) as err:
        center_create(**kwargs)
    assert (err.value.code, err.value.field) == ("validation_error", field)
    assert not ServiceCenter.objects.exists()


def test_center_create_refuses_non_county_region_and_duplicate_code():
    province, city, county = region_chain()
    with pytest.raises(DomainError) as err:
        center_create(code="X", name="n", kind="service_center", region=province, address="a", lat=31, lng=121)
    assert err.value.field == "region"
    ServiceCenterFactory(code="DUP")
    with pytest.raises(DomainError) as err:
        center_create(code="DUP", name="n", kind="service_center", region=county, address="a", lat=31, lng=121)
    assert err.value.field == "code"


def test_city_without_counties_is_its_own_county():
    gd = RegionFactory(adcode="440000000000", name="广东省", level="province")
    dongguan = RegionFactory(adcode="441900000000", name="东莞市", level="city", parent=gd)
    c = center_create(code="DG", name="n", kind="service_center", region=dongguan, address="a", lat=23, lng=113.7)
    assert (c.region, c.city, c.province) == (dongguan, dongguan, gd)


def test_center_update_moves_region_and_renormalises_phone():
    center = ServiceCenterFactory()
    _p2, city2, county2 = region_chain("320000000000", "320100000000", "320102000000")
    updated = center_update(center_id=center.pk, region=county2, phone="025 8888 0000", name="New")
    assert (updated.region, updated.city, updated.province.adcode) == (county2, city2, "320000000000")
    assert updated.phone_digits == "2588880000"
    with pytest.raises(DomainError) as err:
        center_update(center_id=center.pk, code="NEW")
    assert err.value.field == "code"


def test_deactivate_never_deletes_and_refuses_while_spokes_are_active():
    hub = ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB)
    spoke = ServiceCenterFactory(kind=CenterKind.COLLECTION_POINT, hub=hub)
    with pytest.raises(DomainError) as err:
        center_deactivate(center_id=hub.pk)
    assert err.value.code == "center_has_spokes" and err.value.status == 409
    assert err.value.extra["spokes"] == [spoke.code]
    hub.refresh_from_db()
    assert hub.active
    center_deactivate(center_id=spoke.pk)
    assert center_deactivate(center_id=hub.pk).active is False
    assert center_deactivate(center_id=hub.pk).active is False  # idempotent
    assert ServiceCenter.objects.filter(pk=hub.pk).exists()


def test_opening_hours_set_refuses_overlaps():
    c = ServiceCenterFactory()
    rows = opening_hours_set(
        center_id=c.pk, weekday=0, intervals=[(dt.time(13), dt.time(18)), (dt.time(9), dt.time(12))]
    )
    assert [(r.opens, r.closes) for r in rows] == [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))]
    with pytest.raises(DomainError) as err:
        opening_hours_set(center_id=c.pk, weekday=0, intervals=[(dt.time(9), dt.time(14)), (dt.time(13), dt.time(18))])
    assert err.value.field == "intervals"
    assert c.opening_hours.count() == 2  # unchanged


# --- Service Days -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "year,month,expected",
    [
        (2026, 5, ["2026-05-01", "2026-05-02", "2026-05-03"]),  # month starts on a Friday
        (2026, 8, ["2026-08-07", "2026-08-08", "2026-08-09"]),  # ... on a Saturday
        (2026, 11, ["2026-11-06", "2026-11-07", "2026-11-08"]),  # ... on a Sunday
        (2026, 12, ["2026-12-04", "2026-12-05", "2026-12-06"]),  # ... on a Tuesday
        (2026, 10, ["2026-10-02", "2026-10-03", "2026-10-04"]),  # ... on a Thursday
        (2027, 1, ["2027-01-01", "2027-01-02", "2027-01-03"]),
    ],
)
def test_service_day_dates(year, month, expected):
    assert [d.isoformat() for d in service_day_dates(year=year, month=month)] == expected


def test_service_days_generate_is_idempotent_and_skips_non_participants(django_assert_max_num_queries):
    sc = ServiceCenterFactory()
    flagship = ServiceCenterFactory(kind=CenterKind.FLAGSHIP)
    store = ServiceCenterFactory(kind=CenterKind.EXPERIENCE_STORE)
    ServiceCenterFactory(kind=CenterKind.COLLECTION_POINT, hub=sc)
    ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB)
    ServiceCenterFactory(active=False)
    ServiceCenterFactory(service_days_opt_out=True)

    with django_assert_max_num_queries(8):
        assert service_days_generate(year=2026, month=11) == 9
    rows = ServiceDay.objects.order_by("center_id", "date")
    assert {r.center_id for r in rows} == {sc.pk, flagship.pk, store.pk}
    assert sorted({r.date.isoformat() for r in rows}) == ["2026-11-06", "2026-11-07", "2026-11-08"]
    assert all(r.perks == DEFAULT_SERVICE_DAY_PERKS for r in rows)

    # a day someone switched off stays off, and a rerun creates nothing
    ServiceDay.objects.filter(center=sc, date=dt.date(2026, 11, 7)).update(active=False)
    assert service_days_generate(year=2026, month=11) == 0
    assert ServiceDay.objects.count() == 9
    assert not ServiceDay.objects.get(center=sc, date=dt.date(2026, 11, 7)).active
    assert service_days_generate(year=2026, month=12) == 9


def test_service_days_generate_refuses_bad_month():
    with pytest.raises(DomainError) as err:
        service_days_generate(year=2026, month=13)
    assert err.value.field == "month"


# --- verify --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,digits",
    [("021-6123 4567", "2161234567"), ("+86 21 61234567", "2161234567"), ("0086-21-61234567", "2161234567"),
     ("138 0013 8000", "13800138000"), ("+86 138 0013 8000", "13800138000"), ("", "")],
)  # fmt: skip
def test_phone_digits(raw, digits):
    assert phone_digits(raw) == digits


def test_verify_by_phone_name_and_city():
    official = ServiceCenterFactory(name="上海黄浦授权服务中心", phone="021-61234567")
    ServiceCenterFactory(name="上海黄浦授权服务中心二店", phone="021-60000000", active=False)
    ServiceCenterFactory(name="山寨授权服务中心", phone="021-65555555", official=False)

    r = centers_verify(phone="+86 21 6123 4567")
    assert r.official and [c.code for c in r.matches] == [official.code]
    assert not centers_verify(phone="021-65555555").official  # unofficial store
    assert not centers_verify(phone="021-60000000").official  # deactivated

    exact = centers_verify(name=" 上海黄浦授权服务中心 ")
    assert exact.official and [c.code for c in exact.matches] == [official.code]
    lookalike = centers_verify(name="授权服务中心")
    assert not lookalike.official and [c.code for c in lookalike.suggestions] == [official.code]

    assert centers_verify(phone="021-61234567", city="黄浦").official
    assert centers_verify(phone="021-61234567", city="310101").official
    assert not centers_verify(phone="021-61234567", city="北京").official
    assert not centers_verify(phone="021-61234567", name="Other name").official


# --- mail-in hub and coverage ------------------------------------------------------------------------


def test_province_mail_in_hub():
    province, city, county = region_chain()
    hub = ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB, code="HUB-SH")
    ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB, code="HUB-SH-OLD", active=False)
    assert province_mail_in_hub(province=province) == hub
    assert province_mail_in_hub(province=county) == hub
    assert province_mail_in_hub(province=province.pk) == hub
    other, _c, _k = region_chain("320000000000", "320100000000", "320102000000")
    assert province_mail_in_hub(province=other) is None


def test_coverage_on_a_small_known_network(django_assert_max_num_queries):
    # Given one province with 3 real cities (+1 placeholder) and 5 real counties (+1 placeholder)
    p = RegionFactory(adcode="320000000000", name="江苏省", level="province")
    c1 = RegionFactory(adcode="320100000000", name="南京市", level="city", parent=p)
    c2 = RegionFactory(adcode="320200000000", name="无锡市", level="city", parent=p)
    c3 = RegionFactory(adcode="320300000000", name="徐州市", level="city", parent=p)
    RegionFactory(adcode="329000000000", name="省直辖县级行政区划", level="city", parent=p, is_placeholder=True)
    k = {}
    for code, name, city in [("320102", "玄武区", c1), ("320104", "秦淮区", c1), ("320205", "锡山区", c2),
                             ("320206", "惠山区", c2), ("320302", "鼓楼区", c3)]:  # fmt: skip
        k[name] = RegionFactory(adcode=code + "000000", name=name, level="county", parent=city)
    RegionFactory(adcode="320101000000", name="市辖区", level="county", parent=c1, is_placeholder=True)

    def site(county, **kw):
        return ServiceCenterFactory(region=county, city=county.parent, province=p, **kw)

    hub = site(k["玄武区"])  # Nanjing covered by a center
    site(k["锡山区"], kind=CenterKind.COLLECTION_POINT, hub=hub)  # Wuxi covered by a collection point
    site(k["鼓楼区"], active=False)  # an inactive center covers nothing

    with django_assert_max_num_queries(5):
        cov = coverage_summary()
    assert (cov.cities.covered, cov.cities.total, cov.cities.share) == (2, 3, 0.6667)
    assert (cov.counties.covered, cov.counties.total, cov.counties.share) == (2, 5, 0.4)
    assert [r["name"] for r in cov.cities.uncovered] == ["徐州市"]
    assert [r["name"] for r in cov.counties.uncovered] == ["秦淮区", "惠山区", "鼓楼区"]
    (js,) = [x for x in cov.provinces if x.adcode == "320000000000"]
    assert (js.cities.covered, js.cities.total, js.counties.covered, js.counties.total) == (2, 3, 2, 5)
    assert cov.active_sites == 2


# --- CSV import -------------------------------------------------------------------------------------

HEADER = "code,name,kind,official,county_adcode,address,lat,lng,phone,services,hub_code,opened_on,active\n"


def test_csv_import_creates_updates_and_is_all_or_nothing():
    region_chain()
    existing = ServiceCenterFactory(code="SC-OLD", name="Old name")
    good = HEADER + (
        "SC-NEW,新中心,service_center,true,310101000000,南京东路1号,31.23,121.47,021-61111111,phone;walk_in,,2024-05-01,true\n"
        "CP-NEW,收机点,collection_point,true,310101000000,路2号,31.24,121.48,,phone,SC-NEW,,true\n"
        "SC-OLD,New name,service_center,true,310101000000,南京东路 1 号,31.2304,121.4737,021-60000000,phone,,,true\n"
    )
    result = centers_import_csv(text=good)
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    cp = ServiceCenter.objects.get(code="CP-NEW")
    assert cp.hub.code == "SC-NEW" and cp.city.adcode == "310100000000"
    existing.refresh_from_db()
    assert existing.name == "New name"

    bad = HEADER + (
        "SC-X1,ok,service_center,true,310101000000,a,31.2,121.4,,phone,,,true\n"
        "SC-X2,,kiosk,maybe,999999000000,a,north,121.4,,phone;teleport,,2024-13-01,true\n"
        "CP-X3,cp,collection_point,true,310101000000,a,31.2,121.4,,phone,,,true\n"
    )
    with pytest.raises(DomainError) as err:
        centers_import_csv(text=bad)
    errors = err.value.extra["errors"]
    assert set(errors) == {"row 3", "row 4"}
    assert len(errors["row 3"]) == 7  # name, kind, services, lat, official, opened_on, county
    assert any("hub" in m for m in errors["row 4"])
    assert not ServiceCenter.objects.filter(code="SC-X1").exists()  # nothing imported


def test_csv_import_refuses_missing_columns():
    with pytest.raises(DomainError) as err:
        centers_import_csv(text="code,name\nA,b\n")
    assert err.value.field == "file"
