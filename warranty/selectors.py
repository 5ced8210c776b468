"""Reads: the coverage answer the repairs app prices from, plans on sale, device look-ups.

``device_coverage`` is a cross-app contract (docs/warranty.md):
keep its signature and the dataclasses' fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.errors import DomainError, NotFound
from servicehub.money import money

from . import dates
from .choices import WARRANTY_PLAN_KINDS, Component, Exclusion, PlanKind, PurchaseStatus
from .models import Device, DeviceModel, PlanPrice, PlanProduct, PlanPurchase, StatutoryPolicy, validate_imei

# Faults (repairs.choices.FaultCategory values) that imply an exclusion by themselves.
FAULT_EXCLUSIONS = {"liquid_damage": Exclusion.LIQUID_DAMAGE}
# Faults repaired under a component's own statutory period instead of the main unit's.
FAULT_COMPONENTS = {"battery": Component.BATTERY}
# Canonical order: when several exclusions apply, the first one is reported.
EXCLUSION_ORDER = tuple(Exclusion.values)


@dataclass(frozen=True)
class PlanCoverage:
    purchase_id: int
    code: str  # PlanProduct.code
    kind: str  # "extended_warranty" | "screen_care" | "care_plus" | "battery_care"
    valid_until: dt.date  # local date (Asia/Shanghai), inclusive
    claims_remaining: int | None  # None = unlimited (extended_warranty)
    fee_per_claim: Decimal | None  # care_plus fee for this fault (99.00 screen / 299.00 other); None/0 = free


@dataclass(frozen=True)
class Coverage:
    device_id: int
    return_until: dt.date | None  # statutory 7-day return (inclusive, local dates)
    exchange_until: dt.date | None  # statutory 15-day exchange
    repair_until: dt.date | None  # statutory free-repair end (12 months for phones)
    extended_until: dt.date | None  # end of an active extended_warranty (or care_plus) plan, if any
    in_warranty: bool  # statutory or extended repair warranty in force at `at`
    free_repair: bool  # in_warranty and the fault/exclusions do not void it
    excluded_reason: str | None  # e.g. "liquid_damage" when an exclusion voids free repair
    plans: tuple[PlanCoverage, ...]  # active purchases at `at`, with claims left
    reasons: tuple[str, ...]  # human-readable (translatable) explanations


def statutory_policy_for(*, category: str) -> StatutoryPolicy:
    """The category's policy; the statutory defaults (unsaved) when HQ has not configured one."""
    policy = StatutoryPolicy.objects.filter(category=category).first()
    return policy if policy is not None else StatutoryPolicy(category=category)


def _active_purchases(device, *, on: dt.date) -> list[PlanPurchase]:
    cached = getattr(device, "_prefetched_objects_cache", {}).get("plan_purchases")
    purchases = cached if cached is not None else device.plan_purchases.select_related("product")
    return sorted(
        (p for p in purchases if p.status == PurchaseStatus.ACTIVE and p.starts_on <= on <= p.ends_on),
        key=lambda p: (p.ends_on, p.pk),
    )


