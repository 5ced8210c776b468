"""Bearer API keys as the API plumbing sees them: the key format, its hash, and what a key can do.

The keys themselves (``partners.ApiKey``) belong to partners, which stands above the core.
The plumbing (scope permission, throttles, idempotency, the actor of a request) only needs
the format of a raw key (``sh_<prefix>_<secret>``), its hash, the ``ApiCredential`` protocol
of ``request.auth``, and one way to ask whether a raw key is usable -- which partners
registers in its ``AppConfig.ready()`` with ``key_verifier_register``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from django.core.exceptions import ImproperlyConfigured

KEY_PREFIX = "sh_"

# ``verifier(raw_key)`` -> the key's prefix when it is a usable key (hash matches, not revoked or expired), else None.
KeyVerifier = Callable[[str], "str | None"]
_verifier: KeyVerifier | None = None


def hash_key(raw: str) -> str:
    """What is stored of a key: keys carry 256 random bits, so a fast hash is enough (no stretching)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """``sh_<prefix>_<secret>`` -> ``(prefix, secret)``; None for anything else."""
    if not raw.startswith(KEY_PREFIX):
        return None
    body = raw[len(KEY_PREFIX) :]
    prefix, sep, secret = body.partition("_")
    if not sep or not prefix or not secret:
        return None
    return prefix, secret


@runtime_checkable
class ApiCredential(Protocol):
    """``request.auth`` after a bearer key authenticated the request (``partners.ApiKey``)."""

    prefix: str

    def has_scope(self, scope: str) -> bool: ...

    def effective_throttle_rate(self) -> str:
        """The key's own rate, else its holder's default (e.g. ``"600/min"``); ``""`` = the global default."""
        ...


def key_verifier_register(verifier: KeyVerifier) -> None:
    """Called once by the app that stores the keys (partners), in its ``AppConfig.ready()``."""
    global _verifier
    _verifier = verifier


def key_verified_prefix(raw: str) -> str | None:
    """The prefix of ``raw`` when it is a well-formed, usable key; None otherwise."""
    if split_key(raw) is None:
        return None
    if _verifier is None:
        raise ImproperlyConfigured("No API key verifier registered (partners registers it in its AppConfig.ready()).")
    return _verifier(raw)
