"""Who is acting: a staff user (session or own key) or a partner key.

Services take an ``Actor`` so the same rule applies to the admin, the API,
tasks and commands. ``center_ids`` is the set of centers whose objects the
actor may see; ``None`` means all (HQ, superusers, system jobs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Actor:
    # The AUTH_USER_MODEL instance (any user model: typed loosely on purpose), or None for keys and jobs.
    user: Any = None
    partner: object | None = None
    api_key: object | None = None
    center_ids: frozenset[int] | None = None
    # center_id -> set of roles held there; the key None holds HQ roles.
    roles: dict = field(default_factory=dict)
    is_system: bool = False

    @property
    def sees_all_centers(self) -> bool:
        return self.center_ids is None

    def can_see_center(self, center_id: int) -> bool:
        return self.center_ids is None or center_id in self.center_ids

    def has_role(self, role: str, center_id: int | None = None) -> bool:
        if self.is_system or getattr(self.user, "is_superuser", False):
            return True
        if role in self.roles.get(None, ()):  # HQ-wide
            return True
        return center_id is not None and role in self.roles.get(center_id, ())

    @property
    def label(self) -> str:
        if self.is_system:
            return "system"
        if self.user is not None and getattr(self.user, "pk", None):
            return self.user.get_username()
        if self.partner is not None:
            return f"partner:{self.partner}"
        return "anonymous"


SYSTEM = Actor(is_system=True)


# Who a user or a key is lives in the apps above the core: centers knows staff memberships, partners knows API
# keys. They register these lookups in their AppConfig.ready() (centers.apps, partners.apps), so the core imports
# no app and ``actor_from_request`` keeps one signature for every caller.
#
# ``staff_roles(user)`` -> {center_id: {role, ...}}, the key None holding HQ-wide roles.
StaffRoles = Callable[[Any], "dict[int | None, set[str]]"]
# ``credential_actor(request.auth)`` -> the Actor behind that credential, or None when it is not this app's kind.
CredentialActor = Callable[[object], "Actor | None"]

_staff_roles: StaffRoles | None = None
_credential_actors: list[CredentialActor] = []


def staff_roles_register(lookup: StaffRoles) -> None:
    """Called once by the app that holds staff memberships (centers)."""
    global _staff_roles
    _staff_roles = lookup


def credential_actor_register(resolver: CredentialActor) -> None:
    """Called by an app that authenticates API requests (partners: API keys); idempotent."""
    if resolver not in _credential_actors:
        _credential_actors.append(resolver)


def actor_for_user(user, *, api_key=None) -> Actor:
    """An actor for a staff user, with the centers and roles of their memberships.

    ``api_key`` (a key acting for this user) narrows the centers to the key's own, when it has any."""
    if _staff_roles is None:
        raise ImproperlyConfigured("No staff roles lookup registered (centers registers it in its AppConfig.ready()).")
    roles = _staff_roles(user)
    if user.is_superuser or "hq" in roles.get(None, set()):
        center_ids = None
    else:
        center_ids = frozenset(c for c in roles if c is not None)
    if api_key is not None:
        key_centers = frozenset(api_key.centers.values_list("pk", flat=True))
        if key_centers:
            center_ids = key_centers if center_ids is None else center_ids & key_centers
    return Actor(user=user, api_key=api_key, center_ids=center_ids, roles=roles)


def actor_for_partner_key(api_key) -> Actor:
    """An actor for a partner's key: the key's centers, else every site of the partner."""
    key_centers = frozenset(api_key.centers.values_list("pk", flat=True))
    if not key_centers:
        key_centers = frozenset(api_key.partner.centers.values_list("pk", flat=True))
    return Actor(partner=api_key.partner, api_key=api_key, center_ids=key_centers)


def actor_from_request(request) -> Actor:
    """Resolve (and cache on the request) the actor behind an API or admin request.

    A credential (``request.auth``) claimed by a registered resolver wins; then a signed-in user;
    anonymous callers see no center's private data."""
    cached = getattr(request, "_servicehub_actor", None)
    if cached is not None:
        return cached
    actor: Actor | None = None
    auth = getattr(request, "auth", None)
    if auth is not None:
        for resolve in _credential_actors:
            actor = resolve(auth)
            if actor is not None:
                break
    if actor is None:
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            actor = actor_for_user(request.user)
        else:
            actor = Actor(center_ids=frozenset())  # anonymous: sees no center's private data
    request._servicehub_actor = actor
    return actor
