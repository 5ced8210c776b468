"""``Authorization: Bearer sh_<prefix>_<secret>`` authentication for DRF, and who a key is.

The key format and hash are the API plumbing's (``servicehub.api.keys``); the keys are ours.
``PartnersConfig.ready()`` registers ``key_verify`` (idempotency) and ``actor_for_api_key``
(``servicehub.actors.actor_from_request``) so the core never imports partners.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from servicehub.actors import Actor, actor_for_partner_key, actor_for_user
from servicehub.api.keys import KEY_PREFIX, hash_key, split_key

from .models import ApiKey

__all__ = ["KEY_PREFIX", "ApiKeyAuthentication", "actor_for_api_key", "hash_key", "key_verify", "split_key"]


def key_verify(raw: str) -> str | None:
    """The prefix of ``raw`` when it is a usable key (known, hash matches, not revoked or expired), else None.

    Deliberately the same test as before any view runs (no partner/user activity check: the view's
    authentication answers those with 401)."""
    parts = split_key(raw)
    if parts is None:
        return None
    key = ApiKey.objects.filter(prefix=parts[0]).only("prefix", "key_hash", "revoked_at", "expires_at").first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(raw)) or not key.is_usable:
        return None
    return key.prefix


def actor_for_api_key(auth: object) -> Actor | None:
    """The actor behind ``request.auth`` when it is one of our keys: its user's, or its partner's."""
    if not isinstance(auth, ApiKey):
        return None
    return actor_for_user(auth.user, api_key=auth) if auth.user_id else actor_for_partner_key(auth)


class PartnerUser(AnonymousUser):
    """``request.user`` for a partner key: authenticated, never staff."""

    def __init__(self, partner):
        super().__init__()
        self.partner = partner

    @property
    def is_authenticated(self):
        return True

    def __str__(self):
        return f"partner:{self.partner}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        parts = split_key(raw)
        if parts is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = ApiKey.objects.select_related("partner", "user").filter(prefix=parts[0]).first()
        if key is None or not hmac.compare_digest(key.key_hash, hash_key(raw)):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not key.is_usable:
            raise exceptions.AuthenticationFailed("This API key was revoked or has expired.")
        if key.partner_id and not key.partner.active:
            raise exceptions.AuthenticationFailed("This partner is deactivated.")
        if key.user_id and not key.user.is_active:
            raise exceptions.AuthenticationFailed("This user is deactivated.")
        now = timezone.now()
        # Write last_used_at at most once a minute: no write per request under load.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        user = key.user if key.user_id else PartnerUser(key.partner)
        return user, key

    def authenticate_header(self, request):
        return self.keyword
