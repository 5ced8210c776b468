"""Two cashiers take the same amount due at once: exactly one payment succeeds (PostgreSQL row lock).

The control takes the subject lock out and shows the harness catches the double payment.
"""

import time

import pytest

from payments import services
from payments.models import Payment
from repairs.models import RepairTicket
from servicehub.errors import DomainError
from tests.concurrency import race_collect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _slow_balance(monkeypatch):
    """Widen the window between reading the balance and writing the payment."""
    original = services.subject_balance

    def slow(**kw):
        balance = original(**kw)
        time.sleep(0.3)
        return balance

    monkeypatch.setattr(services, "subject_balance", slow)


def _pay_twice(ticket, actor):
    return race_collect(lambda: services.payment_create(actor=actor, ticket_id=ticket.pk, method="cash"), 2)


def test_two_payments_for_one_amount_due_exactly_one_succeeds(ready, people, monkeypatch):
    _slow_balance(monkeypatch)
    results, errors = _pay_twice(ready, people["desk"])
    assert len(results) == 1
    assert [e.code for e in errors if isinstance(e, DomainError)] == ["payment_not_due"]
    assert Payment.objects.filter(ticket=ready, status="succeeded").count() == 1


def test_control_without_the_subject_lock_both_payments_succeed(ready, people, monkeypatch):
    _slow_balance(monkeypatch)

    def unlocked(*, ticket_id=None, loan_id=None, plan_purchase_id=None):
        ticket = RepairTicket.objects.select_related("center").get(pk=ticket_id)
        return services.Subject(ticket=ticket, center_id=ticket.center_id, service_no=ticket.service_no)

    monkeypatch.setattr(services, "_lock_subject", unlocked)
    results, errors = _pay_twice(ready, people["desk"])
    assert (len(results), errors) == (2, [])  # the bug the lock prevents: the amount is paid twice
    assert Payment.objects.filter(ticket=ready, status="succeeded").count() == 2
