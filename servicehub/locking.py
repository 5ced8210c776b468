"""The one way a state change locks rows.

Every service that changes state locks what it changes with ``lock``/``lock_one``:

* it refuses to run outside a transaction (a lock outside one is released at once and protects nothing);
* it locks in a stable order (primary key ascending), so two changes locking the same rows cannot deadlock;
* on PostgreSQL it sets ``lock_timeout`` for the transaction (``SERVICEHUB_LOCK_TIMEOUT``, default 3 s):
  a change queued behind a stuck transaction fails fast with ``Busy`` (409 ``busy``) instead of holding a
  worker forever;
* only the rows of the queryset's own table are locked (``FOR UPDATE OF self``), not joined rows;
* ``lock_first_free`` takes one row of a pool (a free loaner) skipping rows others hold (``SKIP LOCKED``).

When a change locks rows of several tables, it locks them in the order of the layers (center, then ticket,
then loaner/appointment/shipment, then the rest), parents before children. SQLite has no row locks (writes
serialise on the database file); the calls still check the transaction there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connections, models, router
from django.utils.translation import gettext as _

from .errors import Conflict, NotFound

M = TypeVar("M", bound=models.Model)
# What the functions accept: a model (all its rows) or a queryset of it.
Target = type[M] | models.QuerySet[M]

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


class Busy(Conflict):
    """Someone else is changing the same thing right now (the lock wait timed out): try again."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__("busy", message or _("Someone else is changing this right now. Please try again."))


def in_transaction(using: str = "default") -> bool:
    """True inside an ``atomic`` block of the code (the test runner's own blocks do not count)."""
    connection = connections[using]
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _timeout_ms(timeout: float | None) -> int:
    seconds = getattr(settings, "SERVICEHUB_LOCK_TIMEOUT", 3.0) if timeout is None else timeout
    return max(1, int(seconds * 1000))


def _prepare(queryset: models.QuerySet[Any], timeout: float | None) -> str:
    # ``_db`` is the alias chosen with .using() (None: let the router decide); the stubs do not declare it.
    explicit_db: str | None = getattr(queryset, "_db", None)
    using = queryset.db if explicit_db else router.db_for_write(queryset.model)
    if not in_transaction(using):
        raise RuntimeError("lock() outside a transaction: wrap the state change in transaction.atomic()")
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{_timeout_ms(timeout)}ms'")
    return using


def _as_queryset(target: Target[M]) -> models.QuerySet[M]:
    if isinstance(target, models.QuerySet):
        return target
    return target._default_manager.all()


def _is_lock_timeout(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE


def lock(target: Target[M], *, timeout: float | None = None) -> list[M]:
    """Lock every row of ``target`` (a model or a queryset) in primary-key order; return them.

    Refuses: outside a transaction (``RuntimeError``, a programming error); a lock wait longer than
    the timeout (``Busy``).
    """
    queryset = _as_queryset(target)
    using = _prepare(queryset, timeout)
    try:
        return list(queryset.using(using).select_for_update(of=("self",)).order_by("pk"))
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise Busy() from exc
        raise


def lock_one(target: Target[M], pk: object = None, *, not_found: str | None = None, timeout: float | None = None) -> M:
    """Lock one row (by ``pk``, or the single row of a filtered queryset); ``NotFound`` when there is none.

    ``not_found`` is the message people read ("No such loan."); the code is always ``not_found`` (404).
    """
    queryset = _as_queryset(target)
    if pk is not None:
        queryset = queryset.filter(pk=pk)
    rows = lock(queryset, timeout=timeout)
    if not rows:
        raise NotFound(not_found or _("Not found."))
    if len(rows) > 1:
        # ModelBase gives every concrete model its own MultipleObjectsReturned; the stubs lack it on type[M].
        error = queryset.model.MultipleObjectsReturned  # type: ignore[attr-defined]
        raise error(f"lock_one() matched more than one {queryset.model.__name__}")
    return rows[0]


def lock_many(target: Target[M], pks: Iterable[Any], *, timeout: float | None = None) -> dict[Any, M]:
    """Lock the rows with these primary keys (sorted, so concurrent callers cannot deadlock); ``{pk: row}``.

    Missing keys are simply absent from the result (the caller decides whether that is ``not_found``).
    """
    keys = sorted(set(pks))
    if not keys:
        return {}
    return {row.pk: row for row in lock(_as_queryset(target).filter(pk__in=keys), timeout=timeout)}


def lock_first_free(target: Target[M], *, timeout: float | None = None) -> M | None:
    """Lock the first row (primary-key order) of ``target`` that no other transaction holds; ``None`` if none.

    For pools (a free loaner): concurrent callers skip each other's rows instead of queueing behind the
    same one. Where the database cannot skip locked rows it waits for the first row, as ``lock`` does.
    Refuses like ``lock``: outside a transaction (``RuntimeError``), a lock wait beyond the timeout (``Busy``).
    """
    queryset = _as_queryset(target)
    using = _prepare(queryset, timeout)
    skip_locked = connections[using].features.has_select_for_update_skip_locked
    try:
        return queryset.using(using).select_for_update(of=("self",), skip_locked=skip_locked).order_by("pk").first()
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise Busy() from exc
        raise
