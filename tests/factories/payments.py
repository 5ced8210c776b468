"""Money rows as the payments services write them (status succeeded, succeeded_at set, a ledger row each).

The accounting tests use these instead of the payments services (built in parallel by another branch).
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from payments.choices import EntryKind, PaymentStatus, RefundStatus
from payments.models import LedgerEntry, Payment, Refund

_numbers = itertools.count(1)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    center = factory.LazyAttribute(lambda o: o.ticket.center)
    ticket = None
    method = "cash"
    provider = factory.LazyAttribute(lambda o: "counter" if o.method in ("cash", "card") else "sandbox")
    status = PaymentStatus.SUCCEEDED
    amount = Decimal("100.00")
    order_no = factory.LazyFunction(lambda: f"PT{next(_numbers):012d}")
    succeeded_at = factory.LazyFunction(timezone.now)


def pay(ticket, amount, method="cash", *, at=None, center=None) -> Payment:
    """A succeeded payment for ``ticket`` and its ``paid`` ledger row."""
    at = at or timezone.now()
    payment = PaymentFactory(
        ticket=ticket, center=center or ticket.center, method=method, amount=Decimal(amount), succeeded_at=at
    )
    LedgerEntry.objects.create(
        center=payment.center,
        ticket=ticket,
        kind=EntryKind.PAID,
        amount=payment.amount,
        payment=payment,
        method=method,
        actor="test",
        at=at,
    )
    return payment


def refund(payment: Payment, amount, *, at=None, method: str | None = None) -> Refund:
    """A succeeded refund of ``payment``, its running total and its ``refunded`` ledger row.

    ``method=""`` writes the ledger row without a method (it is then read from the payment)."""
    at = at or timezone.now()
    row = Refund.objects.create(
        payment=payment,
        amount=Decimal(amount),
        reason="test refund",
        status=RefundStatus.SUCCEEDED,
        refund_no=f"RF{next(_numbers):012d}",
        succeeded_at=at,
    )
    Payment.objects.filter(pk=payment.pk).update(refunded=payment.refunded + row.amount)
    payment.refresh_from_db()
    LedgerEntry.objects.create(
        center=payment.center,
        ticket=payment.ticket,
        kind=EntryKind.REFUNDED,
        amount=row.amount,
        refund=row,
        method=payment.method if method is None else method,
        actor="test",
        at=at,
    )
    return row
