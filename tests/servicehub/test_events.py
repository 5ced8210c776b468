"""servicehub.events: emit in the change's transaction, dispatch once after commit, the sweep, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from servicehub import events
from servicehub.models import OutboxEvent

pytestmark = pytest.mark.django_db

TYPE = "test.something_happened"


@pytest.fixture
def seen():
    """A subscriber recording the ids it was called with (removed again after the test)."""
    calls: list[int] = []

    def handler(event):
        calls.append(event.pk)

    events.event_types_register({TYPE: "a test event"})
    events.subscribe(TYPE, handler)
    yield calls
    events._subscribers[TYPE].remove(handler)


def test_emit_dispatches_once_after_the_commit_not_before(seen):
    with transaction.atomic():
        event = events.emit(TYPE, {"x": 1}, center_id=7)
        assert seen == []  # nothing reacts before the change is committed
    assert seen == [event.pk]
    row = OutboxEvent.objects.get(pk=event.pk)
    assert row.dispatched_at is not None and row.attempts == 1
    assert (row.type, row.payload, row.center_id) == (TYPE, {"x": 1}, 7)
    # A second dispatch (a repeated task, the sweep) finds it claimed and does nothing.
    assert events.outbox_dispatch(event_id=event.pk) is False
    assert seen == [event.pk]


def test_a_rolled_back_change_announces_nothing(seen):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        events.emit(TYPE, {}, center_id=None)
        1 / 0  # noqa: B018 -- the change fails after the emit
    assert not OutboxEvent.objects.exists()
    assert seen == []


def test_nested_savepoint_dispatches_when_the_outer_transaction_commits(seen):
    with transaction.atomic():
        with transaction.atomic():
            event = events.emit(TYPE, {}, center_id=None)
        assert seen == []  # the inner block was only a savepoint
    assert seen == [event.pk]


def test_emit_refuses_outside_a_transaction_and_unknown_types(seen):
    with pytest.raises(RuntimeError):
        events.emit(TYPE, {}, center_id=None)
    with pytest.raises(ValueError), transaction.atomic():
        events.emit("test.never_registered", {}, center_id=None)


def test_the_sweep_dispatches_what_the_after_commit_path_lost(seen, monkeypatch):
    from servicehub import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.outbox_dispatch_task, "apply_async", broker_down)
    with transaction.atomic():
        event = events.emit(TYPE, {}, center_id=None)
    assert seen == []  # lost: the broker was down at commit time
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is None
    # Too fresh for the sweep (the normal path may still be on its way) ...
    assert events.outbox_sweep() == 0
    # ... picked up once it is older than OUTBOX_SWEEP_AFTER, exactly once.
    later = timezone.now() + timedelta(minutes=5)
    assert events.outbox_sweep(now=later) == 1
    assert events.outbox_sweep(now=later) == 0
    assert seen == [event.pk]


def test_a_failing_subscriber_rolls_the_dispatch_back_and_is_retried_then_given_up(seen, settings):
    writes: list[int] = []

    def writes_then_fails(event):
        OutboxEvent.objects.filter(pk=event.pk).update(last_error="half-written")  # rolled back with the claim
        writes.append(event.pk)
        raise RuntimeError("SMS provider exploded")

    events.subscribe(TYPE, writes_then_fails)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            event = events.emit(TYPE, {}, center_id=None)
        row = OutboxEvent.objects.get(pk=event.pk)
        assert row.dispatched_at is None  # the claim rolled back with the failure
        assert row.attempts == 1 and "SMS provider exploded" in row.last_error
        later = timezone.now() + timedelta(minutes=5)
        for _ in range(events.MAX_ATTEMPTS):
            events.outbox_sweep(now=later)
        row.refresh_from_db()
        assert row.failed_at is not None and row.attempts == events.MAX_ATTEMPTS
        assert events.outbox_sweep(now=later + timedelta(minutes=5)) == 0  # given up: shown in the admin
    finally:
        events._subscribers[TYPE].remove(writes_then_fails)
