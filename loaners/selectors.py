"""Reads for loaners: what repairs, the API, the admin and the jobs ask.

Nothing here writes. ``loan_settlement`` is the one place the money of a
return is computed: the preview the counter shows and ``loan_return`` both
call it, so what the customer is shown is what the ledger gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.geo import bounding_box, haversine_km
from servicehub.errors import DomainError, NotFound
from servicehub.money import MONEY_MAX, ZERO, money

from .choices import (
    OPEN_LOAN_STATUSES,
    DeductionKind,
    EntryKind,
    LoanerStatus,
    LoanStatus,
    PaymentMethod,
    ReturnCondition,
)
from .conf import loaner_setting

_OPEN = [s.value for s in OPEN_LOAN_STATUSES]

# Kinds a caller may enter at the counter; late fees and losses are computed.
MANUAL_DEDUCTION_KINDS = (DeductionKind.DAMAGE, DeductionKind.MISSING_ACCESSORY)


# --- Contracts used by repairs (registered in LoanersConfig.ready(); repairs never imports loaners) ----------


def ticket_has_open_loan(*, ticket_id: int) -> bool:
    """True when a loaner lent for this ticket is still with the customer (out or overdue)."""
    from .models import Loan

    return Loan.objects.filter(ticket_id=ticket_id, status__in=_OPEN).exists()


def ticket_close_refusal(ticket) -> str | None:
    """The repairs close guard: a ticket does not close while a loaner lent for it is still out.

    Registered with ``repairs.workflow.transition_guard_register`` for ``close``, so
    ``ticket_transition`` and ``allowed_actions`` both apply it.
    """
    if ticket_has_open_loan(ticket_id=ticket.pk):
        return _("A loaner lent for this repair has not been returned yet.")
    return None


def ticket_open_loan_id(*, ticket_id: int) -> int | None:
    """The open loan of a ticket, for the ticket page's "return the loaner" prompt at hand-over.

    Link it with ``reverse("admin:loaners_loan_return", args=[loan_id])``; lend with
    ``reverse("admin:loaners_loan_checkout") + "?ticket=<service_no>"``.
    """
    from .models import Loan

    return Loan.objects.filter(ticket_id=ticket_id, status__in=_OPEN).values_list("pk", flat=True).first()


def loan_public_summary(*, ticket_id: int) -> dict | None:
    """The loan box of the tracking page / ticket API, or None when the ticket never had a loan.

    ``{"status", "tier", "model", "due_at", "deposit"}``: the open loan if any, else the latest;
    ``due_at`` is an aware datetime in Asia/Shanghai, ``deposit`` a 2-decimal string.
    No IMEI, no payment data: the tracking page is reachable with a service number and 4 digits.
    """
    return ticket_loan_box(ticket_id=ticket_id)[0]


def ticket_loan_box(*, ticket_id: int) -> tuple[dict | None, int | None]:
    """The loan box (as ``loan_public_summary``) and the open loan's id for the staff workspace; one query.

    The latest loan is the open one when there is one (a ticket has at most one loan out at a time)."""
    from .models import Loan

    loan = Loan.objects.filter(ticket_id=ticket_id).select_related("loaner__model").order_by("-out_at", "-pk").first()
    if loan is None:
        return None, None
    summary = {
        "status": loan.status,
        "tier": loan.tier,
        "model": loan.loaner.model.name,
        "due_at": timezone.localtime(loan.due_at),
        "deposit": f"{loan.deposit:.2f}",
    }
    return summary, (loan.pk if loan.status in _OPEN else None)


# --- Scoping -------------------------------------------------------------------------


def loans_visible(*, actor) -> QuerySet:
    """Loans at the actor's centers (all for HQ/superusers/system)."""
    from .models import Loan

    qs = Loan.objects.all()
    if actor is not None and actor.center_ids is not None:
        qs = qs.filter(center_id__in=actor.center_ids)
    return qs


def loaners_visible(*, actor) -> QuerySet:
    """Loaners currently at, or belonging to, the actor's centers."""
    from .models import Loaner

    qs = Loaner.objects.all()
    if actor is not None and actor.center_ids is not None:
        qs = qs.filter(Q(current_center_id__in=actor.center_ids) | Q(home_center_id__in=actor.center_ids))
    return qs


