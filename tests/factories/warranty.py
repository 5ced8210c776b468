"""Factories for the warranty app (devices, policies, plans, purchases)."""

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone
from stdnum import luhn

from servicehub.actors import SYSTEM
from warranty.choices import PlanKind, PurchaseChannel, Tier
from warranty.models import Device, DeviceModel, PlanPrice, PlanProduct, StatutoryPolicy

_imei_counter = itertools.count(1)


def make_imei(n: int | None = None, tac: str = "86012345") -> str:
    """A Luhn-valid 15-digit IMEI: TAC (8) + serial (6) + check digit."""
    n = next(_imei_counter) if n is None else n
    body = f"{tac}{n % 1_000_000:06d}"
    return body + luhn.calc_check_digit(body)


def shanghai(*args) -> dt.datetime:
    """An aware datetime in Asia/Shanghai: ``shanghai(2026, 3, 1, 23, 30)``."""
    return timezone.make_aware(dt.datetime(*args), timezone.get_default_timezone())


class DeviceModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceModel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"MODEL-{n:03d}")
    name = factory.Sequence(lambda n: f"Phone {n}")
    category = "phone"
    tier = Tier.FLAGSHIP
    release_date = dt.date(2025, 9, 1)
    active = True


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    imei = factory.LazyFunction(make_imei)
    serial = None
    model = factory.SubFactory(DeviceModelFactory)
    sold_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class StatutoryPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatutoryPolicy
        django_get_or_create = ("category",)

    category = "phone"


class PlanProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanProduct
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"PLAN-{n:03d}")
    name = factory.LazyAttribute(lambda o: f"{o.kind} plan")
    kind = PlanKind.SCREEN_CARE
    term_months = 12
    claims_allowed = 1
    fee_per_claim = Decimal("0.00")
    eligible_categories = factory.LazyFunction(lambda: ["phone"])
    purchase_window_days = 30
    cooling_off_days = 7

    @factory.post_generation
    def prices(self, create, extracted, **kwargs):
        if not create:
            return
        prices = extracted if extracted is not None else {Tier.FLAGSHIP: "199.00", Tier.STANDARD: "99.00"}
        for tier, price in prices.items():
            PlanPrice.objects.get_or_create(product=self, tier=tier, defaults={"price": Decimal(price)})


def screen_care(**kw):
    return PlanProductFactory(code="SCREEN12", kind=PlanKind.SCREEN_CARE, term_months=12, claims_allowed=1, **kw)


def extended_warranty(months=12, **kw):
    return PlanProductFactory(
        code=f"EXT{months}",
        kind=PlanKind.EXTENDED_WARRANTY,
        term_months=months,
        claims_allowed=None,
        purchase_window_days=kw.pop("purchase_window_days", 365),
        **kw,
    )


def care_plus(**kw):
    return PlanProductFactory(
        code="CAREPLUS24",
        kind=PlanKind.CARE_PLUS,
        term_months=24,
        claims_allowed=2,
        fee_per_claim=Decimal("299.00"),
        screen_fee_per_claim=Decimal("99.00"),
        **kw,
    )


def battery_care(**kw):
    return PlanProductFactory(code="BATTERY24", kind=PlanKind.BATTERY_CARE, term_months=24, claims_allowed=1, **kw)


def purchase(*, device, product, purchased_at=None, **kw):
    """Buy through the service (so dates and claims are what production computes)."""
    from warranty.services import plan_purchase_create

    return plan_purchase_create(
        device=device,
        plan_code=product.code,
        purchased_at=purchased_at or device.sold_at,
        channel=kw.pop("channel", PurchaseChannel.STORE),
        **kw,
        actor=SYSTEM,
    )


def repair_ticket(*, device, center=None, fault_category="screen", n=[0]):  # noqa: B006 (counter)
    """A minimal RepairTicket row for claims (the repairs app's own services are not needed here)."""
    from repairs.models import Customer, RepairTicket

    from .centers import ServiceCenterFactory

    n[0] += 1
    customer, _ = Customer.objects.get_or_create(phone=f"+86138{n[0]:08d}", defaults={"name": "测试"})
    return RepairTicket.objects.create(
        service_no=f"WT{device.pk:05d}{n[0]:05d}",
        center=center or ServiceCenterFactory(),
        channel="walk_in",
        customer=customer,
        device=device,
        fault_category=fault_category,
    )
