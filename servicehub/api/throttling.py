"""Throttles: every anonymous caller by IP, every API key by key, some lookups tighter."""

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
            if throttle.cache is not SimpleRateThrottle.cache:  # a throttle with a cache of its own
                continue
            if isinstance(throttle, ScopedRateThrottle):  # what its allow_request sets up before reading
                throttle.scope = getattr(self, throttle.scope_attr, None)
                if not throttle.scope:
                    continue
                throttle.rate = throttle.get_rate()
                throttle.num_requests, throttle.duration = throttle.parse_rate(throttle.rate)
            if throttle.rate is None:
                continue
            key = throttle.get_cache_key(request, self)
            if key is not None:
                batched[id(throttle)] = (throttle, key)
        store = SimpleRateThrottle.cache
        extra = self.throttle_prefetch_keys(request)
        keys = [key for _t, key in batched.values()] + extra
        values = store.get_many(keys) if keys else {}
        request.throttle_prefetched = {key: values[key] for key in extra if key in values}
        cache = _BatchedCache(values)
        waits = []
        try:
            for throttle in throttles:
                if id(throttle) in batched:
                    throttle.cache = cache
                if not throttle.allow_request(request, self):
                    waits.append(throttle.wait())
        finally:
            for timeout, values in cache.writes.items():
                store.set_many(values, timeout)
        if waits:
            known = [wait for wait in waits if wait is not None]
            self.throttled(request, max(known, default=None))