def loan_get_for_actor(*, loan_id, actor):
    """The loan, or ``not_found`` when it does not exist or belongs to another center."""
    loan = loans_visible(actor=actor).filter(pk=loan_id).first() if str(loan_id).isdigit() else None
    if loan is None:
        raise NotFound(_("No such loan."))
    return loan


# --- Pool ----------------------------------------------------------------------------


def loaners_lendable(*, center_id: int, tier: str) -> QuerySet:
    """Loaners that may be lent now at this center: available, wiped, of the tier."""
    from .models import Loaner

    return Loaner.objects.filter(
        current_center_id=center_id,
        status=LoanerStatus.AVAILABLE,
        needs_wipe=False,
        model__tier=tier,
    )


def loaner_availability(*, center_id: int) -> dict[str, int]:
    """Lendable loaners per tier at a center: ``{"flagship": n, "standard": m}`` (0 when none)."""
    from warranty.choices import Tier

    from .models import Loaner

    counts = dict.fromkeys(Tier.values, 0)
    rows = (
        Loaner.objects.filter(current_center_id=center_id, status=LoanerStatus.AVAILABLE, needs_wipe=False)
        .values_list("model__tier")
        .annotate(n=Count("id"))
    )
    for tier, n in rows:
        counts[tier] = n
    return counts


# Search radii (km) tried in turn; None = the whole network.
NEARBY_RADII_KM = (100, 400, 1500, None)


