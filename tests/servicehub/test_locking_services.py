"""The one locking primitive (servicehub.locking): refusals, order, not-found, the pool pick, and ``busy``.

The PostgreSQL tests hold a row in a second connection and show that a state change queued behind it
answers 409 ``busy`` through the API after the lock timeout, with controls: the same request succeeds
once the row is free, and a lock taken without the timeout (the old ``loan_checkout``) waits for the
holder instead -- so the harness tells the two apart.
"""

import contextlib
import threading
import time

import pytest
from django.db import connection, transaction

from loaners import services as loaner_services
from loaners.models import Loan
from repairs import services as repair_services
from repairs.models import RepairTicket
from servicehub.actors import SYSTEM
from servicehub.errors import NotFound
from servicehub.locking import Busy, lock, lock_first_free, lock_many, lock_one
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory, ticket

# --- everywhere (SQLite too) ------------------------------------------------------------------


@pytest.mark.django_db
def test_lock_outside_a_transaction_raises_and_inside_returns_the_rows_in_pk_order():
    b, a = ServiceCenterFactory(code="LK002"), ServiceCenterFactory(code="LK001")
    from centers.models import ServiceCenter

    qs = ServiceCenter.objects.filter(pk__in=[a.pk, b.pk]).order_by("-code")
    for call in (lambda: lock(qs), lambda: lock_one(ServiceCenter, a.pk), lambda: lock_many(ServiceCenter, [a.pk])):
        with pytest.raises(RuntimeError, match="outside a transaction"):
            call()
    with transaction.atomic():
        assert [c.pk for c in lock(qs)] == sorted([a.pk, b.pk])


@pytest.mark.django_db
def test_lock_one_of_a_missing_row_is_not_found_404_with_the_given_message():
    from centers.models import ServiceCenter

    with transaction.atomic(), pytest.raises(NotFound) as err:
        lock_one(ServiceCenter, 999_999, not_found="No such center.")
    assert (err.value.code, err.value.status, err.value.message) == ("not_found", 404, "No such center.")


@pytest.mark.django_db
def test_lock_many_returns_the_existing_rows_by_pk_and_lock_first_free_the_lowest_pk():
    from centers.models import ServiceCenter

    a, b = ServiceCenterFactory(code="LK003"), ServiceCenterFactory(code="LK004")
    with transaction.atomic():
        rows = lock_many(ServiceCenter, [b.pk, a.pk, 999_999, a.pk])
        assert sorted(rows) == sorted([a.pk, b.pk])
        assert lock_first_free(ServiceCenter.objects.filter(pk__in=[a.pk, b.pk])).pk == min(a.pk, b.pk)
        assert lock_first_free(ServiceCenter.objects.filter(pk=999_999)) is None
        assert lock_many(ServiceCenter, []) == {}


@pytest.mark.django_db
def test_services_refuse_to_run_for_nobody():
    """``actor=None`` no longer switches the center check off: the system actor is explicit."""
    center = ServiceCenterFactory(code="LK005")
    t = ticket(center=center)
    with pytest.raises(TypeError, match="SYSTEM"):
        loaner_services.loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=None)


# --- PostgreSQL: a lock wait beyond the timeout is 409 busy ----------------------------------------


@contextlib.contextmanager
def holding(model, pk):
    """Another connection holds ``model`` row ``pk`` FOR UPDATE until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_one(model, pk, timeout=5)
                locked.set()
                release.wait(20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10), "the holder never got the lock"
    try:
        yield
    finally:
        release.set()
        holder.join(20)


def _loan_setup(key_client, code):
    center = ServiceCenterFactory(code=code)
    LoanerFactory(home_center=center)
    t = ticket(center=center)
    client = key_client(scopes=["loans:write"], centers=[center])
    return t, client


def _post_loan(client, t):
    return client.post(
        "/api/v1/loans/", {"ticket": t.service_no, "tier": "flagship", "payment_method": "cash"}, format="json"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_beyond_the_timeout_answers_409_busy_through_the_api(settings, key_client):
    # Given the ticket row is held by a stuck transaction, and a lock timeout of 0.3 s
    settings.SERVICEHUB_LOCK_TIMEOUT = 0.3
    t, client = _loan_setup(key_client, "BUSY1")
    with holding(RepairTicket, t.pk):
        # When a counter lends a loaner for that ticket
        started = time.monotonic()
        r = _post_loan(client, t)
        waited = time.monotonic() - started
    # Then it fails fast with the problem document of ``busy`` and nothing was written
    assert r.status_code == 409, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "busy"
    assert 0.25 <= waited < 3, waited
    assert not Loan.objects.exists()
    # Control: with the row free again the same request lends the loaner (the lock was all that stood in the way)
    assert _post_loan(client, t).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_a_lock_without_the_timeout_waits_for_the_holder(settings, key_client, monkeypatch):
    """Control: the old ``loan_checkout`` lock (FOR UPDATE, no lock_timeout) queues behind the holder.

    The harness sees the difference: the request is still waiting long after the timeout, and only
    finishes when the holder lets go.
    """
    settings.SERVICEHUB_LOCK_TIMEOUT = 0.3
    t, client = _loan_setup(key_client, "BUSY2")

    def lock_one_without_timeout(queryset, pk, **_kw):
        return queryset.select_for_update(of=("self",)).get(pk=pk)

    monkeypatch.setattr(loaner_services, "lock_one", lock_one_without_timeout)
    outcome = {}

    def request():
        try:
            outcome["status"] = _post_loan(client, t).status_code
        finally:
            connection.close()

    with holding(RepairTicket, t.pk):
        worker = threading.Thread(target=request)
        worker.start()
        worker.join(1.5)  # five times the lock timeout
        still_waiting = worker.is_alive()
    worker.join(20)
    assert still_waiting, "the request did not queue behind the holder: the control cannot tell the cases apart"
    assert outcome["status"] == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ticket_transition_behind_a_stuck_transaction_is_busy(settings):
    settings.SERVICEHUB_LOCK_TIMEOUT = 0.3
    t = ticket(center=ServiceCenterFactory(code="BUSY3"), status="received")
    with holding(RepairTicket, t.pk), pytest.raises(Busy) as err:
        repair_services.ticket_transition(ticket_id=t.pk, action="start_diagnosis", actor=SYSTEM)
    assert (err.value.code, err.value.status) == ("busy", 409)
    assert RepairTicket.objects.get(pk=t.pk).status == "received"
