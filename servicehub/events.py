"""Domain events: the one path from a state change to its reactions (SMS, e-mail, webhooks).

A domain service calls ``emit(type, payload, center_id=...)`` inside the transaction of its change. That
writes one ``OutboxEvent`` row, so the announcement commits or rolls back with the change. After commit the
row is dispatched (a Celery task; inline in embedded mode) to every subscriber of its type. Subscribers
live in the reacting apps (``notifications.subscribers``, ``partners.subscribers``) and are registered in
their ``AppConfig.ready()``::

    from servicehub.events import subscribe
    subscribe("ticket.changed", notify_customer_of_ticket_change)

Delivery guarantees:

* **at least once** to the dispatcher: the after-commit task can be lost (broker down, worker killed); the
  periodic ``outbox_sweep`` claims what is still undispatched after ``OUTBOX_SWEEP_AFTER`` seconds;
* **exactly once** per event for the subscribers' writes: the claim is a compare-and-set
  (``dispatched_at IS NULL`` -> now) in the same transaction as every subscriber's writes, so two
  dispatchers racing for a row serialise on it and the loser finds it taken; a dispatch that fails rolls
  back entirely and is retried. Subscribers use ``event.pk`` as their dedupe key / message id as well,
  so even a replayed event writes nothing twice.

A subscriber reads what it needs (ticket, customer) by the ids in the payload when it runs: payloads hold
ids, codes and the few values that describe the change itself (from/to status), never personal data that
might be corrected later. Domain apps never import a reacting app: they only know ``emit``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from .locking import in_transaction, lock
from .models import OutboxEvent

logger = logging.getLogger("servicehub.events")

Subscriber = Callable[[OutboxEvent], None]

# Event types and what they mean; emit() refuses a type not listed (a typo would silently reach no one).
# Domain apps register their types with ``event_types_register`` in their AppConfig.ready().
EVENT_TYPES: dict[str, str] = {}
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)

MAX_ATTEMPTS = 10  # dispatches that raised; then the row is marked failed and shown in the admin


def event_types_register(types: dict[str, str]) -> None:
    """Declare event types (``{"ticket.changed": "a ticket moved ..."}``) -- the domain app's vocabulary."""
    EVENT_TYPES.update(types)


def subscribe(event_type: str, handler: Subscriber) -> None:
    """Call ``handler(event)`` for every dispatched event of ``event_type`` (idempotent registration)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def subscribers(event_type: str) -> list[Subscriber]:
    return list(_subscribers.get(event_type, ()))


def emit(event_type: str, payload: dict[str, Any], *, center_id: int | None) -> OutboxEvent:
    """Record that something happened, inside the caller's transaction; dispatch it after commit.

    ``center_id`` is the center the event belongs to (who may be told: the partners operating it), or
    None for network-wide events. Refuses (``RuntimeError``/``ValueError``: programming errors) outside a
    transaction and for an unregistered type.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}: register it with event_types_register()")
    if not in_transaction():
        raise RuntimeError("emit() outside a transaction: emit inside the state change's transaction.atomic()")
    event = OutboxEvent.objects.create(type=event_type, payload=payload, center_id=center_id)
    transaction.on_commit(_after_commit(event.pk), robust=True)
    return event


def _after_commit(event_id: int) -> Callable[[], None]:
    # A named function, not a lambda: Django logs a failing robust callback by __qualname__, and the
    # test suite's commit emulation recognises it by the marker attribute.
    def outbox_dispatch_after_commit() -> None:
        from .tasks import outbox_dispatch_task

        try:
            outbox_dispatch_task.apply_async((event_id,), queue=_dispatch_queue())
        except (KombuOperationalError, ConnectionError, OSError):  # broker down: the sweep dispatches it later
            logger.warning("could not queue outbox event %s; the sweep will", event_id, exc_info=True)

    outbox_dispatch_after_commit.servicehub_outbox = True  # type: ignore[attr-defined]
    return outbox_dispatch_after_commit


def _dispatch_queue() -> str:
    # Read per call, as notifications_dispatch does: Celery's router caches the default queue at the first
    # publish, so a deployment (or a test) that moves CELERY_TASK_DEFAULT_QUEUE would otherwise not be heard.
    route = (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).get("servicehub.outbox_dispatch") or {}
    return route.get("queue") or settings.CELERY_TASK_DEFAULT_QUEUE


def outbox_dispatch(*, event_id: int, now: datetime | None = None) -> bool:
    """Claim the event and run its subscribers in one transaction; False when someone else had it.

    A subscriber that raises rolls the whole dispatch back (nothing half-announced); the attempt is
    counted and the sweep retries it; after ``MAX_ATTEMPTS`` the row is marked failed.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            unclaimed = OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True, failed_at__isnull=True)
            claimed = unclaimed.update(dispatched_at=now, attempts=F("attempts") + 1)
            if not claimed:
                return False
            event = OutboxEvent.objects.get(pk=event_id)
            for handler in subscribers(event.type):
                handler(event)
    except Exception as exc:
        _record_failure(event_id, exc, now=now)
        raise
    return True


def _record_failure(event_id: int, exc: Exception, *, now: datetime) -> None:
    OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:5000]
    )
    OutboxEvent.objects.filter(pk=event_id, dispatched_at__isnull=True, attempts__gte=MAX_ATTEMPTS).update(
        failed_at=now
    )
    logger.exception("outbox event %s: a subscriber failed", event_id)


def outbox_pending(*, older_than: timedelta | None = None, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of undispatched events (oldest first), optionally only those older than ``older_than``."""
    now = now or timezone.now()
    qs = OutboxEvent.objects.filter(Q(dispatched_at__isnull=True) & Q(failed_at__isnull=True))
    if older_than is not None:
        qs = qs.filter(created_at__lte=now - older_than)
    return list(qs.order_by("created_at", "pk").values_list("pk", flat=True)[:limit])


def outbox_sweep(*, now: datetime | None = None, limit: int = 500, ids: Iterable[int] | None = None) -> int:
    """Dispatch events whose after-commit dispatch was lost (broker down, worker killed); return how many.

    Only rows older than ``OUTBOX_SWEEP_AFTER`` seconds (default 30), so the sweep does not race the
    normal path for fresh rows -- and if it does, the compare-and-set makes one of them a no-op.
    """
    after = timedelta(seconds=getattr(settings, "OUTBOX_SWEEP_AFTER", 30))
    done = 0
    for event_id in ids if ids is not None else outbox_pending(older_than=after, now=now, limit=limit):
        try:
            done += outbox_dispatch(event_id=event_id)
        except Exception:  # noqa: BLE001, S112 -- logged and counted on the row; the next sweep retries
            continue
    return done


def outbox_retry(*, event_ids: Iterable[int]) -> int:
    """Give failed events another round (the admin's "dispatch again"); return how many.

    Changes: rows marked failed (``MAX_ATTEMPTS`` dispatches raised) get ``failed_at`` cleared and
    ``attempts`` reset, and are dispatched after commit (the sweep catches them otherwise). Refuses
    (leaves untouched): rows that were dispatched -- an announced event is never announced twice --
    and rows still being retried.
    """
    with transaction.atomic():
        # Locked and re-checked in this transaction: two staff retrying the same rows queue them once.
        rows = lock(
            OutboxEvent.objects.filter(pk__in=list(event_ids), failed_at__isnull=False, dispatched_at__isnull=True)
        )
        ids = [row.pk for row in rows]
        OutboxEvent.objects.filter(pk__in=ids).update(failed_at=None, attempts=0, last_error="")
        for event_id in ids:
            transaction.on_commit(_after_commit(event_id), robust=True)
    return len(ids)
