"""A queryset compiled once per process and run many times with new values (issue #17).

Django builds and compiles a queryset on every call: for the tracking lookup (the ticket, four related
rows and nine version subqueries) that is ~8 ms of CPU per request, while PostgreSQL answers the SQL in
~0.25 ms. The SQL is the same for every request except the service number, so it is compiled once and
executed with the new value:

    _LOOKUP = PreparedQuery(
        lambda service_no: RepairTicket.objects.select_related("customer").filter(service_no=service_no)[:1],
        model=RepairTicket,
    )
    tickets = _LOOKUP.run(service_no="A1B2C3D4E5")

``build`` is called twice per database alias, with two sets of unique sentinels, one per keyword; each
sentinel must appear among the compiled query's parameters (a value Django folds into the SQL is refused),
and the two compilations must differ exactly where the sentinels are: a parameter *derived* from a keyword
(``lat - 1``, ``cos(lat)``) would differ too, and is refused when the query is prepared, not silently bound
to its first value. A keyword the query uses several times is bound at each place. Keywords compared to
integer or float columns are named in ``ints`` / ``floats`` (their sentinels are numbers). Instances are made the way
``ModelIterable`` makes them: the same converters, ``select_related`` objects and annotations, so a
prepared query returns what the queryset would (tests/servicehub/test_prepared.py compares them field by
field). Only plain model querysets: no ``prefetch_related``, ``values()`` or known related objects.

The read goes to ``router.db_for_read``, so the replica routing of public pages (servicehub.dbrouter)
applies as it does to a queryset; queries run through ``connection.cursor()``, so they are counted and
logged like any other.

On PostgreSQL (``settings.PREPARED_STATEMENTS``) the query is also *planned* once per connection: PostgreSQL
took 2.9 ms to plan the tracking lookup and 0.4 ms to run it. It is ``PREPARE``d the first time a connection
runs it and ``EXECUTE``d after that. The ``PREPARE`` is connection set-up, like the ``SET`` statements Django
runs when it connects: it goes through the driver's own cursor, so query counts stay what they were, inside a
savepoint when a transaction is open, so a refusal (a parameter whose type PostgreSQL cannot infer) aborts
nothing; a refused query runs unprepared from then on. Prepared statements are session state, so they are off
behind PgBouncer's transaction pooling (``DISABLE_SERVER_SIDE_CURSORS=1`` turns them off too).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

logger = logging.getLogger(__name__)

# Per driver connection (a new connection, after a reconnect, has prepared nothing): the statement names it holds.
_PREPARED_ON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()
_PLACEHOLDER = re.compile(r"%%|%s")
_INT_SENTINEL = -(2**62) + 7919
_STATEMENT_NUMBERS = itertools.count(1)
_FLOAT_SENTINEL = -98765.432101234  # of a size where a derived value (lat + 1, cos(lat)) differs from it


class _Compiled:
    __slots__ = (
        "sql",
        "params",
        "slots",
        "converters",
        "init_list",
        "start",
        "end",
        "populators",
        "annotations",
        "statement",
        "prepare_sql",
        "execute_sql",
    )

    def __init__(self, queryset: QuerySet, alias: str, sentinels: dict[str, Any]) -> None:
        if queryset._prefetch_related_lookups or queryset._iterable_class.__name__ != "ModelIterable":
            raise ValueError("PreparedQuery takes a plain model queryset (no prefetch_related, values()).")
        if queryset._known_related_objects:
            raise ValueError("PreparedQuery cannot carry known related objects.")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # fills compiler.select, klass_info and annotation_col_map
        params = list(params)
        self.slots: dict[str, list[int]] = {}
        for name, sentinel in sentinels.items():
            at = [i for i, value in enumerate(params) if type(value) is type(sentinel) and value == sentinel]
            if not at:
                raise ValueError(f"PreparedQuery: the value of {name!r} must be a parameter of the query.")
            self.slots[name] = at
        self.sql, self.params = sql, params
        # What results_iter applies to every row; applied here with the running thread's connection.
        self.converters = tuple(
            compiler.get_converters([s[0] for s in compiler.select[0 : compiler.col_count]]).items()
        )
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, alias)
        self.annotations = tuple(compiler.annotation_col_map.items())
        self.statement = ""  # the prepared statement's name; empty: run the SQL itself
        if getattr(settings, "PREPARED_STATEMENTS", False) and compiler.connection.vendor == "postgresql":
            counter = iter(range(1, len(params) + 1))
            self.prepare_sql = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(counter)}", sql)
            # A number never used again in this process: an id() is, once its object is gone, and a connection
            # that prepared the old statement under that name would run it for the new query.
            self.statement = f"sh_prepared_{next(_STATEMENT_NUMBERS)}"
            self.execute_sql = f"EXECUTE {self.statement}({', '.join(['%s'] * len(params))})" if params else ""


class PreparedQuery(Generic[M]):
    """``build(**values)`` -> queryset of ``model``, compiled once per database alias; ``run(**values)``."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        model: type[M],
        ints: frozenset[str] = frozenset(),
        floats: frozenset[str] = frozenset(),
    ) -> None:
        self._build = build
        self.model = model
        # Keywords compared to integer or float columns: their sentinel is a number (a string one would not pass
        # the field's get_prep_value), far below any key, amount or coordinate a query holds.
        self._ints, self._floats = ints, floats
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _prepare(self, alias: str, names: tuple[str, ...]) -> _Compiled:
        with self._lock:
            compiled = self._compiled.get(alias)
            if compiled is None or compiled.slots.keys() != set(names):
                first, second = self._sentinels(names, 0), self._sentinels(names, 1)
                compiled = _Compiled(self._queryset(first), alias, first)
                check = _Compiled(self._queryset(second), alias, second)
                bound = {i for at in compiled.slots.values() for i in at}
                same_elsewhere = all(
                    a == b for i, (a, b) in enumerate(zip(compiled.params, check.params, strict=True)) if i not in bound
                )
                if check.sql != compiled.sql or check.slots != compiled.slots or not same_elsewhere:
                    raise ValueError(
                        "PreparedQuery: a parameter of the query is derived from a keyword (or the SQL changes with"
                        " its value): pass what the query needs as keywords of their own."
                    )
                self._compiled[alias] = compiled
        return compiled

    def _sentinels(self, names: tuple[str, ...], round_: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            k = 2 * i + round_
            if name in self._ints:
                out[name] = _INT_SENTINEL - k
            elif name in self._floats:
                out[name] = _FLOAT_SENTINEL - k * 1.0009765625
            else:
                out[name] = f"\x1fprepared:{name}:{round_}:{id(self):x}\x1f"
        return out

    def _queryset(self, sentinels: dict[str, Any]) -> QuerySet:
        queryset = self._build(**sentinels)
        if queryset.model is not self.model:
            raise ValueError(f"PreparedQuery: the queryset is of {queryset.model}, not {self.model}.")
        return queryset

    def run(self, **values: Any) -> list[M]:
        model = self.model
        alias = router.db_for_read(model)
        compiled = self._compiled.get(alias)
        if compiled is None or compiled.slots.keys() != values.keys():
            compiled = self._prepare(alias, tuple(values))
        params = list(compiled.params)
        for name, value in values.items():
            for i in compiled.slots[name]:
                params[i] = value
        connection = connections[alias]
        if compiled.statement and _prepared(connection, compiled):
            sql = compiled.execute_sql or f"EXECUTE {compiled.statement}"
        else:
            sql = compiled.sql
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        objects: list[M] = []
        for raw in rows:
            row = list(raw)
            for position, (converters, expression) in compiled.converters:
                value = row[position]
                for convert in converters:
                    value = convert(value, expression, connection)
                row[position] = value
            obj = model.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for attr, position in compiled.annotations:
                setattr(obj, attr, row[position])
            objects.append(obj)
        return objects


def _prepared(connection, compiled: _Compiled) -> bool:
    """Whether ``compiled`` is prepared on this connection (preparing it now if not); False once refused."""
    connection.ensure_connection()
    raw = connection.connection
    with _PREPARED_LOCK:
        names = _PREPARED_ON.setdefault(raw, set())
    if compiled.statement in names:
        return True
    in_transaction = not connection.get_autocommit() or connection.in_atomic_block
    with raw.cursor() as cursor:  # the driver's cursor: set-up, not one of the request's queries
        try:
            if in_transaction:
                cursor.execute("SAVEPOINT servicehub_prepare")
            cursor.execute(f"PREPARE {compiled.statement} AS {compiled.prepare_sql}")
            if in_transaction:
                cursor.execute("RELEASE SAVEPOINT servicehub_prepare")
        except connection.Database.Error as exc:  # the driver's own error: its cursor is not Django's wrapper
            if in_transaction:
                cursor.execute("ROLLBACK TO SAVEPOINT servicehub_prepare")
            logger.warning("PreparedQuery: PostgreSQL refused to prepare %s (%s); it runs unprepared", compiled, exc)
            compiled.statement = ""
            return False
    names.add(compiled.statement)
    return True
