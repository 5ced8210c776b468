"""Races against real PostgreSQL row locks, each with a control run proving the harness catches the bug.

- 30 counters ask for a loaner at once at a center with 5: exactly 5 are lent, no loaner twice.
- Two counters return the same loan at once: one refund only, the other gets invalid_transition.
"""

import threading
import time

import pytest
from django.db import connection

from loaners import selectors, services
from loaners.models import DepositEntry, Loan
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory, customer, ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(fns):
    """Run the callables in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def worker(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # recorded, judged by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


# --- 30 checkouts, 5 loaners -----------------------------------------------------------------


def _thirty_checkouts():
    center = ServiceCenterFactory(code="RACE1")
    loaners = [LoanerFactory(home_center=center) for _ in range(5)]
    tickets = [ticket(center=center, customer_obj=customer()) for _ in range(30)]
    results = run_at_once(
        [
            (lambda t=t: services.loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=SYSTEM))
            for t in tickets
        ]
    )
    return loaners, results


def _checkout_outcome(results):
    lent = [r for r in results if isinstance(r, Loan)]
    codes = sorted(
        r.code if isinstance(r, DomainError) else type(r).__name__ for r in results if not isinstance(r, Loan)
    )
    return lent, codes


def test_thirty_checkouts_for_five_loaners_lend_exactly_five():
    loaners, results = _thirty_checkouts()
    lent, codes = _checkout_outcome(results)

    assert len(lent) == 5
    assert len({loan.loaner_id for loan in lent}) == 5
    assert codes == ["no_loaner_available"] * 25
    assert Loan.objects.filter(status="out").count() == 5
    assert DepositEntry.objects.filter(kind="hold").count() == 5
    assert sorted(Loan.objects.values_list("loaner_id", flat=True)) == sorted(lo.pk for lo in loaners)


def test_control_without_the_lock_the_harness_sees_the_race(monkeypatch):
    """Same run with the pick unlocked (and a pause that widens the window): the outcome breaks."""

    def unlocked_pick(*, center_id, tier):
        loaner = selectors.loaners_lendable(center_id=center_id, tier=tier).order_by("pk").first()
        time.sleep(0.2)  # everyone reads the same "first available" loaner
        return loaner

    monkeypatch.setattr(services, "_pick_loaner", unlocked_pick)
    _, results = _thirty_checkouts()
    lent, codes = _checkout_outcome(results)

    # The main test's assertions would fail: counters collided on the same loaner ...
    assert "loan_exists" in codes
    assert not (len(lent) == 5 and codes == ["no_loaner_available"] * 25)
    # ... and the partial unique constraint still kept any loaner from being lent twice.
    open_loaners = list(Loan.objects.filter(status="out").values_list("loaner_id", flat=True))
    assert len(open_loaners) == len(set(open_loaners))


# --- two returns of one loan -------------------------------------------------------------------


def _two_returns():
    center = ServiceCenterFactory(code="RACE2")
    LoanerFactory(home_center=center)
    loan = services.loan_checkout(
        ticket_id=ticket(center=center).pk, tier="flagship", payment_method="card", actor=SYSTEM
    )
    results = run_at_once(
        [lambda: services.loan_return(loan_id=loan.pk, condition="ok", deductions=[], actor=SYSTEM) for _ in range(2)]
    )
    return loan, results


def test_two_returns_of_one_loan_refund_once():
    loan, results = _two_returns()

    returned = [r for r in results if isinstance(r, Loan)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(returned) == 1
    assert [(e.code, e.status) for e in refused] == [("invalid_transition", 409)]
    assert list(DepositEntry.objects.filter(loan=loan).values_list("kind", flat=True)) == ["hold", "refund"]
    loan.refresh_from_db()
    assert (loan.status, str(loan.refunded)) == ("returned", "2000.00")


def test_control_without_the_loan_lock_the_second_return_is_not_a_clean_refusal(monkeypatch):
    def unlocked(loan_id):
        loan = Loan.objects.filter(pk=loan_id).first()
        time.sleep(0.3)  # both returns read the loan as still out
        return loan

    monkeypatch.setattr(services, "_lock_loan", unlocked)
    loan, results = _two_returns()

    refused = [r for r in results if isinstance(r, DomainError) and r.code == "invalid_transition"]
    # The main test's assertion (one clean invalid_transition) fails: both passed the status check ...
    assert refused == []
    assert any(type(r).__name__ == "IntegrityError" for r in results)
    # ... and the ledger constraint (refunded + deducted-from-deposit <= held, moved with F() increments)
    # still allowed one refund only: the second writer failed in the database.
    assert DepositEntry.objects.filter(loan=loan, kind="refund").count() == 1
