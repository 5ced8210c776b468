"""Read-replica routing for public reads (docs/scaling.md).

With ``DATABASE_REPLICA_URL`` set there is a second alias, ``replica``: a PostgreSQL hot standby
streaming from the primary. Only what cannot go wrong on a copy a few milliseconds behind reads
from it:

- ``ReplicaReadsMiddleware`` opens a "replica allowed" scope for GET/HEAD requests whose path
  starts with one of ``REPLICA_READ_PATHS`` (centers, Service Days, boards: public data that is
  the same for everyone). Tracking pages, anything with a session write, every POST and the admin
  stay on the primary: a customer must see the quote they were just sent.
- Inside that scope, reads go to the replica unless the primary has an open transaction
  (``select_for_update`` and read-your-writes inside ``atomic`` need the primary) or something was
  written earlier in the same request (the scope is then pinned to the primary).
- Outside the scope (Celery, management commands, staff pages) everything uses the primary.
- Reads that fill a versioned cache entry (``primary_reads()``) use the primary: a standby a few
  milliseconds behind must not put old rows under the version the commit just bumped.
- Migrations run on the primary only; the standby gets them through replication.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

# None: outside a replica scope. "replica": reads may use the replica. "primary": pinned.
_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("servicehub_db_scope", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    """Let reads in this block use the replica (if configured); a write pins the rest to the primary."""
    token = _scope.set(REPLICA)
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def primary_reads():
    """Reads in this block use the primary, even inside a replica scope.

    For reads whose result is cached under a version bumped on commit: right after the bump a
    replica may not have replayed the commit yet, and the old rows would be cached under the new
    version. Cache misses are rare, so they read the primary; the hits never touch a database.
    """
    token = _scope.set(PRIMARY if _scope.get() is not None else None)
    try:
        yield
    finally:
        _scope.reset(token)


class PrimaryReplicaRouter:
    """``db_for_read``: the replica only inside ``replica_reads()``, outside a primary transaction,
    before any write of the scope. ``db_for_write``: always the primary (and pins the scope)."""

    def db_for_read(self, model, **hints):
        if _scope.get() != REPLICA or not replica_configured():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        if _scope.get() == REPLICA:
            _scope.set(PRIMARY)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Opens ``replica_reads()`` for anonymous GET/HEAD requests to ``REPLICA_READ_PATHS``."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "REPLICA_READ_PATHS", ()))

    def __call__(self, request):
        if (
            replica_configured()
            and request.method in ("GET", "HEAD")
            and request.path.startswith(self.prefixes)
            and "HTTP_AUTHORIZATION" not in request.META
        ):
            with replica_reads():
                return self.get_response(request)
        return self.get_response(request)
