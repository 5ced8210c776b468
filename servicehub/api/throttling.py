"""Throttles: every anonymous caller by IP, every API key by key, some lookups tighter."""

from contextlib import contextmanager

from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, SimpleRateThrottle

from .keys import ApiCredential


class PublicAnonThrottle(AnonRateThrottle):
    scope = "anon"


class KeyThrottle(SimpleRateThrottle):
    """Per API key (a partner's key may carry its own rate, e.g. ``"600/min"``)."""

    scope = "key"

    def allow_request(self, request, view):
        key = request.auth if isinstance(request.auth, ApiCredential) else None
        if key is None:
            return True
        custom = key.effective_throttle_rate()  # the key's own rate, else its partner's default for its keys
        if custom:
            self.rate = custom
            self.num_requests, self.duration = self.parse_rate(custom)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class LookupThrottle(ScopedRateThrottle):
    """Tight per-IP limit for lookups that could be used to guess (tracking, OTP)."""

    def get_cache_key(self, request, view):
        # Keyed by IP even for authenticated callers: guessing is per client.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _BatchedCache:
    """What a rate throttle sees as its cache inside ``BatchedThrottlesMixin.check_throttles``: the
    histories read by one ``get_many``, the writes gathered for ``set_many`` (one per timeout)."""

    def __init__(self, values: dict) -> None:
        self.values = values
        self.writes: dict[int, dict] = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value, timeout) -> None:
        self.writes.setdefault(timeout, {})[key] = value


_BATCHABLE = (SimpleRateThrottle.allow_request, ScopedRateThrottle.allow_request)


def _history_key(throttle: SimpleRateThrottle, request, view) -> str | None:
    """The cache key of ``throttle``'s history for this request, set up as its ``allow_request`` would (``None``:
    it reads nothing, or has a cache of its own)."""
    if throttle.cache is not SimpleRateThrottle.cache:  # a throttle with a cache of its own
        return None
    if isinstance(throttle, ScopedRateThrottle):  # what its allow_request sets up before reading
        throttle.scope = getattr(view, throttle.scope_attr, None)
        if not throttle.scope:
            return None
        throttle.rate = throttle.get_rate()
        throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)
    if throttle.rate is None:
        return None
    return throttle.get_cache_key(request, view)


@contextmanager
def _batched(history_keys: list[str], extra: list[str]):
    """``(cache, prefetched)``: the histories and the ``extra`` keys read in one ``get_many``; the histories the
    throttles write inside the block are written in one ``set_many`` per timeout when it ends."""
    store = SimpleRateThrottle.cache
    keys = history_keys + extra
    values = store.get_many(keys) if keys else {}
    cache = _BatchedCache(values)
    try:
        yield cache, {key: values[key] for key in extra if key in values}
    finally:
        for timeout, writes in cache.writes.items():
            store.set_many(writes, timeout)


def lookup_allowed(request, view, *, prefetch: list[str]) -> tuple[bool, dict]:
    """``LookupThrottle`` for a page (no DRF view around it): ``(allowed, prefetched)``, its history read with the
    ``prefetch`` keys in one round trip (the tracking page reads the number's lookup lock so), DRF's rule
    unchanged."""
    throttle = LookupThrottle()
    key = _history_key(throttle, request, view)
    if key is None:
        return True, SimpleRateThrottle.cache.get_many(prefetch) if prefetch else {}
    with _batched([key], prefetch) as (cache, prefetched):
        throttle.cache = cache
        return throttle.allow_request(request, view), prefetched


class BatchedThrottlesMixin:
    """DRF's ``check_throttles`` with the rate throttles' cache reads and writes batched (issue #17).

    DRF runs each throttle on its own: a GET and a SET of its history per throttle, so a public lookup
    behind the per-address and the lookup throttle paid four Redis round trips before its view ran.
    Here every throttle still decides with its own rule, on the same history, in the same order; only
    the reads become one ``get_many`` and the writes one ``set_many`` per timeout. Throttles with their
    own ``allow_request`` (``KeyThrottle``) keep theirs and talk to the cache directly.
    (tests/servicehub/test_throttling.py holds this to DRF's behaviour.)
    """

    def throttle_prefetch_keys(self, request) -> list[str]:
        """Other keys of the throttles' cache the view will read: fetched in the throttles' ``get_many``, found
        in ``request.throttle_prefetched`` (only the keys that exist)."""
        return []

    def check_throttles(self, request):
        throttles = self.get_throttles()
        batched = {}
        for throttle in throttles:
            if not isinstance(throttle, SimpleRateThrottle) or type(throttle).allow_request not in _BATCHABLE:
                continue
            key = _history_key(throttle, request, self)
            if key is not None:
                batched[id(throttle)] = (throttle, key)
        extra = self.throttle_prefetch_keys(request)
        waits = []
        with _batched([key for _t, key in batched.values()], extra) as (cache, prefetched):
            request.throttle_prefetched = prefetched
            for throttle in throttles:
                if id(throttle) in batched:
                    throttle.cache = cache
                if not throttle.allow_request(request, self):
                    waits.append(throttle.wait())
        if waits:
            known = [wait for wait in waits if wait is not None]
            self.throttled(request, max(known, default=None))
