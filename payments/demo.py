"""Demo money (called by ``manage.py seed_demo`` after repairs and loaners; idempotent).

The repairs demo already pays its handed-over tickets at the counter (cash, card, a sandbox WeChat scan);
here the demo loans get their deposits through the ledger, as the desk checkout does.
"""

from __future__ import annotations

from loaners.models import Loan
from servicehub.actors import SYSTEM

from .models import Charge, Payment
from .services import loan_deposit_take


def seed(*, out, options) -> None:
    taken = 0
    with_deposit = set(Charge.objects.filter(kind="deposit").values_list("loan_id", flat=True))
    for loan_id in Loan.objects.exclude(pk__in=with_deposit).filter(deposit__gt=0).values_list("pk", flat=True):
        if loan_deposit_take(loan_id=loan_id, actor=SYSTEM) is not None:
            taken += 1
    paid = Payment.objects.filter(status="succeeded").count()
    out.write(f"  payments: {taken} demo deposits taken; {paid} payments in all")
