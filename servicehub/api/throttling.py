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
