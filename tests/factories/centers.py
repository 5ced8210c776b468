import datetime as dt

import factory

from centers.choices import CenterKind, RegionLevel
from centers.models import Region, ServiceCenter, StaffMembership
from centers.selectors import phone_digits


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("adcode",)

    adcode = factory.Sequence(lambda n: f"99{n:04d}000000")
    name = factory.Sequence(lambda n: f"Region {n}")
    level = RegionLevel.COUNTY
    lat = 31.23
    lng = 121.47


def region_chain(province_code="310000000000", city_code="310100000000", county_code="310101000000"):
    """A province > city > county chain (Shanghai Huangpu by default)."""
    province = RegionFactory(adcode=province_code, name="上海市", level=RegionLevel.PROVINCE)
    city = RegionFactory(adcode=city_code, name="市辖区", level=RegionLevel.CITY, parent=province)
    county = RegionFactory(adcode=county_code, name="黄浦区", level=RegionLevel.COUNTY, parent=city)
    return province, city, county


class ServiceCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCenter

    code = factory.Sequence(lambda n: f"SC{n:05d}")
    name = factory.Sequence(lambda n: f"授权服务中心 {n}")
    kind = CenterKind.SERVICE_CENTER
    official = True
    address = "南京东路 1 号"
    lat = 31.2304
    lng = 121.4737
    phone = factory.Sequence(lambda n: f"021-6{n:07d}")
    phone_digits = factory.LazyAttribute(lambda o: phone_digits(o.phone))
    services = factory.LazyFunction(lambda: ["phone", "tablet", "walk_in", "appointment", "loaners"])
    opened_on = dt.date(2020, 1, 1)

    @factory.lazy_attribute
    def region(self):
        return region_chain()[2]

    @factory.lazy_attribute
    def city(self):
        return self.region.parent

    @factory.lazy_attribute
    def province(self):
        return self.region.parent.parent


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory("tests.factories.users.StaffUserFactory")
    center = factory.SubFactory(ServiceCenterFactory)
    role = "front_desk"


# --- added by the centers work -------------------------------------------------


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "centers.OpeningHours"

    center = factory.SubFactory(ServiceCenterFactory)
    weekday = 0
    opens = dt.time(9)
    closes = dt.time(18)


class OpeningExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "centers.OpeningException"

    center = factory.SubFactory(ServiceCenterFactory)
    date = dt.date(2027, 2, 6)
    closed = True
    opens = None
    closes = None
    reason = "Holiday"


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "centers.Certification"

    user = factory.SubFactory("tests.factories.users.StaffUserFactory")
    name = "Certified Repair Engineer"
    number = factory.Sequence(lambda n: f"CERT-{n:05d}")
    issued_on = dt.date(2025, 1, 1)
    expires_on = dt.date(2028, 12, 31)


def weekly_hours(center, intervals=((dt.time(9), dt.time(18)),), days=range(7)):
    """Give ``center`` the same intervals on each of ``days``."""
    from centers.models import OpeningHours

    OpeningHours.objects.bulk_create(
        [OpeningHours(center=center, weekday=d, opens=o, closes=c) for d in days for o, c in intervals]
    )
    return center