def device_coverage(
    *,
    device,
    at: dt.datetime | None = None,
    fault: str | None = None,
    exclusions: Iterable[str] = (),
    component: str | None = None,
) -> Coverage:
    """What covers ``device`` at ``at`` (default now) for ``fault``.

    ``fault`` is a ``repairs.choices.FaultCategory`` value (``liquid_damage`` implies the liquid
    exclusion; ``battery`` uses the battery's own statutory period). ``exclusions`` are
    ``warranty.choices.Exclusion`` values found at diagnosis; any of them voids free repair.
    ``component`` (optional, a ``Component``) overrides the component derived from the fault,
    e.g. ``"charger"`` for an accessory brought in.

    Statutory dates are None when the sale date is unknown. Extended warranty and Care+ act as a
    repair warranty for the main unit only (batteries are covered by ``battery_care``).
    Plans listed are the active purchases in force at ``at`` with a claim left (or unlimited).
    Unknown exclusion values raise ``validation_error`` (field ``exclusions``).
    """
    at = at or timezone.now()
    on = dates.local_date(at)
    unknown = sorted(set(exclusions) - set(Exclusion.values))
    if unknown:
        raise DomainError("validation_error", _("Unknown exclusion(s): %s.") % ", ".join(unknown), field="exclusions")
    if component is not None and component not in Component.values:
        raise DomainError("validation_error", _("Unknown component: %s.") % component, field="component")
    component = component or FAULT_COMPONENTS.get(fault or "", Component.MAIN_UNIT)
    excluded = set(exclusions)
    if fault in FAULT_EXCLUSIONS:
        excluded.add(FAULT_EXCLUSIONS[fault])
    excluded_reason = next((e for e in EXCLUSION_ORDER if e in excluded), None)

    reasons: list[str] = []
    return_until = exchange_until = repair_until = component_until = None
    policy = getattr(device, "_statutory_policy", None) or statutory_policy_for(category=device.model.category)
    if device.sold_at is None:
        reasons.append(_("The sale date is unknown: no statutory warranty can be computed."))
    else:
        sale_date = dates.local_date(device.sold_at)
        return_until = policy.return_until(sale_date)
        exchange_until = policy.exchange_until(sale_date)
        repair_until = policy.repair_until(sale_date)
        component_until = policy.repair_until(sale_date, component)
        if on <= return_until:
            reasons.append(
                _("Within the %(days)d-day return period (until %(until)s).")
                % {"days": policy.return_days, "until": return_until.isoformat()}
            )
        if on <= exchange_until:
            reasons.append(
                _("Within the %(days)d-day exchange period (until %(until)s).")
                % {"days": policy.exchange_days, "until": exchange_until.isoformat()}
            )

    active = _active_purchases(device, on=on)
    warranty_plans = [p for p in active if p.product.kind in WARRANTY_PLAN_KINDS]
    extended_until = max((p.ends_on for p in warranty_plans), default=None)

    statutory_ok = dates.covers(component_until, on)
    extended_ok = extended_until is not None and component == Component.MAIN_UNIT
    in_warranty = dates.covers(repair_until, on) or extended_until is not None
    if statutory_ok and component_until is not None:  # covers() is False without a date
        reasons.append(
            _("Statutory warranty (%(component)s) in force until %(until)s.")
            % {"component": Component(component).label, "until": component_until.isoformat()}
        )
    elif component_until is not None:
        reasons.append(
            _("Statutory warranty (%(component)s) ended on %(until)s.")
            % {"component": Component(component).label, "until": component_until.isoformat()}
        )
    if extended_until is not None:
        if extended_ok:
            reasons.append(
                _("Extended repair warranty in force until %(until)s.") % {"until": extended_until.isoformat()}
            )
        else:
            reasons.append(
                _("The extended warranty covers the main unit only, not the %(component)s.")
                % {"component": Component(component).label}
            )
    covered = statutory_ok or extended_ok
    free_repair = covered and excluded_reason is None
    if covered and excluded_reason is not None:
        reasons.append(_("Free repair is void: %(reason)s.") % {"reason": Exclusion(excluded_reason).label})

    plans = []
    for p in active:
        remaining = p.claims_remaining
        if remaining == 0:
            continue
        kind = p.product.kind
        fee = None if kind == PlanKind.EXTENDED_WARRANTY else money(p.product.fee_for(fault))
        plans.append(
            PlanCoverage(
                purchase_id=p.pk,
                code=p.product.code,
                kind=kind,
                valid_until=p.ends_on,
                claims_remaining=remaining,
                fee_per_claim=fee,
            )
        )
        if remaining is not None:
            reasons.append(
                _("%(plan)s: %(n)d claim(s) left until %(until)s.")
                % {"plan": p.product.name, "n": remaining, "until": p.ends_on.isoformat()}
            )
    return Coverage(
        device_id=device.pk,
        return_until=return_until,
        exchange_until=exchange_until,
        repair_until=repair_until,
        extended_until=extended_until,
        in_warranty=in_warranty,
        free_repair=free_repair,
        excluded_reason=excluded_reason,
        plans=tuple(plans),
        reasons=tuple(reasons),
    )