def centers_with_loaner_nearby(*, center, tier: str, limit: int | None = None) -> list[dict]:
    """Other active centers with a lendable loaner of ``tier``, nearest first.

    ``[{"code", "name", "distance_km", "available"}]`` (at most ``limit``, default
    ``LOANERS["NEARBY_CENTERS"]``). One grouped query per radius tried: a lat/lng
    box around the center first (the centers' lat/lng index), widened until
    ``limit`` centers lie within the radius, so the answer is the true nearest
    without aggregating the whole pool in the common case.
    """
    from .models import Loaner

    limit = limit or loaner_setting("NEARBY_CENTERS")
    base = (
        Loaner.objects.filter(
            status=LoanerStatus.AVAILABLE, needs_wipe=False, model__tier=tier, current_center__active=True
        )
        .exclude(current_center_id=center.pk)
        .values(
            "current_center_id",
            "current_center__code",
            "current_center__name",
            "current_center__lat",
            "current_center__lng",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    rows: list[dict] = []
    for radius in NEARBY_RADII_KM:
        qs = base
        if radius is not None:
            # The same box and distance as the nearest-centers search (``centers.geo``).
            box = bounding_box(center.lat, center.lng, radius)
            qs = qs.filter(current_center__lat__range=(box.min_lat, box.max_lat))
            if not box.all_lng:
                qs = qs.filter(current_center__lng__range=(box.min_lng, box.max_lng))
        rows = [
            {
                "code": r["current_center__code"],
                "name": r["current_center__name"],
                "distance_km": round(
                    haversine_km(center.lat, center.lng, r["current_center__lat"], r["current_center__lng"]), 1
                ),
                "available": r["n"],
            }
            for r in qs
        ]
        # A box holds the whole circle: what lies within the radius is complete and nearest.
        within = [r for r in rows if radius is None or r["distance_km"] <= radius]
        if radius is None or len(within) >= limit:
            rows = within
            break
    rows.sort(key=lambda r: (r["distance_km"], r["code"]))
    return rows[:limit]


# --- Deposit terms -------------------------------------------------------------------


@dataclass(frozen=True)
class DepositTerms:
    deposit: Decimal
    late_fee_per_day: Decimal
    waived: bool
    rule_id: int | None


def deposit_rule_for(*, center, tier: str):
    """The province's rule for the tier, else the default rule (province empty), else None."""
    from .models import DepositRule

    rules = {
        r.province_id: r
        for r in DepositRule.objects.filter(Q(province_id=center.province_id) | Q(province__isnull=True), tier=tier)
    }
    return rules.get(center.province_id) or rules.get(None)


def device_has_active_plan(*, device) -> bool:
    """Plan holder = the warranty app's coverage lists an active plan for the device."""
    from warranty import selectors as warranty_selectors

    coverage_fn = getattr(warranty_selectors, "device_coverage", None)
    if coverage_fn is None:  # the warranty app has not shipped coverage yet
        return False
    return bool(coverage_fn(device=device).plans)


def deposit_terms_for(*, center, tier: str, device=None) -> DepositTerms:
    """Deposit and late fee for a loan of ``tier`` at ``center``; waived for plan holders when the rule says so."""
    rule = deposit_rule_for(center=center, tier=tier)
    if rule is None:
        deposit = money(loaner_setting("DEFAULT_DEPOSITS")[tier])
        late_fee = money(loaner_setting("DEFAULT_LATE_FEES")[tier])
        waive = False
    else:
        deposit, late_fee, waive = rule.deposit, rule.late_fee_per_day, rule.waive_for_plan_holders
    waived = bool(waive and device is not None and device_has_active_plan(device=device))
    return DepositTerms(
        deposit=ZERO if waived else money(deposit),
        late_fee_per_day=money(late_fee),
        waived=waived,
        rule_id=rule.pk if rule else None,
    )


def loan_due_at(*, promised_at: datetime | None, now: datetime) -> datetime:
    """``promised_at`` (or now + default repair days when missing or past) + grace days."""
    base = (
        promised_at
        if promised_at is not None and promised_at > now
        else now + timedelta(days=loaner_setting("DEFAULT_REPAIR_DAYS"))
    )
    return base + timedelta(days=loaner_setting("GRACE_DAYS"))


def late_days(*, due_at: datetime, at: datetime) -> int:
    """Days charged as late: local (Asia/Shanghai) calendar days after the due day.

    Returning on the due day, even after the due hour, costs nothing; each local
    midnight passed after it adds a day.
    """
    if at <= due_at:
        return 0
    return max(0, (timezone.localdate(at) - timezone.localdate(due_at)).days)


# --- Return settlement ---------------------------------------------------------------


@dataclass(frozen=True)
class SettlementLine:
    kind: str  # DeductionKind
    reason: str
    amount: Decimal
    from_deposit: Decimal  # covered by the deposit
    owed: Decimal  # beyond the deposit -> balance due


@dataclass(frozen=True)
class Settlement:
    condition: str
    at: datetime
    held: Decimal  # deposit still held before the return
    late_days: int
    lines: tuple[SettlementLine, ...] = field(default_factory=tuple)
    deducted: Decimal = ZERO
    refund: Decimal = ZERO
    balance_due: Decimal = ZERO

    @property
    def loan_status(self) -> str:
        return LoanStatus.LOST if self.condition == ReturnCondition.LOST else LoanStatus.RETURNED


def _clean_deductions(deductions, condition: str) -> list[tuple[str, str, Decimal]]:
    """Validate counter-entered deductions: ``[{"reason", "amount", "kind"?}]`` -> ``[(kind, reason, amount)]``."""
    default_kind = (
        DeductionKind.MISSING_ACCESSORY if condition == ReturnCondition.MISSING_ACCESSORIES else DeductionKind.DAMAGE
    )
    cleaned = []
    for i, item in enumerate(deductions or ()):
        if not isinstance(item, dict):
            raise DomainError(
                "validation_error", _("Each deduction needs a reason and an amount."), field=f"deductions.{i}"
            )
        reason = str(item.get("reason") or "").strip()
        if not reason:
            raise DomainError("validation_error", _("A deduction needs a reason."), field=f"deductions.{i}.reason")
        try:
            amount = money(item.get("amount"))
        except (InvalidOperation, TypeError, ValueError):
            raise DomainError("validation_error", _("Not a valid amount."), field=f"deductions.{i}.amount") from None
        if not amount.is_finite() or amount <= 0:
            raise DomainError(
                "validation_error", _("A deduction must be a positive amount."), field=f"deductions.{i}.amount"
            )
        if amount >= Decimal("100000000"):
            raise DomainError("validation_error", _("This amount is too large."), field=f"deductions.{i}.amount")
        kind = item.get("kind") or default_kind
        if kind not in MANUAL_DEDUCTION_KINDS:
            raise DomainError(
                "validation_error",
                _("Deduction kind must be one of: %(kinds)s (late fees and losses are computed).")
                % {"kinds": ", ".join(MANUAL_DEDUCTION_KINDS)},
                field=f"deductions.{i}.kind",
            )
        cleaned.append((str(kind), reason[:300], amount))
    return cleaned


def loan_settlement(*, loan, condition: str, deductions=(), at: datetime | None = None) -> Settlement:
    """What returning ``loan`` now would write: deductions (late fee and loss computed), refund, balance due.

    Deductions are taken from the deposit in order (late fee, loss, then the
    counter's lines); what the deposit cannot cover becomes ``balance_due``;
    what is left is refunded. Refuses bad input with ``validation_error``.
    """
    if condition not in ReturnCondition.values:
        raise DomainError(
            "validation_error",
            _("Condition must be one of: %(values)s.") % {"values": ", ".join(ReturnCondition.values)},
            field="condition",
        )
    at = at or timezone.now()
    manual = _clean_deductions(deductions, condition)
    raw: list[tuple[str, str, Decimal]] = []
    days = late_days(due_at=loan.due_at, at=at)
    if days and loan.late_fee_per_day > 0:
        raw.append(
            (
                DeductionKind.LATE_FEE.value,
                _("%(days)d day(s) late at %(fee)s per day") % {"days": days, "fee": loan.late_fee_per_day},
                money(loan.late_fee_per_day * days),
            )
        )
    if condition == ReturnCondition.LOST and loan.loaner.replacement_value > 0:
        raw.append(
            (DeductionKind.LOSS.value, _("Loaner not returned: replacement value"), loan.loaner.replacement_value)
        )
    raw.extend(manual)

    total = sum((amount for _kind, _reason, amount in raw), ZERO)
    # Each line fits a money column, but twenty of them (or a late fee on a loan kept for
    # years) may not: the loan's running totals and the receipt must stay below 1e8.
    if loan.deducted + total > MONEY_MAX:
        raise DomainError(
            "validation_error",
            _("These deductions add up to %(total)s; the most one return can deduct is %(max)s.")
            % {"total": total, "max": MONEY_MAX - loan.deducted},
            field="deductions",
        )
    remaining = loan.held - loan.refunded - (loan.deducted - loan.balance_due)
    held = remaining
    lines = []
    for kind, reason, amount in raw:
        covered = min(amount, remaining)
        remaining -= covered
        lines.append(
            SettlementLine(kind=kind, reason=reason, amount=amount, from_deposit=covered, owed=amount - covered)
        )
    return Settlement(
        condition=condition,
        at=at,
        held=held,
        late_days=days,
        lines=tuple(lines),
        deducted=sum((line.amount for line in lines), ZERO),
        refund=remaining,
        balance_due=sum((line.owed for line in lines), ZERO),
    )


def loan_return_preview(
    *, loan_id: int, condition: str, deductions=(), at: datetime | None = None, actor=None
) -> Settlement:
    """The refund the counter shows before confirming a return (nothing is written).

    Refuses a loan that is not open (``invalid_transition``, 409), one outside the
    actor's centers (``not_found``) and bad deductions (``validation_error``).
    """
    from .models import Loan

    qs = loans_visible(actor=actor) if actor is not None else Loan.objects.all()
    loan = qs.select_related("loaner").filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("No such loan."))
    if not loan.is_open:
        raise DomainError(
            "invalid_transition",
            _("This loan is already %(status)s.") % {"status": loan.get_status_display()},
            status=409,
            allowed_actions=[],
        )
    return loan_settlement(loan=loan, condition=condition, deductions=deductions, at=at)


# --- Jobs ----------------------------------------------------------------------------


def loans_due_between(*, start: datetime, end: datetime) -> QuerySet:
    from .models import Loan

    return Loan.objects.filter(status=LoanStatus.OUT, due_at__gte=start, due_at__lt=end)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local (Asia/Shanghai) calendar day as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
    return start, end


# --- Cash report ---------------------------------------------------------------------


def cash_report(*, day: date, center_ids=None) -> list[dict]:
    """Deposit money per center for one local day, by payment method.

    Each row: ``center`` (ServiceCenter), ``taken``/``refunded``/``deducted`` (dicts
    method -> amount plus ``"total"``), ``balance_due_created`` (deductions beyond
    deposits that day), ``held`` (deposit money held at the end of the day).
    Centers without any deposit money that day or held are left out.
    """
    from centers.models import ServiceCenter

    from .models import DepositEntry

    start, end = local_day_bounds(day)
    entries = DepositEntry.objects.all()
    if center_ids is not None:
        entries = entries.filter(center_id__in=center_ids)
    methods = list(PaymentMethod.values)

    def blank():
        return dict.fromkeys([*methods, "total"], ZERO)

    report: dict[int, dict] = {}

    def row(center_id):
        return report.setdefault(
            center_id,
            {"taken": blank(), "refunded": blank(), "deducted": blank(), "balance_due_created": ZERO, "held": ZERO},
        )

    day_rows = (
        entries.filter(at__gte=start, at__lt=end)
        .values("center_id", "kind", "payment_method")
        .annotate(amount=Sum("amount"), from_deposit=Sum("from_deposit"))
        .order_by()
    )
    bucket = {EntryKind.HOLD: "taken", EntryKind.REFUND: "refunded", EntryKind.DEDUCTION: "deducted"}
    for r in day_rows:
        target = row(r["center_id"])
        name = bucket[r["kind"]]
        # A deduction moves deposit money only for its covered part; the rest is owed.
        amount = r["from_deposit"] if r["kind"] == EntryKind.DEDUCTION else r["amount"]
        method = r["payment_method"] or "total"
        if method != "total":
            target[name][method] += amount
        target[name]["total"] += amount
        if r["kind"] == EntryKind.DEDUCTION:
            target["balance_due_created"] += r["amount"] - r["from_deposit"]

    held_rows = (
        entries.filter(at__lt=end)
        .values("center_id")
        .annotate(
            holds=Sum("amount", filter=Q(kind=EntryKind.HOLD)),
            out=Sum("from_deposit", filter=~Q(kind=EntryKind.HOLD)),
        )
        .order_by()
    )
    for r in held_rows:
        held = (r["holds"] or ZERO) - (r["out"] or ZERO)
        if held or r["center_id"] in report:
            row(r["center_id"])["held"] = held

    for data in report.values():  # SQLite sums may lose the scale: show cents everywhere
        for name in ("taken", "refunded", "deducted"):
            data[name] = {k: money(v) for k, v in data[name].items()}
        data["balance_due_created"], data["held"] = money(data["balance_due_created"]), money(data["held"])
    centers = ServiceCenter.objects.in_bulk(list(report))
    result = [{"center": centers[cid], **data} for cid, data in report.items()]
    result.sort(key=lambda r: r["center"].code)
    return result


# --- amenities (issue #22) -------------------------------------------------------------------------------------


def amenity_loans_visible(*, actor) -> QuerySet:
    """Amenity loans lent at the actor's centers, or brought back there (HQ, the system: all)."""
    from .models import AmenityLoan

    qs = AmenityLoan.objects.all()
    if actor.sees_all_centers:
        return qs
    ids = list(actor.center_ids or ())
    return qs.filter(Q(center_id__in=ids) | Q(returned_at_center_id__in=ids))


def amenity_loan_overdue_q(now: datetime | None = None) -> Q:
    """Still out past the time it was due back (nothing marks it: the time says it)."""
    from .choices import AmenityLoanStatus

    return Q(status=AmenityLoanStatus.OUT, due_back_at__lt=now or timezone.now())


def amenity_loans_overdue(*, center_id: int, now: datetime | None = None, limit: int = 200) -> list:
    """A center's loans still out past their due time, longest overdue first (the desk's "overdue" section): one
    query."""
    from .models import AmenityLoan

    return list(
        AmenityLoan.objects.filter(amenity_loan_overdue_q(now), center_id=center_id)
        .select_related("amenity")
        .order_by("due_back_at", "pk")[:limit]
    )


def amenity_loans_to_remind(*, now: datetime | None = None) -> QuerySet:
    """Overdue loans whose borrower was not reminded yet, network-wide, oldest due first (the reminder job)."""
    from .models import AmenityLoan

    return AmenityLoan.objects.filter(amenity_loan_overdue_q(now), reminded_at__isnull=True).order_by(
        "due_back_at", "pk"
    )


def amenities_at(*, center_id: int) -> list:
    """A center's active amenities for the desk, with what is out from here now: one query."""
    from .choices import AmenityLoanStatus
    from .models import Amenity

    return list(
        Amenity.objects.filter(center_id=center_id, active=True)
        .annotate(out_now=Count("loans", filter=Q(loans__status=AmenityLoanStatus.OUT)))
        .order_by("position", "pk")
    )


def amenity_loans_out(*, center_id: int, limit: int = 200) -> list:
    """What this center's desk has lent and not had back, oldest first (the desk's "out" list): one query."""
    from .choices import AmenityLoanStatus
    from .models import AmenityLoan

    return list(
        AmenityLoan.objects.filter(center_id=center_id, status=AmenityLoanStatus.OUT)
        .select_related("amenity")
        .order_by("lent_at", "pk")[:limit]
    )


def amenity_loan_out_for_phone(*, phone: str, kind: str):
    """The open loan of this kind for this phone, anywhere in the network (a return at another center), or None.

    The caller is a desk that was told the number by the person holding the item; it learns the loan, nothing more.
    """
    from .choices import AmenityLoanStatus
    from .models import AmenityLoan

    return (
        AmenityLoan.objects.filter(borrower_phone=phone, kind=kind, status=AmenityLoanStatus.OUT)
        .select_related("center", "amenity")
        .first()
    )


def amenity_figures(*, center_ids, since: date, until: date, now: datetime | None = None) -> dict:
    """HQ's amenity figures: loans lent in [since, until] (local days) by center and kind, and the deposits held now.

    ``rows``: ``{"center", "center_name", "kind", "lent", "returned", "returned_elsewhere", "lost", "out"}``;
    ``held``: per center, deposit money of what is out now; ``kept``: deposits kept for lost items lent in the
    period. Two queries whatever the number of centers.
    """
    from .choices import AmenityLoanStatus
    from .models import AmenityLoan

    start, _end = local_day_bounds(since)
    _start, end = local_day_bounds(until)
    qs = AmenityLoan.objects.filter(lent_at__gte=start, lent_at__lt=end)
    out = AmenityLoan.objects.filter(status=AmenityLoanStatus.OUT)
    if center_ids is not None:
        qs = qs.filter(center_id__in=list(center_ids))
        out = out.filter(center_id__in=list(center_ids))
    rows = list(
        qs.values("center__code", "center__name", "kind")
        .annotate(
            lent=Count("pk"),
            returned=Count("pk", filter=Q(status=AmenityLoanStatus.RETURNED)),
            returned_elsewhere=Count(
                "pk",
                filter=Q(status=AmenityLoanStatus.RETURNED) & ~Q(returned_at_center_id=F("center_id")),
            ),
            lost=Count("pk", filter=Q(status=AmenityLoanStatus.LOST)),
            out=Count("pk", filter=Q(status=AmenityLoanStatus.OUT)),
            kept=Sum("deposit", filter=Q(status=AmenityLoanStatus.LOST)),
        )
        .order_by("center__code", "kind")
    )
    held = list(
        out.values("center__code")
        .annotate(held=Sum("deposit"), n=Count("pk"), overdue=Count("pk", filter=amenity_loan_overdue_q(now)))
        .order_by("center__code")
    )
    return {
        "rows": [
            {
                "center": r["center__code"],
                "center_name": r["center__name"],
                "kind": r["kind"],
                "lent": r["lent"],
                "returned": r["returned"],
                "returned_elsewhere": r["returned_elsewhere"],
                "lost": r["lost"],
                "out": r["out"],
                "kept": money(r["kept"] or 0),
            }
            for r in rows
        ],
        "held": {
            r["center__code"]: {"held": money(r["held"] or 0), "out": r["n"], "overdue": r["overdue"]} for r in held
        },
    }
