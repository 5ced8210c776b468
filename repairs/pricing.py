"""The one pricing rule book: turns requested repairs into an explained quote.

For each line: the list price (new original part, or refurbished grade) plus
labor, then the pricing rules of docs/design.md in order, each recorded on the line with its
reason:

1. statutory / extended warranty in force and the fault not excluded -> free;
2. repair warranty: the same repair on this device delivered in the last 90 days -> free;
3. ``screen_care`` (screen lines) / ``battery_care`` (battery lines) with a claim left -> free (uses the claim);
4. ``care_plus`` with a claim left and accidental (or liquid) damage -> the plan's fixed fee (uses one claim
   for the whole quote);
5. fixed-price offer of the model (all-in: part and labor) when cheaper than the list price;
6. Service Day or new-store month at the check-in center on the check-in day -> labor waived.

A line that an earlier rule made free skips the later ones. Everything is
``Decimal`` rounded to the cent (``servicehub.money``). Reads only; the quote
service stores the result.

Each rule is stored as a code, a message key and its parameters
(``{"code", "msg", "params", "reason"}``) and put into words when it is shown
(``rule_reason``), so a quote made in Chinese reads in English on an English
page; ``reason`` is the text in the language of the moment the quote was made
(kept for the API and for rows written before the codes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from servicehub.errors import DomainError
from servicehub.money import ZERO, money
from warranty.choices import Exclusion

from .choices import FaultCategory, PartGrade, QuoteStatus, RepairKind, TicketStatus
from .models import QuoteLine, RepairOperation

REPAIR_WARRANTY_DAYS = 90
ACCIDENT_EXCLUSIONS = ("accidental_damage", "liquid_damage")

# Message key -> English text with %(name)s parameters; translated when shown (rule_reason).
RULE_MESSAGES = {
    "refurbished_part": gettext_noop("Refurbished original part with a 90-day warranty."),
    "statutory_warranty": gettext_noop("Within the statutory warranty: free repair until %(until)s."),
    "statutory_warranty_plain": gettext_noop("Within the statutory warranty."),
    "extended_warranty": gettext_noop("Within the extended warranty (until %(until)s)."),
    "extended_warranty_plain": gettext_noop("Within the extended warranty."),
    "warranty_excluded": gettext_noop("In warranty, but %(reason)s is not covered by free repair."),
    "repair_warranty": gettext_noop("Same repair delivered on %(day)s: replaced parts are covered for 90 days."),
    "plan_claim": gettext_noop("Covered by your %(plan)s plan (one claim used on approval)."),
    "care_plus_same_claim": gettext_noop("Covered by the same Care+ claim as the first line."),
    "care_plus": gettext_noop(
        "Accidental damage covered by your Care+ plan at a fixed fee of %(fee)s CNY (one claim)."
    ),
    "fixed_price": gettext_noop("One-price offer for this model: %(price)s CNY including labor."),
    "service_day": gettext_noop("Service Day at %(center)s on %(day)s: out-of-warranty labor waived."),
    "new_store_month": gettext_noop("New-store month (opened %(opened)s): out-of-warranty labor waived."),
}


def _param_words(msg: str, params: dict) -> dict:
    """Parameters that are codes themselves, put into words in the active language."""
    from warranty.choices import PlanKind

    words = dict(params)
    if msg == "warranty_excluded" and "exclusion" in params:
        words["reason"] = str(dict(Exclusion.choices).get(params["exclusion"], params["exclusion"])).lower()
    if msg == "plan_claim" and "kind" in params:
        words["plan"] = str(dict(PlanKind.choices).get(params["kind"], params["kind"]))
    return words


def rule_text(msg: str, params: dict) -> str:
    """A rule's reason in the active language (``msg`` a key of ``RULE_MESSAGES``)."""
    return _(RULE_MESSAGES[msg]) % _param_words(msg, params or {})


def rule_reason(rule: dict) -> str:
    """What a stored rule says, in the active language; the stored text for rows without a message key."""
    msg = rule.get("msg")
    if msg in RULE_MESSAGES:
        try:
            return rule_text(msg, rule.get("params") or {})
        except (KeyError, TypeError, ValueError):
            pass  # parameters from another version of the text: fall back to what was stored
    return str(rule.get("reason", ""))


def line_description(*, code: str, stored: str) -> str:
    """A quote line's repair in the active language (``code`` a RepairKind); the stored text otherwise."""
    labels = dict(RepairKind.choices)
    return str(labels[code]) if code in labels else stored


