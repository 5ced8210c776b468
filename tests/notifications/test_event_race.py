"""Two dispatchers racing for one outbox event (PostgreSQL, threads): the subscribers run once, one SMS row.

The control takes the compare-and-set out (read ``dispatched_at``, then run the subscribers) and shows the
harness catches the race: both dispatchers then run the subscribers.
"""

import time

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import subscribers as notification_subscribers
from notifications.models import Notification
from repairs.services import ticket_book, ticket_transition
from servicehub import events
from servicehub.actors import SYSTEM
from servicehub.models import OutboxEvent
from servicehub.tasks import outbox_dispatch_task
from tests.concurrency import race_collect
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def undispatched(monkeypatch, sms_outbox):
    """A committed check-in whose event nobody dispatched yet; the notification subscriber counts its runs."""
    monkeypatch.setattr(outbox_dispatch_task, "apply_async", lambda *a, **kw: None)
    ticket = ticket_book(
        center=ServiceCenterFactory(),
        customer=CustomerFactory(phone="+8613812345678"),
        device=DeviceFactory(),
        fault_category="screen",
    )
    ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    event = OutboxEvent.objects.get(type="ticket.changed", payload__to_status="received")
    runs = []

    def counted(evt):
        runs.append(evt.pk)
        time.sleep(0.3)  # hold the dispatch open: the other dispatcher arrives meanwhile
        return notification_subscribers.ticket_changed(evt)

    monkeypatch.setitem(events._subscribers, "ticket.changed", [counted])
    return ticket, event, runs


def race(target, n=2):
    return race_collect(target, n)


def unsafe_dispatch(*, event_id):
    """The bug the compare-and-set prevents: check, then claim without re-checking in the UPDATE."""
    with transaction.atomic():
        event = OutboxEvent.objects.get(pk=event_id)
        if event.dispatched_at is not None:
            return False
        for handler in events.subscribers(event.type):
            handler(event)
        OutboxEvent.objects.filter(pk=event_id).update(dispatched_at=timezone.now())
    return True


def test_two_dispatchers_for_one_event_run_the_subscribers_once(undispatched):
    ticket, event, runs = undispatched
    results, errors = race(lambda: events.outbox_dispatch(event_id=event.pk))
    assert errors == []
    assert sorted(results) == [False, True]
    assert runs == [event.pk]
    assert Notification.objects.filter(ticket=ticket, kind="ticket_received").count() == 1
    event.refresh_from_db()
    assert event.attempts == 1 and event.dispatched_at is not None


def test_control_without_the_compare_and_set_both_dispatchers_run_the_subscribers(undispatched):
    ticket, event, runs = undispatched
    results, errors = race(lambda: unsafe_dispatch(event_id=event.pk))
    # Both ran the subscribers: the race is real and the harness sees it. (The per-event dedupe key is the
    # second line of defence: the loser's insert meets the unique index and one row survives.)
    assert runs == [event.pk, event.pk]
    assert results.count(True) + len(errors) == 2
    assert Notification.objects.filter(ticket=ticket, kind="ticket_received").count() == 1
