"""The last umbrella goes once under concurrency (PostgreSQL row locks): 8 desks lend it at the same moment.

The control takes the amenity's lock out (and widens the window between the check and the write): the same race then
lends the one umbrella more than once, which the harness sees -- so the first test would catch an overbooking.
"""

import pytest
from django.db import transaction

from loaners import services
from loaners.models import Amenity, AmenityLoan
from payments import services as money
from payments.models import Payment
from servicehub.errors import DomainError
from tests.concurrency import first_read_barrier, race_collect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(desks):
    phones = iter([f"1390000{n:04d}" for n in range(THREADS)])
    amenity_id = desks["umbrella_b"].pk  # one on the shelf
    actor = desks["actors"]["desk_b"]

    def borrow():
        with transaction.atomic():
            loan = services.amenity_lend(
                amenity_id=amenity_id,
                borrower_name="抢伞",
                borrower_phone=next(phones),
                payment_method="cash",
                actor=actor,
            )
            money.amenity_deposit_take(amenity_loan_id=loan.pk, actor=actor)
        return loan.pk

    return race_collect(borrow, THREADS)


def test_eight_desks_for_the_last_umbrella_exactly_one_gets_it(desks):
    results, errors = _race(desks)
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, DomainError) and e.code == "amenity_unavailable" for e in errors), errors
    assert Amenity.objects.get(pk=desks["umbrella_b"].pk).on_hand == 0
    assert AmenityLoan.objects.filter(amenity=desks["umbrella_b"]).count() == 1
    assert Payment.objects.filter(amenity_loan__isnull=False).count() == 1  # one deposit taken


def test_control_without_the_amenity_lock_the_last_umbrella_is_lent_twice(desks, monkeypatch):
    wait = first_read_barrier(THREADS)

    def unlocked(amenity_id):
        amenity = Amenity.objects.select_related("center").get(pk=amenity_id)
        wait()  # every desk reads before any decides
        return amenity

    monkeypatch.setattr(services, "_lock_amenity", unlocked)
    results, errors = _race(desks)
    # More than one person walked off with the one umbrella: overbooked. Each wrote "1 - 1" (lost updates), so the
    # shelf's CheckConstraint cannot see it either -- the lock is what keeps the answer right.
    loans = AmenityLoan.objects.filter(amenity=desks["umbrella_b"]).count()
    assert len(results) > 1, (results, errors)
    assert loans > 1
    assert Amenity.objects.get(pk=desks["umbrella_b"].pk).on_hand == 0
