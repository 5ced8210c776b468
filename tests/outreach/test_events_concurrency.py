"""No overbooking of an event under concurrency (PostgreSQL row locks): N people race for the last place.

The control takes the event lock out (and widens the window between the read and the write): the same race
then gives the place to more than one person, which the harness sees.
"""

import time

import pytest

from outreach import services
from outreach.models import Event, Registration
from servicehub.errors import DomainError
from tests.concurrency import race_collect

from .conftest import make_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(event):
    phones = iter([f"1390000{n:04d}" for n in range(THREADS)])

    def sign_up():
        return services.event_register(event_id=event.pk, name="抢位", phone=next(phones)).pk

    return race_collect(sign_up, THREADS)


def _last_place(place):
    event = make_event(place["center"], capacity=3)
    services.event_register(event_id=event.pk, name="A", phone="13800000001")
    services.event_register(event_id=event.pk, name="B", phone="13800000002")
    return event


def test_eight_people_for_the_last_place_exactly_one_gets_it(place):
    event = _last_place(place)
    results, errors = _race(event)
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, DomainError) and e.code == "event_full" for e in errors), errors
    event.refresh_from_db()
    assert event.places_taken == 3 == Registration.objects.filter(event=event).count()


def test_control_without_the_event_lock_the_last_place_is_given_twice(place, monkeypatch):
    def unlocked(event_id):
        event = Event.objects.select_related("center").get(pk=event_id)
        time.sleep(0.1)  # widen the window between the check and the write
        return event

    monkeypatch.setattr(services, "_lock_event", unlocked)
    event = _last_place(place)
    results, errors = _race(event)
    # More than one person was told "signed up" for the one place left: overbooked. The counter lost updates
    # (each wrote "2 + 1"), so even the CheckConstraint cannot see it -- the lock is what keeps the answer right.
    registrations = Registration.objects.filter(event=event).count()
    assert len(results) > 1, (results, errors)
    assert registrations > event.capacity
    event.refresh_from_db()
    assert event.places_taken < registrations
