"""Every prefecture-level city's name finds that city's own active sites, first.

The regions are the real ones (cpca's dataset, loaded by ``centers.services.regions_load``);
one active official site is put in each prefecture-level city (in its first county, or in the
city itself when it has no counties, like 东莞市), half of them collection points - the bug report
started with "邵阳市" answering "no official service" although a collection point was there.
"""

import pytest

from centers.choices import CenterKind, RegionLevel
from centers.models import Region, ServiceCenter
from centers.services import regions_load
from web.find import find_places

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_site_per_city():
    regions_load()
    cities = list(Region.objects.filter(level=RegionLevel.CITY, is_placeholder=False).order_by("adcode"))
    counties = {}
    for county in Region.objects.filter(level=RegionLevel.COUNTY, is_placeholder=False).order_by("adcode"):
        counties.setdefault(county.parent_id, county)
    sites = []
    for n, city in enumerate(cities):
        where = counties.get(city.pk, city)
        sites.append(
            ServiceCenter(
                code=f"T-{city.adcode[:6]}",
                name=f"{city.name}服务点",
                official=True,
                active=True,
                kind=CenterKind.COLLECTION_POINT if n % 2 else CenterKind.SERVICE_CENTER,
                region=where,
                city=city,
                province_id=Region.objects.only("pk").get(adcode=city.adcode[:2] + "0" * 10).pk,
                address=f"{city.name}人民路1号",
                lat=where.lat,
                lng=where.lng,
                phone="",
                phone_digits="",
                services=["phone", "walk_in"],
            )
        )
    ServiceCenter.objects.bulk_create(sites)
    return cities


def test_there_are_all_prefecture_level_cities(one_site_per_city):
    # 344 prefecture-level units in the dataset, minus the "直辖县级" placeholders.
    assert len(one_site_per_city) >= 330


# The city level of the four municipalities is named "市辖区" / "县" in the dataset: people type
# the municipality's name (北京市), which is the province level.
MUNICIPALITY_PARTS = ("市辖区", "县")


def test_every_city_name_finds_its_own_site_first(one_site_per_city):
    wrong, checked = [], 0
    for city in one_site_per_city:
        if city.name in MUNICIPALITY_PARTS:
            continue
        checked += 1
        result = find_places(q=city.name)
        first = result.places[0] if result.places else None
        if first is None or first.city_id != city.pk or result.outside:
            wrong.append((city.name, city.adcode, first and first.code, result.outside))
    assert wrong == []
    assert checked >= 330


def test_each_municipality_name_finds_its_sites(one_site_per_city):
    for name, adcode in (("北京市", "11"), ("天津市", "12"), ("上海市", "31"), ("重庆市", "50")):
        result = find_places(q=name)
        assert result.region.adcode == adcode + "0" * 10 and not result.outside
        assert result.places and {c.province_id for c in result.places} == {result.region.pk}


def test_city_name_without_shi_and_a_county_town(one_site_per_city):
    shaoyang = Region.objects.get(adcode="430500000000")
    result = find_places(q="邵阳")
    assert result.region == shaoyang and result.places[0].city_id == shaoyang.pk
    # 武冈市 is a county-level city of 邵阳: it has no site of its own here, so the answer is the
    # nearest sites outside it, and says so.
    result = find_places(q="武冈市")
    assert result.region.adcode == "430581000000" and result.outside is True
    assert result.places and result.places[0].distance_km is not None


def test_a_province_lists_every_site_in_it_page_by_page(one_site_per_city):
    hunan_sites = ServiceCenter.objects.filter(province__adcode="430000000000").count()
    assert hunan_sites == 14  # 13 cities + 湘西土家族苗族自治州
    first = find_places(q="湖南省")
    second = find_places(q="湖南省", page=2)
    codes = [c.code for c in first.places + second.places]
    assert len(codes) == hunan_sites == len(set(codes))
    assert first.has_more is True and second.has_more is False
    distances = [c.distance_km for c in first.places + second.places]
    assert distances == sorted(distances)


def test_city_search_page_query_count(client, one_site_per_city, django_assert_max_num_queries):
    # region by name, the page (with is_open_now), weekly hours, the week's exceptions; + session
    with django_assert_max_num_queries(6):
        response = client.get("/centers/", {"q": "邵阳市"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "邵阳市服务点" in html