@dataclass
class PricedLine:
    operation: RepairOperation
    description: str
    grade: str
    list_part_price: Decimal
    list_labor: Decimal
    part_price: Decimal
    labor: Decimal
    rules: list[dict] = field(default_factory=list)
    plan_purchase_id: int | None = None

    @property
    def amount(self) -> Decimal:
        return money(self.part_price + self.labor)

    @property
    def free(self) -> bool:
        return self.part_price == ZERO and self.labor == ZERO

    def note(self, code: str, msg: str, **params) -> None:
        """Record a rule (without a price change): its code, message key and parameters, and today's words."""
        params = {k: str(v) for k, v in params.items()}
        self.rules.append({"code": code, "msg": msg, "params": params, "reason": rule_text(msg, params)})

    def apply(
        self, code: str, msg: str, *, part: Decimal | None = None, labor: Decimal | None = None, **params
    ) -> None:
        if part is not None:
            self.part_price = money(part)
        if labor is not None:
            self.labor = money(labor)
        self.note(code, msg, **params)


@dataclass
class PricedQuote:
    lines: list[PricedLine]
    exclusions: list[str]

    @property
    def total(self) -> Decimal:
        return money(sum((line.amount for line in self.lines), ZERO))


def checkin_moment(ticket) -> dt.datetime:
    return ticket.received_at or timezone.now()


def checkin_center(ticket):
    """Where the customer handed the device in: the collection point for forwarded devices."""
    return ticket.origin_center if ticket.origin_center_id else ticket.center


def _operations(ticket, requested: list[dict]) -> list[tuple[RepairOperation, str]]:
    if not requested:
        raise DomainError("validation_error", _("A quote needs at least one repair."), field="lines")
    codes = [str(item.get("repair", "")) for item in requested]
    ops = {op.code: op for op in RepairOperation.objects.filter(device_model_id=ticket.device.model_id, code__in=codes)}
    unknown = [c for c in codes if c not in ops]
    if unknown:
        raise DomainError(
            "validation_error",
            _("Unknown repair code(s) for this device model: %(codes)s.") % {"codes": ", ".join(unknown)},
            field="lines",
        )
    if len(set(codes)) != len(codes):
        raise DomainError("validation_error", _("Each repair may appear once in a quote."), field="lines")
    out = []
    for item, code in zip(requested, codes, strict=True):
        grade = item.get("grade") or PartGrade.NEW
        if grade not in PartGrade.values:
            raise DomainError("validation_error", _("Unknown part grade “%(g)s”.") % {"g": grade}, field="lines")
        if grade == PartGrade.REFURBISHED and ops[code].refurbished_price is None:
            raise DomainError(
                "validation_error",
                _("No refurbished part is offered for “%(name)s”.") % {"name": ops[code].name},
                field="lines",
            )
        out.append((ops[code], grade))
    return out


def _recent_repairs(ticket, codes: list[str], since: dt.datetime) -> dict[str, dt.datetime]:
    """Repairs of the same kinds done on this device and delivered since ``since`` -> delivery time."""
    rows = (
        QuoteLine.objects.filter(
            quote__ticket__device_id=ticket.device_id,
            quote__status__in=(QuoteStatus.APPROVED, QuoteStatus.AUTO_APPROVED),
            quote__ticket__status__in=(TicketStatus.DELIVERED, TicketStatus.CLOSED),
            quote__ticket__delivered_at__gte=since,
            operation__code__in=codes,
        )
        .exclude(quote__ticket_id=ticket.pk)
        .values_list("operation__code", "quote__ticket__delivered_at")
    )
    found: dict[str, dt.datetime] = {}
    for code, at in rows:
        if code not in found or at > found[code]:
            found[code] = at
    return found


def _labor_waiver(ticket, day: dt.date) -> tuple[str, dict] | None:
    from centers.selectors import center_promotion_on

    center = checkin_center(ticket)
    promotion = center_promotion_on(center=center, day=day)
    if promotion.service_day is not None:
        return "service_day", {"center": center.name, "day": day.isoformat()}
    if promotion.new_store_month:
        return "new_store_month", {"opened": center.opened_on.isoformat()}
    return None


