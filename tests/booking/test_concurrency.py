"""No overbooking under concurrency: 200 customers race for a slot of 10 (PostgreSQL row locks).

PostgreSQL here allows 100 connections shared with other suites, so at most 30 of the 200
threads hold a connection at once (a semaphore); they all start together behind a barrier.
"""

import threading
import time

import pytest
from django.db import connection

from booking import services
from booking.models import Appointment, SlotCounter
from servicehub.errors import DomainError
from tests.factories.booking import SlotRuleFactory, booking_input, local, open_center, tomorrow
from tests.factories.warranty import DeviceModelFactory

THREADS = 200
CAPACITY = 10
MAX_CONNECTIONS = 30


def _race(center, start):
    model = DeviceModelFactory(code="RACE-1")
    inputs = [booking_input(model=model) for _ in range(THREADS)]
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)
    gate = threading.Semaphore(MAX_CONNECTIONS)

    def worker(kwargs):
        barrier.wait()
        with gate:
            try:
                services.appointment_book(center=center, start=start, **kwargs)
                outcome = "booked"
            except DomainError as err:
                outcome = err.code
            except Exception as err:  # noqa: BLE001 - the harness records every surprise
                outcome = f"error:{type(err).__name__}:{err}"
            finally:
                connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(kw,)) for kw in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _slot():
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=CAPACITY)
    return center, local(day, 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_threads_book_exactly_10_seats():
    # given a slot of 10 seats
    center, start = _slot()
    # when 200 customers book it at once
    results = _race(center, start)
    # then exactly 10 got a seat, everyone else got slot_full, nothing else happened
    assert results.count("booked") == CAPACITY
    assert results.count("slot_full") == THREADS - CAPACITY
    assert Appointment.objects.filter(center=center, start=start).count() == CAPACITY
    assert SlotCounter.objects.get(center=center, start=start).booked == CAPACITY


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_row_lock_the_slot_is_overbooked(monkeypatch):
    """Control: read the counter without FOR UPDATE (and widen the window): the harness sees overbooking."""
    from booking.models import SlotCounter as Counter

    def unlocked(*, center, start, capacity):
        Counter.objects.bulk_create([Counter(center=center, start=start, capacity=capacity)], ignore_conflicts=True)
        counter = Counter.objects.get(center=center, start=start)
        time.sleep(0.05)
        return counter

    monkeypatch.setattr(services, "_lock_counter", unlocked)
    center, start = _slot()
    results = _race(center, start)
    booked = Appointment.objects.filter(center=center, start=start).count()
    assert booked > CAPACITY, f"expected the unlocked path to overbook, got {booked}"
    assert results.count("booked") == booked
    # The counter lost updates: it no longer matches the appointments.
    assert SlotCounter.objects.get(center=center, start=start).booked < booked
