"""Reads of accounting: what a subject can be invoiced for, a ticket's fapiao, a day's figures, revenue.

Every function answers in a fixed number of queries, whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from payments.choices import EntryKind, Method, PaymentStatus
from payments.models import LedgerEntry, Payment
from servicehub.actors import Actor
from servicehub.money import money

from .choices import CloseStatus, FapiaoStatus
from .models import DailyClose, DailyCloseHistory, DailyCloseLine, FapiaoRequest
from .settlement import SETTLED_METHODS, settlement_provider

ZERO = Decimal("0.00")
METHODS: tuple[str, ...] = tuple(Method.values)
_MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=12, decimal_places=2)


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 of ``day`` in the project's zone (Asia/Shanghai): business days are local days."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def local_today() -> dt.date:
    return timezone.localdate()


# --- fapiao ----------------------------------------------------------------------------------------------


def subject_paid_net(*, ticket_id: int | None = None, plan_purchase_id: int | None = None) -> Decimal:
    """What was paid for the subject and not refunded (succeeded payments only); one query."""
    qs = Payment.objects.filter(status=PaymentStatus.SUCCEEDED)
    qs = qs.filter(ticket_id=ticket_id) if ticket_id is not None else qs.filter(plan_purchase_id=plan_purchase_id)
    total = qs.aggregate(
        net=Coalesce(Sum(ExpressionWrapper(F("amount") - F("refunded"), output_field=_MONEY)), Value(ZERO))
    )["net"]
    return Decimal(total).quantize(Decimal("0.01"))


def ticket_fapiao(*, ticket_id: int) -> FapiaoRequest | None:
    """The ticket's fapiao request (the open one; there is at most one), without its document; one query."""
    return FapiaoRequest.objects.filter(ticket_id=ticket_id).defer("document").order_by("-created_at", "-pk").first()


def fapiao_with_document(*, fapiao_id: int) -> FapiaoRequest | None:
    return FapiaoRequest.objects.filter(pk=fapiao_id, status=FapiaoStatus.ISSUED).first()


# --- the daily close ---------------------------------------------------------------------------------------


