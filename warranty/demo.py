"""Demo data for ``python manage.py seed_demo``: catalog, statutory policies, plans, devices, purchases.

Idempotent: models, policies and plan products are keyed by code/category and updated to the
values below; demo devices are keyed by IMEI and created only when missing (their sale dates,
relative to the first run, then stay put); a plan is bought only when the device has none of
that product yet. IMEIs are Luhn-valid and deterministic (``demo_imei(n)``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from servicehub.actors import SYSTEM

from . import services
from .choices import PlanKind, PurchaseChannel, SaleChannel, Tier
from .models import Device, DeviceModel, PlanPrice, PlanProduct, PlanPurchase, StatutoryPolicy
from .selectors import device_coverage

DEMO_TAC = "86920012"  # a made-up type allocation code for demo devices

F, S = Tier.FLAGSHIP, Tier.STANDARD

# code, marketing name, category, tier, release date
CATALOG = [
    ("MATE70PROPLUS", "HUAWEI Mate 70 Pro+", "phone", F, dt.date(2024, 11, 26)),
    ("MATE70PRO", "HUAWEI Mate 70 Pro", "phone", F, dt.date(2024, 11, 26)),
    ("MATE70", "HUAWEI Mate 70", "phone", F, dt.date(2024, 11, 26)),
    ("MATEX6", "HUAWEI Mate X6", "phone", F, dt.date(2024, 11, 26)),
    ("PURA80PRO", "HUAWEI Pura 80 Pro", "phone", F, dt.date(2025, 6, 11)),
    ("PURA70ULTRA", "HUAWEI Pura 70 Ultra", "phone", F, dt.date(2024, 4, 18)),
    ("PURA70", "HUAWEI Pura 70", "phone", F, dt.date(2024, 4, 18)),
    ("NOVA14", "HUAWEI nova 14", "phone", S, dt.date(2025, 5, 20)),
    ("NOVA13PRO", "HUAWEI nova 13 Pro", "phone", S, dt.date(2024, 10, 22)),
    ("NOVA13", "HUAWEI nova 13", "phone", S, dt.date(2024, 10, 22)),
    ("NOVA12SE", "HUAWEI nova 12 SE", "phone", S, dt.date(2024, 2, 26)),
    ("ENJOY70", "HUAWEI Enjoy 70", "phone", S, dt.date(2023, 12, 5)),
    ("MATEPADPRO132", "HUAWEI MatePad Pro 13.2", "tablet", F, dt.date(2023, 9, 25)),
    ("MATEPAD115", "HUAWEI MatePad 11.5", "tablet", S, dt.date(2024, 5, 15)),
    ("MATEPADAIR", "HUAWEI MatePad Air", "tablet", S, dt.date(2024, 5, 15)),
    ("MATEBOOKXPRO", "HUAWEI MateBook X Pro", "pc", F, dt.date(2024, 4, 11)),
    ("MATEBOOK14", "HUAWEI MateBook 14", "pc", S, dt.date(2024, 4, 11)),
    ("MATEBOOKD16", "HUAWEI MateBook D 16", "pc", S, dt.date(2024, 3, 1)),
    ("WATCHGT5PRO", "HUAWEI WATCH GT 5 Pro", "wearable", F, dt.date(2024, 9, 26)),
    ("WATCHGT5", "HUAWEI WATCH GT 5", "wearable", S, dt.date(2024, 9, 26)),
    ("WATCH5", "HUAWEI WATCH 5", "wearable", F, dt.date(2025, 5, 15)),
    ("BAND9", "HUAWEI Band 9", "wearable", S, dt.date(2024, 7, 3)),
    ("SMARTSCREENV5", "HUAWEI Vision Smart Screen V5", "smart_screen", F, dt.date(2023, 11, 6)),
    ("SMARTSCREENSE", "HUAWEI Smart Screen SE", "smart_screen", S, dt.date(2024, 3, 15)),
]

# category: return days, exchange days, main-unit months, battery, charger, cable, earphones (months)
POLICIES = {
    "phone": (7, 15, 12, 6, 12, 3, 3),
    "tablet": (7, 15, 12, 6, 12, 3, 3),
    "pc": (7, 15, 12, 12, 12, 3, 3),
    "wearable": (7, 15, 12, 12, 12, 3, 3),
    "smart_screen": (7, 15, 12, 12, 12, 3, 3),
}

# code, (name, English name), kind, term months, claims, fee, screen fee, categories, window days,
# cooling-off days, prices
PLANS = [
    (
        "EXT6",
        ("延长服务宝 6个月", "Extended warranty +6 months"),
        PlanKind.EXTENDED_WARRANTY,
        6,
        None,
        "0",
        None,
        ["phone", "tablet", "pc", "wearable"],
        180,
        7,
        {F: "199.00", S: "99.00"},
    ),
    (
        "EXT12",
        ("延长服务宝 1年", "Extended warranty +12 months"),
        PlanKind.EXTENDED_WARRANTY,
        12,
        None,
        "0",
        None,
        ["phone", "tablet", "pc", "wearable", "smart_screen"],
        180,
        7,
        {F: "349.00", S: "179.00"},
    ),
    (
        "SCREEN12",
        ("碎屏服务宝 1年", "Screen care 1 year"),
        PlanKind.SCREEN_CARE,
        12,
        1,
        "0",
        None,
        ["phone", "tablet"],
        30,
        7,
        {F: "399.00", S: "199.00"},
    ),
    (
        "CAREPLUS24",
        ("无忧服务 2年", "Care+ 2 years"),
        PlanKind.CARE_PLUS,
        24,
        2,
        "299.00",
        "99.00",
        ["phone"],
        14,
        7,
        {F: "899.00", S: "499.00"},
    ),
    (
        "BATTERY24",
        ("电池服务宝 2年", "Battery care 2 years"),
        PlanKind.BATTERY_CARE,
        24,
        1,
        "0",
        None,
        ["phone", "tablet", "wearable"],
        90,
        7,
        {F: "129.00", S: "79.00"},
    ),
]

# n, model code, days since the sale, plans bought with it (at the sale + 1 hour)
DEVICES = [
    (1, "MATE70PRO", 3, ["SCREEN12"]),  # within the 7-day return period
    (2, "MATE70", 12, []),  # exchange period
    (3, "PURA70ULTRA", 200, ["CAREPLUS24"]),  # statutory warranty + Care+
    (4, "NOVA13", 300, ["BATTERY24"]),
    (5, "NOVA12SE", 420, []),  # out of warranty
    (6, "MATE70PRO", 450, ["EXT12"]),  # statutory over, extended warranty in force
    (7, "MATEX6", 60, ["SCREEN12", "EXT6"]),
    (8, "PURA70", 500, ["SCREEN12"]),  # out of warranty; screen care expired
    (9, "NOVA13PRO", 25, ["CAREPLUS24"]),
    (10, "ENJOY70", 700, []),
    (11, "MATEPADPRO132", 90, ["SCREEN12"]),
    (12, "MATEPAD115", 380, []),
    (13, "WATCHGT5", 40, ["BATTERY24"]),
    (14, "WATCH5", 5, []),
    (15, "PURA80PRO", 1, ["CAREPLUS24"]),
    (16, "NOVA14", 150, ["EXT6"]),
    (17, "MATE70PROPLUS", 30, ["SCREEN12"]),
    (18, "MATEPADAIR", 10, []),
]
# PCs, smart screens and bands carry serial numbers, not IMEIs.
SERIAL_DEVICES = [
    ("DEMO-MBXP-0001", "MATEBOOKXPRO", 100, ["EXT12"]),
    ("DEMO-MBD16-0001", "MATEBOOKD16", 400, []),
    ("DEMO-V5-0001", "SMARTSCREENV5", 20, []),
    ("DEMO-BAND9-0001", "BAND9", 8, []),
]


def demo_imei(n: int) -> str:
    body = f"{DEMO_TAC}{n:06d}"
    return body + luhn.calc_check_digit(body)


def _retailer():
    from partners.models import Partner

    partner = Partner.objects.filter(kind="retailer", active=True).order_by("pk").first()
    if partner is None:
        partner, _ = Partner.objects.get_or_create(name="悦购数码 (demo retailer)", defaults={"kind": "retailer"})
    return partner


@transaction.atomic
def seed(*, out, options) -> None:
    for code, name, category, tier, released in CATALOG:
        DeviceModel.objects.update_or_create(
            code=code, defaults={"name": name, "category": category, "tier": tier, "release_date": released}
        )
    for category, (ret, exch, main, battery, charger, cable, earphones) in POLICIES.items():
        StatutoryPolicy.objects.update_or_create(
            category=category,
            defaults={
                "return_days": ret,
                "exchange_days": exch,
                "repair_months": main,
                "battery_months": battery,
                "charger_months": charger,
                "cable_months": cable,
                "earphones_months": earphones,
            },
        )
    for code, name, kind, term, claims, fee, screen_fee, cats, window, cooling, prices in PLANS:
        product, _ = PlanProduct.objects.update_or_create(
            code=code,
            defaults={
                "name": name[0],
                "name_en": name[1],
                "kind": kind,
                "term_months": term,
                "claims_allowed": claims,
                "fee_per_claim": Decimal(fee),
                "screen_fee_per_claim": Decimal(screen_fee) if screen_fee else None,
                "eligible_categories": cats,
                "purchase_window_days": window,
                "cooling_off_days": cooling,
            },
        )
        for tier, price in prices.items():
            PlanPrice.objects.update_or_create(product=product, tier=tier, defaults={"price": Decimal(price)})

    retailer = _retailer()
    from centers.models import Region

    provinces = list(Region.objects.filter(level="province").order_by("adcode")[:10])
    now = timezone.now()
    models = {m.code: m for m in DeviceModel.objects.all()}
    created = bought = 0
    rows = [({"imei": demo_imei(n)}, code, days, plans) for n, code, days, plans in DEVICES]
    rows += [({"serial": serial}, code, days, plans) for serial, code, days, plans in SERIAL_DEVICES]
    for i, (lookup, code, days, plans) in enumerate(rows):
        # 20:30 local on the sale day: late enough to exercise the local-date convention.
        sale_day = timezone.localtime(now).date() - dt.timedelta(days=days)
        sold_at = timezone.make_aware(dt.datetime.combine(sale_day, dt.time(20, 30)))
        device, was_created = Device.objects.get_or_create(
            **lookup,
            defaults={
                "model": models[code],
                "sold_at": sold_at,
                "retailer": retailer,
                "channel": SaleChannel.RETAIL,
                "region": provinces[i % len(provinces)] if provinces else None,
            },
        )
        created += was_created
        for plan_code in plans:
            if PlanPurchase.objects.filter(device=device, product__code=plan_code).exists():
                continue
            services.plan_purchase_create(
                device=device,
                plan_code=plan_code,
                purchased_at=device.sold_at + dt.timedelta(hours=1),
                channel=PurchaseChannel.PARTNER,
                partner=retailer,
                actor=SYSTEM,
            )
            bought += 1
    services.plan_purchases_expire(now=now)

    out.write(
        f"  warranty: {len(CATALOG)} models, {len(POLICIES)} policies, {len(PLANS)} plans; "
        f"{created} devices and {bought} plan purchases created\n"
    )
    for n, label in [
        (1, "in the 7-day return period, screen care"),
        (6, "statutory over, extended warranty"),
        (3, "in warranty with Care+"),
        (5, "out of warranty"),
    ]:
        device = Device.objects.select_related("model").get(imei=demo_imei(n))
        cov = device_coverage(device=device)
        out.write(
            f"    IMEI {device.imei} ({device.model.name}): {label} — in_warranty={cov.in_warranty}; "
            f"GET /api/v1/devices/{device.imei}/coverage/\n"
        )
