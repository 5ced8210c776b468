"""Reads for payments: what a subject owes, what was paid, the payments list; no writes.

The balance of a subject (a ticket, a loan, a plan order) is a sum over its ledger in one query:

    amount_due = due - waived - paid + refunded

``pending`` (QR payments waiting for the customer's scan) is not in the ledger: it is the part of the
amount due already promised to a provider order, and a new payment may take only the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from servicehub.money import CENT, ZERO

from .choices import EntryKind, PaymentStatus
from .models import Charge, LedgerEntry, Payment

_MONEY: DecimalField = DecimalField(max_digits=12, decimal_places=2)


@dataclass(frozen=True)
class Balance:
    due: Decimal = ZERO
    waived: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    pending: Decimal = ZERO

    def __post_init__(self) -> None:
        # SQLite sums lose the scale ("559"); every figure is cents like the columns.
        for name in ("due", "waived", "paid", "refunded", "pending"):
            object.__setattr__(self, name, Decimal(getattr(self, name)).quantize(CENT))

    @property
    def amount_due(self) -> Decimal:
        """What the customer still owes (negative: we owe them, e.g. after a revised lower quote)."""
        return self.due - self.waived - self.paid + self.refunded

    @property
    def amount_paid(self) -> Decimal:
        """Money kept: received less given back."""
        return self.paid - self.refunded

    @property
    def payable_now(self) -> Decimal:
        """What a new payment may take: the amount due less the QR payments still pending."""
        return max(ZERO, self.amount_due - self.pending)

    def as_dict(self) -> dict[str, str]:
        return {
            "due": str(self.due),
            "waived": str(self.waived),
            "paid": str(self.paid),
            "refunded": str(self.refunded),
            "amount_due": str(self.amount_due),
            "amount_paid": str(self.amount_paid),
        }


def _sum(kind: str) -> Coalesce:
    return Coalesce(Sum("amount", filter=Q(kind=kind)), Value(ZERO), output_field=_MONEY)


_SUMS = {
    "due": _sum(EntryKind.DUE),
    "waived": _sum(EntryKind.WAIVED),
    "paid": _sum(EntryKind.PAID),
    "refunded": _sum(EntryKind.REFUNDED),
}


def _subject_q(
    *,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    amenity_loan_id: int | None = None,
) -> Q:
    if ticket_id is not None:
        return Q(ticket_id=ticket_id)
    if loan_id is not None:
        return Q(loan_id=loan_id)
    if plan_purchase_id is not None:
        return Q(plan_purchase_id=plan_purchase_id)
    if amenity_loan_id is not None:
        return Q(amenity_loan_id=amenity_loan_id)
    raise ValueError("a subject: ticket_id, loan_id, plan_purchase_id or amenity_loan_id")


def subject_balance(
    *,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    amenity_loan_id: int | None = None,
) -> Balance:
    """The balance of one subject: two queries (the ledger sums, the pending QR payments)."""
    q = _subject_q(
        ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id, amenity_loan_id=amenity_loan_id
    )
    sums = LedgerEntry.objects.filter(q).aggregate(**_SUMS)
    pending = Payment.objects.filter(q, status=PaymentStatus.PENDING).aggregate(
        s=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY)
    )["s"]
    return Balance(pending=pending, **sums)


def ticket_money(ticket) -> Balance:
    """What ``ticket`` owes and paid (due/waived/paid/refunded/amount_due)."""
    return subject_balance(ticket_id=ticket.pk)


def tickets_money(ticket_ids: Iterable[int]) -> dict[int, Balance]:
    """Balances of many tickets in one query (lists and boards: no query per row); pending not included."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = LedgerEntry.objects.filter(ticket_id__in=ids).values("ticket_id").annotate(**_SUMS).order_by()
    out = {i: Balance() for i in ids}
    for row in rows:
        tid = row.pop("ticket_id")
        out[tid] = Balance(**row)
    return out


def subject_payments(
    *,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    amenity_loan_id: int | None = None,
) -> list[Payment]:
    """The subject's payments, oldest first, with their refunds (two queries)."""
    q = _subject_q(
        ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id, amenity_loan_id=amenity_loan_id
    )
    return list(Payment.objects.filter(q).prefetch_related("refunds").order_by("created_at", "pk"))


def subject_charges(
    *,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    amenity_loan_id: int | None = None,
) -> list[Charge]:
    q = _subject_q(
        ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id, amenity_loan_id=amenity_loan_id
    )
    return list(Charge.objects.filter(q).order_by("created_at", "pk"))


def tickets_money_version(ticket_ids: Iterable[int]) -> dict[int, int]:
    """The newest ledger row id per ticket (a cache version: a payment or refund changes it)."""
    from django.db.models import Max

    rows = LedgerEntry.objects.filter(ticket_id__in=list(ticket_ids)).values("ticket_id").annotate(v=Max("pk"))
    return {r["ticket_id"]: r["v"] for r in rows.order_by()}


def ticket_money_and_payments(ticket) -> tuple[Balance, list[Payment]]:
    """The ticket's balance and its payments for a page: the ledger sums and the payments list (2 queries,
    3 with refunds); the pending amount is summed from the list instead of a query of its own."""
    payments = subject_payments(ticket_id=ticket.pk)
    sums = tickets_money([ticket.pk])[ticket.pk]
    pending = sum((p.amount for p in payments if p.status == PaymentStatus.PENDING), ZERO)
    return Balance(due=sums.due, waived=sums.waived, paid=sums.paid, refunded=sums.refunded, pending=pending), payments
