"""Concurrent transitions on one ticket never both apply (PostgreSQL row lock), with a control run."""

import threading

import pytest
from django.db import connection

from repairs import services
from repairs.models import RepairTicket, TicketEvent
from tests.factories.repairs import walk_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(ticket_id, actors, monkeypatch, *, lock: bool):
    """Two threads apply ``start_diagnosis`` at once; both wait for each other right after reading the row.

    With the lock, the second reader blocks inside SELECT ... FOR UPDATE, so the rendezvous times out
    for the first and the second re-reads the moved status. Without it (control), both read
    ``received`` and both write.
    """
    barrier = threading.Barrier(2)
    original = services._lock_ticket

    def unlocked(ticket_id):
        return RepairTicket.objects.select_related("center", "origin_center", "device", "customer").get(pk=ticket_id)

    def reading(ticket_id):
        ticket = (original if lock else unlocked)(ticket_id)
        try:
            barrier.wait(timeout=1.0)
        except threading.BrokenBarrierError:
            pass
        return ticket

    monkeypatch.setattr(services, "_lock_ticket", reading)
    results = []

    def worker(actor):
        try:
            services.ticket_transition(ticket_id=ticket_id, action="start_diagnosis", actor=actor)
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome for one thread
            results.append(getattr(exc, "code", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in actors]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    return sorted(results)


def test_concurrent_transitions_never_both_apply(center, people, old_device, monkeypatch):
    t = walk_in(center, people["desk"], device=old_device)
    results = _race(t.pk, [people["eng"], people["eng2"]], monkeypatch, lock=True)
    assert results == ["invalid_transition", "ok"]
    assert TicketEvent.objects.filter(ticket_id=t.pk, action="start_diagnosis").count() == 1
    assert RepairTicket.objects.get(pk=t.pk).status == "diagnosing"


def test_control_without_the_lock_both_apply(center, people, old_device, monkeypatch):
    """Control: the same harness without the row lock lets both transitions through (the bug is caught)."""
    t = walk_in(center, people["desk"], device=old_device)
    results = _race(t.pk, [people["eng"], people["eng2"]], monkeypatch, lock=False)
    assert results == ["ok", "ok"]
    assert TicketEvent.objects.filter(ticket_id=t.pk, action="start_diagnosis").count() == 2