def normalize_imei(value: str) -> str:
    """Strip spaces and dashes (``86 123456 789012 3``) — validation is separate."""
    return "".join(ch for ch in str(value) if ch not in " -")


def device_for_coverage(*, imei: str) -> Device:
    """The device with this IMEI, loaded for ``device_coverage`` (2 queries + policy).

    Raises ``validation_error`` (field ``imei``) for a malformed IMEI and ``not_found`` when unknown.
    """
    from django.core.exceptions import ValidationError

    imei = normalize_imei(imei)
    try:
        validate_imei(imei)
    except ValidationError as exc:
        raise DomainError("validation_error", exc.messages[0], field="imei") from None
    device = (
        Device.objects.select_related("model")
        .prefetch_related(Prefetch("plan_purchases", queryset=PlanPurchase.objects.select_related("product")))
        .filter(imei=imei)
        .first()
    )
    if device is None:
        raise NotFound(_("No device with this IMEI is registered."))
    return device


def device_find(*, imei: str | None = None, serial: str | None = None) -> Device | None:
    if imei:
        return Device.objects.select_related("model").filter(imei=normalize_imei(imei)).first()
    if serial:
        return Device.objects.select_related("model").filter(serial=serial.strip()).first()
    return None


def device_models_active(*, category: str | None = None) -> QuerySet[DeviceModel]:
    qs = DeviceModel.objects.filter(active=True)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("code", "pk")


def plan_product_eligible(*, product: PlanProduct, model: DeviceModel) -> bool:
    """Category and model eligibility (uses a prefetched ``eligible_models`` when present)."""
    if product.eligible_categories and model.category not in product.eligible_categories:
        return False
    eligible = list(product.eligible_models.all())
    return not eligible or any(m.pk == model.pk for m in eligible)


def plan_price_for(*, product: PlanProduct, tier: str) -> Decimal | None:
    cached = getattr(product, "_prefetched_objects_cache", {}).get("prices")
    prices = cached if cached is not None else product.prices.all()
    return next((money(p.price) for p in prices if p.tier == tier), None)


def plans_on_sale(*, model: DeviceModel | None = None) -> list[PlanProduct]:
    """Plan products on sale (for ``model``: only the eligible ones with a price for its tier), by code."""
    products = list(
        PlanProduct.objects.filter(on_sale=True)
        .prefetch_related("eligible_models", Prefetch("prices", queryset=PlanPrice.objects.order_by("tier")))
        .order_by("code")
    )
    if model is None:
        return products
    return [
        p
        for p in products
        if plan_product_eligible(product=p, model=model) and plan_price_for(product=p, tier=model.tier) is not None
    ]


def plan_purchase_visible(*, purchase: PlanPurchase, actor) -> bool:
    """The rule of ``plan_purchases_visible`` for one purchase (services check it under the lock)."""
    if actor.partner is not None:
        return purchase.partner_id == actor.partner.pk
    if actor.is_system or actor.sees_all_centers:
        return True
    return purchase.center_id is not None and purchase.center_id in (actor.center_ids or ())


def plan_purchases_visible(*, actor) -> QuerySet[PlanPurchase]:
    """Purchases the actor may see: a partner its own sales; staff their centers' counter sales (HQ all)."""
    qs = PlanPurchase.objects.select_related("device", "device__model", "product", "partner").order_by(
        "-purchased_at", "-pk"
    )
    if actor.partner is not None:
        return qs.filter(partner=actor.partner)
    if actor.is_system or actor.sees_all_centers:
        return qs
    return qs.filter(center_id__in=actor.center_ids or ())