def quote_price(*, ticket, lines: list[dict], exclusions=(), at: dt.datetime | None = None) -> PricedQuote:
    """Price ``lines`` (``[{"repair": CODE, "grade"?: "new"/"refurbished"}]``) for ``ticket``.

    Refuses unknown repair codes for the device's model, duplicates, unknown
    grades and an empty list (``validation_error``, field ``lines``).
    """
    from warranty.selectors import device_coverage

    at = at or checkin_moment(ticket)
    day = timezone.localdate(at)
    exclusions = sorted({str(e) for e in exclusions})
    if ticket.fault_category == FaultCategory.LIQUID_DAMAGE and "liquid_damage" not in exclusions:
        exclusions.append("liquid_damage")
    accidental = any(e in ACCIDENT_EXCLUSIONS for e in exclusions)
    ops = _operations(ticket, lines)
    recent = _recent_repairs(ticket, [op.code for op, _g in ops], at - dt.timedelta(days=REPAIR_WARRANTY_DAYS))
    waiver = _labor_waiver(ticket, day)

    coverages: dict[str, object] = {}
    claims_left: dict[int, int | None] = {}  # purchase id -> claims left within this quote
    care_plus_purchase: int | None = None
    priced: list[PricedLine] = []

    for op, grade in ops:
        if grade == PartGrade.REFURBISHED:
            list_part = money(op.refurbished_price)
        else:
            list_part = money(op.part_price)
        line = PricedLine(
            operation=op,
            description=op.name,
            grade=grade,
            list_part_price=list_part,
            list_labor=money(op.labor),
            part_price=list_part,
            labor=money(op.labor),
        )
        if grade == PartGrade.REFURBISHED:
            line.note("refurbished_part", "refurbished_part")
        fault = op.fault_category
        if fault not in coverages:
            coverages[fault] = device_coverage(device=ticket.device, at=at, fault=fault, exclusions=exclusions)
        cov = coverages[fault]
        for plan in cov.plans:
            claims_left.setdefault(plan.purchase_id, plan.claims_remaining)

        # 1. statutory or extended warranty
        if cov.free_repair:
            statutory = cov.repair_until is not None and cov.repair_until >= day
            code = "statutory_warranty" if statutory else "extended_warranty"
            until = cov.repair_until if statutory else cov.extended_until
            if until is not None:
                line.apply(code, code, part=ZERO, labor=ZERO, until=until.isoformat())
            else:
                line.apply(code, f"{code}_plain", part=ZERO, labor=ZERO)
            priced.append(line)
            continue
        if cov.in_warranty and cov.excluded_reason:
            line.note("warranty_excluded", "warranty_excluded", exclusion=cov.excluded_reason)

        # 2. repair warranty (90 days on a replaced part)
        if op.code in recent:
            line.apply(
                "repair_warranty",
                "repair_warranty",
                part=ZERO,
                labor=ZERO,
                day=timezone.localdate(recent[op.code]).isoformat(),
            )
            priced.append(line)
            continue

        # 3. screen_care / battery_care: one free replacement per claim
        plan_kind = {RepairKind.SCREEN: "screen_care", RepairKind.BATTERY: "battery_care"}.get(op.code)
        plan = next(
            (p for p in cov.plans if plan_kind and p.kind == plan_kind and claims_left.get(p.purchase_id, 0) != 0),
            None,
        )
        if plan is not None:
            # The plan's kind in words, never its internal product code.
            line.apply(plan_kind, "plan_claim", part=ZERO, labor=ZERO, kind=plan_kind)
            line.plan_purchase_id = plan.purchase_id
            if claims_left[plan.purchase_id] is not None:
                claims_left[plan.purchase_id] -= 1
            priced.append(line)
            continue

        # 4. care_plus: accidental damage at a fixed fee, one claim for the whole quote
        if accidental:
            if care_plus_purchase is not None:
                line.apply("care_plus", "care_plus_same_claim", part=ZERO, labor=ZERO)
                priced.append(line)
                continue
            plan = next(
                (p for p in cov.plans if p.kind == "care_plus" and claims_left.get(p.purchase_id, 0) != 0), None
            )
            if plan is not None:
                fee = money(plan.fee_per_claim or ZERO)
                line.apply("care_plus", "care_plus", part=fee, labor=ZERO, fee=fee)
                line.plan_purchase_id = plan.purchase_id
                care_plus_purchase = plan.purchase_id
                if claims_left[plan.purchase_id] is not None:
                    claims_left[plan.purchase_id] -= 1
                priced.append(line)
                continue

        # 5. fixed-price offer (all-in) when it is cheaper than part + labor
        if grade == PartGrade.NEW and op.fixed_price is not None and money(op.fixed_price) < line.amount:
            line.apply("fixed_price", "fixed_price", part=op.fixed_price, labor=ZERO, price=money(op.fixed_price))

        # 6. Service Day / new-store month: labor waived
        if waiver is not None and line.labor > ZERO:
            line.apply(waiver[0], waiver[0], labor=ZERO, **waiver[1])
        priced.append(line)

    return PricedQuote(lines=priced, exclusions=exclusions)
