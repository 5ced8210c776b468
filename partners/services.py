"""Writes for partners and API keys."""

import secrets

from django.db import transaction

from servicehub.api.permissions import ALL_SCOPES
from servicehub.errors import DomainError

from .authentication import KEY_PREFIX, hash_key
from .models import ApiKey, Partner


def _validate_scopes(scopes) -> list[str]:
    if not scopes:
        return list(ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise DomainError(
            "validation_error",
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(ALL_SCOPES)}.",
            field="scopes",
        )
    return sorted(set(scopes))


@transaction.atomic
def api_key_create(*, partner: Partner | None = None, user=None, scopes=None, centers=(), name: str = "") -> tuple[ApiKey, str]:
    """Create a key for a partner or a staff user; return ``(key, raw_key)``.

    The raw key is returned once and never stored. Refuses unknown scopes
    (``validation_error``) and a key for both or neither of partner and user.
    """
    if (partner is None) == (user is None):
        raise DomainError("validation_error", "A key acts for exactly one partner or one user.")
    scope_list = _validate_scopes(scopes)
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        partner=partner, user=user, prefix=prefix, key_hash=hash_key(raw), scopes=scope_list, name=name
    )
    if centers:
        key.centers.set(centers)
    return key, raw
