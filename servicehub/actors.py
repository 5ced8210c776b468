"""Who is acting: a staff user (session or own key) or a partner key.

Services take an ``Actor`` so the same rule applies to the admin, the API,
tasks and commands. ``center_ids`` is the set of centers whose objects the
actor may see; ``None`` means all (HQ, superusers, system jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user: object | None = None
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


def actor_for_user(user, *, api_key=None) -> Actor:
    """An actor for a staff user, with the centers and roles of their memberships."""
    from centers.models import StaffMembership

    roles: dict = {}
    for center_id, role in StaffMembership.objects.filter(user=user, active=True).values_list("center_id", "role"):
        roles.setdefault(center_id, set()).add(role)
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
    key_centers = frozenset(api_key.centers.values_list("pk", flat=True))
    if not key_centers:
        key_centers = frozenset(api_key.partner.centers.values_list("pk", flat=True))
    return Actor(partner=api_key.partner, api_key=api_key, center_ids=key_centers)


def actor_from_request(request) -> Actor:
    """Resolve (and cache on the request) the actor behind an API or admin request."""
    cached = getattr(request, "_servicehub_actor", None)
    if cached is not None:
        return cached
    from partners.models import ApiKey

    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKey):
        actor = actor_for_user(auth.user, api_key=auth) if auth.user_id else actor_for_partner_key(auth)
    elif getattr(request, "user", None) is not None and request.user.is_authenticated:
        actor = actor_for_user(request.user)
    else:
        actor = Actor(center_ids=frozenset())  # anonymous: sees no center's private data
    request._servicehub_actor = actor
    return actor
