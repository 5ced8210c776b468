"""Twenty repairs race for the last screen_care claim: exactly one wins (PostgreSQL).

Two protections: the service locks the purchase row (SELECT ... FOR UPDATE), and the
database refuses ``claims_used > claims_allowed`` (CheckConstraint). The controls take
them away one at a time to show what each does, and that this harness does catch a
double use when both are gone (so the main test could fail).
"""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, purchase, repair_ticket, screen_care
from warranty import services
from warranty.models import PlanClaim, PlanPurchase

THREADS = 20
CONSTRAINT = "plan_purchase_claims_within_allowed"


def _setup():
    device = DeviceFactory(
        model=DeviceModelFactory(code="MATE70PRO", category="phone"), sold_at=timezone.now() - dt.timedelta(days=3)
    )
    p = purchase(device=device, product=screen_care(), purchased_at=device.sold_at + dt.timedelta(hours=1))
    tickets = [repair_ticket(device=device) for _ in range(THREADS)]
    return p, tickets


def _race(purchase_id, tickets) -> list[str]:
    start = threading.Barrier(len(tickets))
    results: list[str] = [""] * len(tickets)

    def run(i, ticket):
        try:
            start.wait(timeout=30)
            services.plan_claim_use(purchase_id=purchase_id, ticket=ticket, actor=SYSTEM)
            results[i] = "won"
        except DomainError as exc:
            results[i] = exc.extra.get("reason", exc.code)
        except Exception as exc:  # anything else is a bug the test must show
            results[i] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(tickets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _unlocked(purchase_id):
    """``_lock_purchase`` without FOR UPDATE: every claimant reads the row at once."""
    p = PlanPurchase.objects.select_related("product", "device").filter(pk=purchase_id).first()
    assert p is not None
    return p


def _force_interleaving(monkeypatch):
    """Make every thread pass the 'claims left?' check before any of them writes."""
    checked = threading.Barrier(THREADS)
    monkeypatch.setattr(services, "_lock_purchase", _unlocked)
    monkeypatch.setattr(services, "_after_claim_checks", lambda purchase: checked.wait(timeout=30))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_race_for_the_last_screen_claim_and_exactly_one_wins():
    # Given a screen_care purchase with its one claim left and 20 repairs of that phone
    p, tickets = _setup()
    # When 20 threads approve their quotes at the same moment
    results = _race(p.pk, tickets)
    # Then exactly one used the claim, the 19 others were told no claim is left
    assert results.count("won") == 1, results
    assert results.count("no_claims_left") == THREADS - 1, results
    p.refresh_from_db()
    assert (p.claims_used, p.status) == (1, "used_up")
    assert PlanClaim.objects.filter(purchase=p, status="active").count() == 1
    assert p.events.filter(action="claim_use").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_row_lock_the_database_constraint_still_stops_the_double_use(monkeypatch):
    # Given the row lock is taken away and every thread is forced past the check before writing
    p, tickets = _setup()
    _force_interleaving(monkeypatch)
    # When they race
    results = _race(p.pk, tickets)
    # Then all 20 passed the check (the lock was really gone) and only the CheckConstraint stopped 19
    assert results.count("won") == 1, results
    assert results.count("no_claims_left") == THREADS - 1, results
    p.refresh_from_db()
    assert p.claims_used == 1
    assert PlanClaim.objects.filter(purchase=p, status="active").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_lock_and_constraint_the_harness_catches_the_double_use(monkeypatch):
    # Given neither the lock nor the constraint protects the claim counter
    p, tickets = _setup()
    _force_interleaving(monkeypatch)
    constraint = next(c for c in PlanPurchase._meta.constraints if c.name == CONSTRAINT)
    with connection.schema_editor() as editor:
        editor.remove_constraint(PlanPurchase, constraint)
    try:
        # When they race
        results = _race(p.pk, tickets)
        # Then the bug happens and the assertions of the main test would fail: the last claim is used 20 times
        assert results.count("won") == THREADS, results
        p.refresh_from_db()
        assert p.claims_used == THREADS
        assert PlanClaim.objects.filter(purchase=p, status="active").count() == THREADS
    finally:
        PlanPurchase.objects.filter(pk=p.pk).update(claims_used=0)
        with connection.schema_editor() as editor:
            editor.add_constraint(PlanPurchase, constraint)
