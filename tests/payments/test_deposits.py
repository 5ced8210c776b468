"""Loaner deposits through the payments ledger: taken at checkout, refunded less deductions at return."""

from decimal import Decimal

import pytest
from django.db import transaction

from loaners import services as loans
from payments import services
from payments.choices import ChargeKind, EntryKind
from payments.models import Charge, LedgerEntry, Payment, Refund
from payments.selectors import subject_balance
from servicehub.actors import SYSTEM
from tests.factories.loaners import DepositRuleFactory, LoanerFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def loan(center, people, ops, old_device):
    from tests.factories.repairs import walk_in

    LoanerFactory(home_center=center)
    DepositRuleFactory(tier="flagship", deposit=D("500.00"))
    t = walk_in(center, people["desk"], device=old_device)
    with transaction.atomic():
        loan = loans.loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=people["desk"])
        services.loan_deposit_take(loan_id=loan.pk, actor=people["desk"])
    return loan


def test_the_deposit_is_a_charge_and_a_counter_payment(loan):
    charge = Charge.objects.get(loan=loan)
    payment = Payment.objects.get(loan=loan)
    assert (charge.kind, charge.amount, charge.source) == (ChargeKind.DEPOSIT, D("500.00"), f"loan:{loan.pk}:deposit")
    assert (payment.method, payment.status, payment.amount) == ("cash", "succeeded", D("500.00"))
    assert subject_balance(loan_id=loan.pk).amount_due == 0
    assert services.loan_deposit_take(loan_id=loan.pk, actor=SYSTEM) is None  # once
    assert Payment.objects.filter(loan=loan).count() == 1


def test_return_with_a_deduction_refunds_the_rest_to_the_method(loan, people):
    with transaction.atomic():
        loans.loan_return(
            loan_id=loan.pk,
            condition="damaged",
            deductions=[{"reason": "scratched back", "amount": "120.00", "kind": "damage"}],
            actor=people["desk"],
        )
        refund = services.loan_deposit_settle(loan_id=loan.pk, actor=people["desk"])
    assert (refund.amount, refund.status) == (D("380.00"), "succeeded")
    balance = subject_balance(loan_id=loan.pk)
    assert (balance.amount_due, balance.amount_paid) == (D("0.00"), D("120.00"))
    assert LedgerEntry.objects.filter(loan=loan, kind=EntryKind.REFUNDED).get().amount == D("380.00")
    assert services.loan_deposit_settle(loan_id=loan.pk, actor=people["desk"]) is None  # nothing twice
    assert Refund.objects.count() == 1


def test_deductions_beyond_the_deposit_become_an_amount_due_that_can_be_collected(loan, people):
    with transaction.atomic():
        loans.loan_return(
            loan_id=loan.pk,
            condition="damaged",
            deductions=[{"reason": "broken screen", "amount": "800.00", "kind": "damage"}],
            actor=people["desk"],
        )
        assert services.loan_deposit_settle(loan_id=loan.pk, actor=people["desk"]) is None
    assert subject_balance(loan_id=loan.pk).amount_due == D("300.00")
    paid = services.payment_create(actor=people["desk"], loan_id=loan.pk, method="card", reference="T-9")
    assert paid.amount == D("300.00")
    assert subject_balance(loan_id=loan.pk).amount_due == 0
