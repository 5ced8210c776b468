"""What code asks of the cache, call by call, whatever the backend: the round trips it would cost on Redis.

Django's local-memory cache (``make test`` without ``REDIS_URL``) answers ``get_many`` with a ``get`` per key and
``set_many`` with a ``set`` per key; on Redis each is one round trip. Only the outermost calls are recorded, so a
test of "one read" holds on both.
"""

from __future__ import annotations

CACHE_OPERATIONS = ("get", "get_many", "set", "set_many", "add")


class CacheCalls(list):
    """``[(operation, first argument), ...]`` in order."""

    @property
    def names(self) -> list[str]:
        return [name for name, _arg in self]

    def args(self, operation: str) -> list:
        return [arg for name, arg in self if name == operation]


def record_cache_calls(monkeypatch, cache, operations=CACHE_OPERATIONS) -> CacheCalls:
    calls = CacheCalls()
    depth = [0]
    for operation in operations:
        real = getattr(cache, operation)

        def wrapper(*args, _operation=operation, _real=real, **kwargs):
            if not depth[0]:
                calls.append((_operation, args[0] if args else None))
            depth[0] += 1
            try:
                return _real(*args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(cache, operation, wrapper)
    return calls
