"""Database expressions the figures need that Django does not ship: percentiles and epoch seconds."""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.db import connection
from django.db.models import Aggregate, F, FloatField, Func


class PercentileCont(Aggregate):
    """PostgreSQL ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)`` (continuous, linear interpolation)."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, percentile: float, **extra):
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be within [0, 1]")
        # A literal float, not a parameter: PostgreSQL needs the fraction as a constant per group.
        super().__init__(expression, percentile=repr(float(percentile)), **extra)


class EpochSeconds(Func):
    """Seconds between two datetime columns (``end - start``) as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(
            F(end) if isinstance(end, str) else end, F(start) if isinstance(start, str) else start, **extra
        )

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, conn, **extra):
        # Django stores aware datetimes in SQLite as UTC text; julianday() reads it to the millisecond.
        return self.as_sql(
            compiler,
            conn,
            template="ROUND((JULIANDAY(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - JULIANDAY(",
            **extra,
        )


def percentile_cont(sorted_values: list[float], p: float) -> float | None:
    """The same definition as PostgreSQL's ``percentile_cont`` for an already sorted list."""
    if not sorted_values:
        return None
    rank = p * (len(sorted_values) - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    if lo == hi:
        return float(sorted_values[lo])
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def db_has_percentiles() -> bool:
    return connection.vendor == "postgresql"


def group_percentiles(rows: Iterable[tuple], *, percentiles: tuple[float, ...]) -> dict:
    """SQLite fallback: ``rows`` are ``(*group_key, value)`` ordered by group then value."""
    groups: dict[tuple, list[float]] = {}
    for *key, value in rows:
        if value is not None:
            groups.setdefault(tuple(key), []).append(value)
    for vals in groups.values():
        vals.sort()
    return {key: (len(vals), *(percentile_cont(vals, p) for p in percentiles)) for key, vals in groups.items()}