def ledger_day_totals(*, center_id: int, business_date: dt.date) -> dict[str, Decimal]:
    """``{method: paid - refunded}`` of the center's ledger on that local day, every method present; one query.

    A refund line names its method, else its payment's (refunds go back to the method they came by)."""
    since = local_midnight(business_date)
    until = local_midnight(business_date + dt.timedelta(days=1))
    rows = (
        LedgerEntry.objects.filter(
            center_id=center_id, at__gte=since, at__lt=until, kind__in=[EntryKind.PAID, EntryKind.REFUNDED]
        )
        .annotate(m=Coalesce(NullIf(F("method"), Value("")), F("refund__payment__method"), F("payment__method")))
        .values("m", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    totals = dict.fromkeys(METHODS, ZERO)
    for row in rows:
        sign = 1 if row["kind"] == EntryKind.PAID else -1
        if row["m"] in totals:
            totals[row["m"]] += sign * row["total"]
    return totals


@dataclass
class CloseLineFigures:
    method: str
    label: str
    expected: Decimal
    actual: Decimal | None  # counted cash (None until counted) or the settled total
    difference: Decimal | None
    reason: str = ""

    @property
    def is_cash(self) -> bool:
        return self.method == Method.CASH


@dataclass
class CloseFigures:
    center_id: int
    business_date: dt.date
    close: DailyClose | None
    lines: list[CloseLineFigures]
    history: list[DailyCloseHistory] = field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.close is not None and self.close.status == CloseStatus.CLOSED

    @property
    def expected_total(self) -> Decimal:
        return sum((line.expected for line in self.lines), ZERO)


def day_figures(
    *, center_id: int, business_date: dt.date, cash_counted: Decimal | None = None
) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """``(expected, actual)`` per method: the ledger, and the counted cash plus the provider's settlement."""
    expected = ledger_day_totals(center_id=center_id, business_date=business_date)
    settled = settlement_provider().settled_totals(center_id=center_id, business_date=business_date, ledger=expected)
    actual = {m: settled.get(m, ZERO) for m in SETTLED_METHODS}
    if cash_counted is not None:
        actual[Method.CASH] = cash_counted
    return expected, actual


def daily_close_figures(*, center_id: int, business_date: dt.date) -> CloseFigures:
    """What the close page shows for the day: a closed day's stored lines, else today's live figures.

    Queries: the close row, its lines and its history (3), or the close row and the ledger (2)."""
    close = DailyClose.objects.filter(center_id=center_id, business_date=business_date).first()
    labels = dict(Method.choices)
    history: list[DailyCloseHistory] = []
    if close is not None:
        history = list(close.history.order_by("at", "pk"))
    if close is not None and close.status == CloseStatus.CLOSED:
        stored = {line.method: line for line in DailyCloseLine.objects.filter(close=close)}
        lines = [
            CloseLineFigures(
                method=m,
                label=str(labels[m]),
                expected=stored[m].expected,
                actual=stored[m].actual,
                difference=stored[m].difference,
                reason=stored[m].reason,
            )
            for m in METHODS
            if m in stored
        ]
        return CloseFigures(center_id=center_id, business_date=business_date, close=close, lines=lines, history=history)
    expected, actual = day_figures(center_id=center_id, business_date=business_date)
    lines = []
    for m in METHODS:
        got = actual.get(m)
        lines.append(
            CloseLineFigures(
                method=m,
                label=str(labels[m]),
                expected=expected[m],
                actual=got,
                difference=None if got is None else got - expected[m],
            )
        )
    return CloseFigures(center_id=center_id, business_date=business_date, close=close, lines=lines, history=history)


def daily_close_recent(*, center_id: int, limit: int = 30) -> list[dict[str, Any]]:
    """The center's last closes with their total difference and who closed them; one query."""
    rows = (
        DailyClose.objects.filter(center_id=center_id)
        .annotate(
            expected=Coalesce(Sum("lines__expected"), Value(ZERO), output_field=_MONEY),
            difference=Coalesce(Sum("lines__difference"), Value(ZERO), output_field=_MONEY),
        )
        .select_related("closed_by")
        .order_by("-business_date")[:limit]
    )
    return [
        {
            "business_date": r.business_date,
            "status": r.status,
            "status_label": r.get_status_display(),
            "expected": r.expected,
            "difference": r.difference,
            "closed_by": r.closed_by.get_username() if r.closed_by else "",
            "closed_at": r.closed_at,
        }
        for r in rows
    ]


# --- HQ revenue ---------------------------------------------------------------------------------------------


def _scoped(qs: QuerySet[Any], *, actor: Actor, center_field: str) -> QuerySet[Any]:
    if actor.sees_all_centers:
        return qs
    return qs.filter(**{f"{center_field}__in": list(actor.center_ids or ())})


@dataclass
class Revenue:
    start: dt.date
    end: dt.date
    by_center: list[dict[str, Any]]  # {code, name, methods: {m: amount}, total}
    by_day: list[tuple[dt.date, Decimal]]
    by_method: dict[str, Decimal]
    differences: list[dict[str, Any]]  # closed-day lines with a difference
    total: Decimal


def revenue(*, actor: Actor, start: dt.date, end: dt.date, province_id: int | None = None) -> Revenue:
    """Net revenue (paid - refunded in the ledger) by center, method and local day, and the close differences.

    Three queries whatever the range and the number of centers: the ledger grouped by center, method and day
    (names joined), and the closed-day lines with a difference."""
    since, until = local_midnight(start), local_midnight(end + dt.timedelta(days=1))
    entries = LedgerEntry.objects.filter(at__gte=since, at__lt=until, kind__in=[EntryKind.PAID, EntryKind.REFUNDED])
    entries = _scoped(entries, actor=actor, center_field="center_id")
    if province_id is not None:
        entries = entries.filter(center__province_id=province_id)
    rows = (
        entries.annotate(
            m=Coalesce(NullIf(F("method"), Value("")), F("refund__payment__method"), F("payment__method")),
            day=TruncDate("at", tzinfo=timezone.get_default_timezone()),
        )
        .values("center_id", "center__code", "center__name", "m", "day", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    centers: dict[int, dict[str, Any]] = {}
    days: dict[dt.date, Decimal] = defaultdict(lambda: ZERO)
    methods = dict.fromkeys(METHODS, ZERO)
    for row in rows:
        amount = row["total"] if row["kind"] == EntryKind.PAID else -row["total"]
        c = centers.setdefault(
            row["center_id"],
            {
                # No center: plans bought on the web (payments.md, "Plans bought on the web").
                "code": row["center__code"] or "online",
                "name": row["center__name"] or gettext("Online (web orders)"),
                "methods": dict.fromkeys(METHODS, ZERO),
                "total": ZERO,
            },
        )
        if row["m"] in c["methods"]:
            c["methods"][row["m"]] += amount
            methods[row["m"]] += amount
        c["total"] += amount
        days[row["day"]] += amount
    by_day = [
        (start + dt.timedelta(days=i), days.get(start + dt.timedelta(days=i), ZERO))
        for i in range((end - start).days + 1)
    ]
    lines = DailyCloseLine.objects.filter(
        close__business_date__gte=start, close__business_date__lte=end, close__status=CloseStatus.CLOSED
    ).exclude(difference=0)
    lines = _scoped(lines, actor=actor, center_field="close__center_id")
    if province_id is not None:
        lines = lines.filter(close__center__province_id=province_id)
    labels = dict(Method.choices)
    differences = [
        {
            "business_date": line.close.business_date,
            "center_code": line.close.center.code,
            "center_name": line.close.center.name,
            "method": line.method,
            "method_label": str(labels.get(line.method, line.method)),
            "expected": line.expected,
            "actual": line.actual,
            "difference": line.difference,
            "reason": line.reason,
        }
        for line in lines.select_related("close__center").order_by("close__business_date", "close__center__code")[:500]
    ]
    by_center = sorted(centers.values(), key=lambda c: (-c["total"], c["code"]))
    return Revenue(
        start=start,
        end=end,
        by_center=by_center,
        by_day=by_day,
        by_method=methods,
        differences=differences,
        total=sum((c["total"] for c in by_center), ZERO),
    )


def open_fapiao_exists(*, ticket_id: int) -> bool:
    return FapiaoRequest.objects.filter(
        Q(ticket_id=ticket_id), status__in=[FapiaoStatus.REQUESTED, FapiaoStatus.ISSUED, FapiaoStatus.FAILED]
    ).exists()


def ticket_fapiao_box(*, ticket_id: int) -> dict[str, Any]:
    """What the workspace's fapiao box shows, in one query: the paid amount and the request's facts."""
    from django.db.models import OuterRef, Subquery

    from repairs.models import RepairTicket

    latest = FapiaoRequest.objects.filter(ticket_id=OuterRef("pk")).order_by("-created_at", "-pk")
    paid = (
        Payment.objects.filter(ticket_id=OuterRef("pk"), status=PaymentStatus.SUCCEEDED)
        .order_by()
        .values("ticket_id")
        .annotate(net=Sum(ExpressionWrapper(F("amount") - F("refunded"), output_field=_MONEY)))
        .values("net")[:1]
    )
    names = ("pk", "status", "invoice_number", "pdf_url", "amount", "title", "tax_number", "failure_reason")
    row = (
        RepairTicket.objects.filter(pk=ticket_id)
        .annotate(paid=Subquery(paid, output_field=_MONEY), **{f"f_{n}": Subquery(latest.values(n)[:1]) for n in names})
        .values("paid", *(f"f_{n}" for n in names))
        .first()
    ) or {}
    fapiao = {n: row.get(f"f_{n}") for n in names} if row.get("f_pk") else None
    if fapiao is not None:
        fapiao["status_label"] = str(FapiaoStatus(str(fapiao["status"])).label)
        # SQLite hands a subquery's decimal back as a number without its places ("¥250", not "¥250.00").
        fapiao["amount"] = money(fapiao["amount"]) if fapiao["amount"] is not None else None
    return {"paid": Decimal(row.get("paid") or ZERO).quantize(Decimal("0.01")), "fapiao": fapiao}
