"""servicehub.locking: the one lock primitive (transaction required, pk order, lock_timeout -> Busy)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from servicehub.errors import NotFound
from servicehub.locking import Busy, lock, lock_many, lock_one
from servicehub.models import OutboxEvent


def _rows(n: int) -> list[int]:
    return [OutboxEvent.objects.create(type="test.row", payload={}).pk for _ in range(n)]


@pytest.mark.django_db
def test_lock_refuses_to_run_outside_a_transaction():
    (pk,) = _rows(1)
    with pytest.raises(RuntimeError):
        lock_one(OutboxEvent, pk)


@pytest.mark.django_db
def test_lock_one_returns_the_row_or_not_found_and_lock_many_sorts():
    pks = _rows(3)
    with transaction.atomic():
        assert lock_one(OutboxEvent, pks[1]).pk == pks[1]
        with pytest.raises(NotFound) as err:
            lock_one(OutboxEvent, max(pks) + 100, not_found="No such thing.")
        assert (err.value.code, err.value.status, err.value.message) == ("not_found", 404, "No such thing.")
    with transaction.atomic():
        assert list(lock_many(OutboxEvent, reversed(pks))) == sorted(pks)
        assert [r.pk for r in lock(OutboxEvent.objects.filter(pk__in=pks))] == sorted(pks)


def _hold_lock(pk: int, locked: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic():
            list(OutboxEvent.objects.select_for_update().filter(pk=pk))
            locked.set()
            release.wait(10)
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_beyond_the_timeout_is_busy_not_a_hang():
    (pk,) = _rows(1)
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(pk, locked, release))
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(Busy) as err, transaction.atomic():
            lock_one(OutboxEvent, pk, timeout=0.2)
        assert (err.value.code, err.value.status) == ("busy", 409)
        # Control: without lock_timeout the same wait blocks (here bounded by statement_timeout, so the
        # test cannot hang): the timeout is what turns a stuck writer into a fast, clear answer.
        with pytest.raises(Exception) as plain, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '500ms'")
            list(OutboxEvent.objects.select_for_update().filter(pk=pk))
        assert not isinstance(plain.value, Busy)
        assert "statement timeout" in str(plain.value)
    finally:
        release.set()
        holder.join(10)
    with transaction.atomic():  # released: the lock is taken at once
        assert lock_one(OutboxEvent, pk, timeout=0.2).pk == pk
