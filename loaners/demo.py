"""Demo loaner pool and deposit rules (called by ``manage.py seed_demo``; idempotent).

Every active service center and flagship store gets a pool of six loaners,
half of them flagships (as in the real network), already wiped. Default deposit
rules (flagship 2,000.00, standard 800.00) plus one province override with the
plan-holder waiver switched on. A few demo tickets in repair get a loan.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from stdnum import luhn

from centers.choices import CenterKind
from centers.models import Region, ServiceCenter
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from warranty.choices import Tier
from warranty.models import DeviceModel

from .choices import LoanerAction, LoanerCondition, LoanerStatus, PaymentMethod
from .models import DepositRule, Loan, Loaner, LoanerEvent

PER_TIER = 3
KITS = {Tier.FLAGSHIP: ["charger", "cable", "case"], Tier.STANDARD: ["charger", "cable"]}
REPLACEMENT = {Tier.FLAGSHIP: Decimal("5999.00"), Tier.STANDARD: Decimal("1999.00")}
CONDITIONS = [LoanerCondition.NEW, LoanerCondition.GOOD, LoanerCondition.FAIR]


def _imei(center_pk: int, n: int) -> str:
    body = f"35{center_pk % 1_000_000:06d}{n:06d}"
    return body + luhn.calc_check_digit(body)


def _model_for(tier: str) -> DeviceModel:
    """A phone model of the tier from the demo catalog; a dedicated loaner model when there is none."""
    model = DeviceModel.objects.filter(category="phone", tier=tier, active=True).order_by("code").first()
    if model is not None:
        return model
    code = f"LOANER-{tier.upper()}"
    model, _ = DeviceModel.objects.get_or_create(
        code=code, defaults={"name": f"Loaner {tier.title()}", "category": "phone", "tier": tier}
    )
    return model


def _rules() -> int:
    created = 0
    for tier, deposit, fee in ((Tier.FLAGSHIP, "2000.00", "50.00"), (Tier.STANDARD, "800.00", "20.00")):
        _, made = DepositRule.objects.get_or_create(
            province=None,
            tier=tier,
            defaults={"deposit": Decimal(deposit), "late_fee_per_day": Decimal(fee), "waive_for_plan_holders": False},
        )
        created += made
    shanghai = Region.objects.filter(adcode__startswith="310000", level="province").first()
    if shanghai is not None:
        for tier, deposit, fee in ((Tier.FLAGSHIP, "2500.00", "60.00"), (Tier.STANDARD, "1000.00", "25.00")):
            _, made = DepositRule.objects.get_or_create(
                province=shanghai,
                tier=tier,
                defaults={
                    "deposit": Decimal(deposit),
                    "late_fee_per_day": Decimal(fee),
                    "waive_for_plan_holders": True,
                },
            )
            created += made
    return created


def _pool() -> int:
    now = timezone.now()
    models = {tier: _model_for(tier) for tier in Tier.values}
    centers = ServiceCenter.objects.filter(
        active=True, kind__in=(CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP)
    ).order_by("code")
    existing = set(Loaner.objects.values_list("imei", flat=True))
    new = []
    for center in centers:
        n = 0
        for tier in (Tier.FLAGSHIP, Tier.STANDARD):
            for i in range(PER_TIER):
                n += 1
                imei = _imei(center.pk, n)
                if imei in existing:
                    continue
                new.append(
                    Loaner(
                        imei=imei,
                        model=models[tier],
                        home_center=center,
                        current_center=center,
                        condition=CONDITIONS[i % len(CONDITIONS)],
                        status=LoanerStatus.AVAILABLE,
                        accessories=KITS[tier],
                        replacement_value=REPLACEMENT[tier],
                        last_wiped_at=now,
                        needs_wipe=False,
                    )
                )
    # Seed data, not a state change: bulk rows, each with its "register" history row.
    Loaner.objects.bulk_create(new, batch_size=1000)
    created = Loaner.objects.filter(imei__in=[loaner.imei for loaner in new]).values_list("pk", "current_center_id")
    LoanerEvent.objects.bulk_create(
        [
            LoanerEvent(
                loaner_id=pk,
                action=LoanerAction.REGISTER,
                from_status="",
                to_status=LoanerStatus.AVAILABLE,
                center_id=center_id,
                actor_label="seed_demo",
                note="demo pool",
                at=now,
            )
            for pk, center_id in created
        ],
        batch_size=1000,
    )
    return len(new)


def _demo_loans(limit: int = 3) -> int:
    """Lend to a few demo tickets in repair (those without any loan yet), through the service."""
    from repairs.choices import OPEN_STATUSES
    from repairs.models import RepairTicket

    from .services import loan_checkout

    if Loan.objects.exists():
        return 0
    lent = 0
    tickets = RepairTicket.objects.filter(status__in=OPEN_STATUSES, loans__isnull=True).order_by("pk")[: limit * 3]
    for ticket in tickets:
        if lent >= limit:
            break
        try:
            loan_checkout(
                ticket_id=ticket.pk,
                tier=Tier.STANDARD if lent % 2 else Tier.FLAGSHIP,
                payment_method=list(PaymentMethod.values)[lent % len(PaymentMethod.values)],
                reference=f"DEMO-{ticket.service_no}",
                actor=SYSTEM,
            )
            lent += 1
        except DomainError:
            continue
    return lent


# Amenities lent at the desk (issue #22): every demo center lends umbrellas against a 20 CNY deposit and power banks
# against 50 CNY; flagship stores also keep reading glasses for free. Stock is set once (a re-run keeps what was lent).
AMENITIES = [
    # kind, zh, en, deposit, on hand, days, flagship only
    ("umbrella", "雨伞", "Umbrella", Decimal("20.00"), 20, 3, False),
    ("power_bank", "充电宝", "Power bank", Decimal("50.00"), 8, 1, False),
    ("reading_glasses", "老花镜", "Reading glasses", Decimal("0.00"), 5, 1, True),
]


def _amenities() -> int:
    from .models import Amenity

    centers = ServiceCenter.objects.filter(
        active=True, kind__in=[CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP]
    ).order_by("pk")
    added = 0
    for center in centers:
        for position, (kind, zh, en, deposit, on_hand, days, flagship_only) in enumerate(AMENITIES):
            if flagship_only and center.kind != CenterKind.FLAGSHIP:
                continue
            _row, created = Amenity.objects.get_or_create(
                center=center,
                kind=kind,
                defaults={
                    "name_zh": zh,
                    "name_en": en,
                    "deposit": deposit,
                    "on_hand": on_hand,
                    "loan_days": days,
                    "position": position,
                },
            )
            added += created
    return added


def seed(*, out, options) -> None:
    with transaction.atomic():
        rules = _rules()
        loaners = _pool()
        amenities = _amenities()
    loans = _demo_loans()
    out.write(
        f"  loaners: {loaners} loaners added, {rules} deposit rules added, {loans} demo loans, "
        f"{amenities} amenities added"
    )
