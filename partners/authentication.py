"""``Authorization: Bearer sh_<prefix>_<secret>`` authentication for DRF."""

import hashlib
import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey

KEY_PREFIX = "sh_"


def hash_key(raw: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(raw.encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    if not raw.startswith(KEY_PREFIX):
        return None
    body = raw[len(KEY_PREFIX) :]
    prefix, sep, secret = body.partition("_")
    if not sep or not prefix or not secret:
        return None
    return prefix, secret


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
