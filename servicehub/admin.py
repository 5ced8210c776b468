"""The staff admin's shared parts.

Imported by every app's ``admin`` module (the interface layer); this module imports no app. Below the
base: the admin of the core's own rows (the domain-event outbox).

Access in the staff UI follows the memberships (``centers.StaffMembership``) through one actor per
request (``servicehub.actors.actor_from_request``): a staff user sees the rows of the centers they
belong to, HQ members and superusers see all. Django's per-model permissions still count where an
admin says so (``*_access = PERMISSIONS``), for HQ back-office users without a membership.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from servicehub.actors import Actor, actor_from_request
from servicehub.events import outbox_retry
from servicehub.models import OutboxEvent

# --- who may use a page ------------------------------------------------------------------------------
# One answer per kind of access; every center-scoped admin (and the counter pages) asks these.


def _staff_user(request) -> bool:
    user = getattr(request, "user", None)
    # The admin login page builds the app list for anonymous visitors too.
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def has_center_scope(request) -> bool:
    """An active staff user with at least one center (or the whole network: HQ, superusers)."""
    if not _staff_user(request):
        return False
    actor = actor_from_request(request)
    return actor.sees_all_centers or bool(actor.center_ids)


def sees_all_centers(request) -> bool:
    """An active staff user who sees the whole network (HQ members, superusers)."""
    return _staff_user(request) and actor_from_request(request).sees_all_centers


def has_any_role(request, roles: Iterable[str]) -> bool:
    """An active staff user holding one of ``roles`` at any center; HQ and superusers always."""
    if not _staff_user(request):
        return False
    actor = actor_from_request(request)
    if actor.sees_all_centers:
        return True
    wanted = set(roles)
    return any(wanted & set(held) for center_id, held in actor.roles.items() if center_id is not None)


def desk_center(request, roles: Iterable[str], centers):
    """``(actor, centers, choices, center)`` for a desk page worked by ``roles``: of ``centers`` (the active
    centers: a queryset, the core imports no app), those where the
    user holds one of them (HQ and superusers: every active center), their codes and names for a picker, and the
    center chosen with ``center=CODE`` (GET or POST) -- or the only one, when the user works a single desk;
    None when nothing (or a center not among theirs) was chosen."""
    actor = actor_from_request(request)
    centers = centers.order_by("code")
    if not actor.sees_all_centers:
        wanted = set(roles)
        centers = centers.filter(pk__in=[c for c, held in actor.roles.items() if c is not None and set(held) & wanted])
    code = request.POST.get("center") or request.GET.get("center") or ""
    choices = list(centers.values("code", "name")[:200])
    if code:
        center = centers.filter(code=code).first()
    else:
        center = centers.filter(code=choices[0]["code"]).first() if len(choices) == 1 else None
    return actor, centers, choices, center


# Values of the ``*_access`` attributes of ``CenterScopedMixin``.
PERMISSIONS = "permissions"  # Django's per-model permissions (ModelAdmin's default)
SCOPE = "scope"  # any staff user with a center scope (``has_center_scope``)
SCOPE_OR_PERMISSIONS = "scope_or_permissions"  # either of the two
ROLES = "roles"  # a staff user holding one of the admin's ``roles`` (``has_any_role``)
HQ = "hq"  # the whole network only (``sees_all_centers``)
HQ_OR_PERMISSIONS = "hq_or_permissions"  # the whole network, or Django's per-model permissions (a hotline agent)
NOBODY = "nobody"  # nothing that matters is deleted; states change through services

_ACCESS = (PERMISSIONS, SCOPE, SCOPE_OR_PERMISSIONS, ROLES, HQ, HQ_OR_PERMISSIONS, NOBODY)


class CenterScopedMixin:
    """Scope a ``ModelAdmin`` (or an inline) to the centers of the request's actor.

    - ``center_field``: the path from the model to its center, e.g. ``"center"``,
      ``"ticket__center"`` or ``"partner__centers"`` (many-valued: any of them); a tuple when any
      of several centers makes a row visible (``("center", "origin_center")``); ``"pk"`` when the
      row is a center; ``None`` for rows that belong to no center (then only the access rules
      apply, and the admin scopes its own queryset if it needs to).
    - ``view_access``, ``add_access``, ``change_access``, ``delete_access``: one of the constants
      above; ``module_access`` follows ``view_access`` unless set.
    - ``roles``: for ``ROLES`` access.

    Objects answer by scope: a row outside the actor's centers can be neither viewed, changed nor
    deleted, whatever the per-model permissions say. Foreign keys to a center offer only the
    actor's centers.
    """

    center_field: str | tuple[str, ...] | None = "center"
    view_access: str = PERMISSIONS
    module_access: str | None = None
    add_access: str = PERMISSIONS
    change_access: str = PERMISSIONS
    delete_access: str = PERMISSIONS
    roles: frozenset[str] = frozenset()

    # --- the actor and its scope ------------------------------------------------------------------

    def actor(self, request) -> Actor:
        return actor_from_request(request)

    def center_fields(self) -> tuple[str, ...]:
        if not self.center_field:
            return ()
        return (self.center_field,) if isinstance(self.center_field, str) else tuple(self.center_field)

    def scope_queryset(self, request, qs: QuerySet) -> QuerySet:
        """``qs`` limited to the rows of the actor's centers."""
        fields = self.center_fields()
        actor = self.actor(request)
        if not fields or actor.sees_all_centers:
            return qs
        ids = list(actor.center_ids or ())
        q = Q()
        for field in fields:
            q |= Q(**{f"{field}__in": ids})
        qs = qs.filter(q)
        # A path through a reverse or many-valued relation can repeat a row.
        return qs.distinct() if any(self._many_valued(qs.model, f) for f in fields) else qs

    @staticmethod
    def _many_valued(model, path: str) -> bool:
        if path == "pk":
            return False
        for name in path.split("__"):
            field = model._meta.get_field(name)
            if field.many_to_many or field.one_to_many:
                return True
            model = field.related_model
        return False

    def object_center_ids(self, obj) -> set[int | None]:
        """The centers ``obj`` belongs to, following ``center_field`` (``None`` where unset)."""
        found: set[int | None] = set()
        for path in self.center_fields():
            if path == "pk":
                found.add(obj.pk)
                continue
            *hops, last = path.split("__")
            target = obj
            for hop in hops:
                target = getattr(target, hop, None) if target is not None else None
            found.add(getattr(target, f"{last}_id", None) if target is not None else None)
        return found

    def in_scope(self, request, obj) -> bool:
        if obj is None or not self.center_fields():
            return True
        actor = self.actor(request)
        if actor.sees_all_centers:
            return True
        if any(self._many_valued(type(obj), f) for f in self.center_fields()):
            # Through a many-valued relation (a partner's centers): ask the database.
            return self.scope_queryset(request, type(obj)._default_manager.filter(pk=obj.pk)).exists()
        return any(cid is not None and cid in actor.center_ids for cid in self.object_center_ids(obj))

    def _allowed(self, request, access: str, fallback) -> bool:
        assert access in _ACCESS, access
        if access == NOBODY:
            return False
        if access == HQ:
            return sees_all_centers(request)
        if access == HQ_OR_PERMISSIONS:
            return sees_all_centers(request) or fallback()
        if access == ROLES:
            return has_any_role(request, self.roles)
        if access == SCOPE:
            return has_center_scope(request)
        if access == SCOPE_OR_PERMISSIONS:
            return has_center_scope(request) or fallback()
        return fallback()

    # --- ModelAdmin hooks -------------------------------------------------------------------------

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def has_module_permission(self, request):
        access = self.module_access or self.view_access
        return self._allowed(request, access, lambda: super(CenterScopedMixin, self).has_module_permission(request))

    def has_view_permission(self, request, obj=None):
        if not self.in_scope(request, obj):
            return False
        return self._allowed(
            request, self.view_access, lambda: super(CenterScopedMixin, self).has_view_permission(request, obj)
        )

    def has_add_permission(self, request, *args):  # inlines pass the parent object
        return self._allowed(
            request, self.add_access, lambda: super(CenterScopedMixin, self).has_add_permission(request, *args)
        )

    def has_change_permission(self, request, obj=None):
        if not self.in_scope(request, obj):
            return False
        return self._allowed(
            request, self.change_access, lambda: super(CenterScopedMixin, self).has_change_permission(request, obj)
        )

    def has_delete_permission(self, request, obj=None):
        if not self.in_scope(request, obj):
            return False
        return self._allowed(
            request, self.delete_access, lambda: super(CenterScopedMixin, self).has_delete_permission(request, obj)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only direct center fields: a center picked on a form can only be one of the actor's.
        if db_field.name in self.center_fields() and "queryset" not in kwargs:
            actor = self.actor(request)
            if not actor.sees_all_centers:
                kwargs["queryset"] = db_field.related_model._default_manager.filter(pk__in=actor.center_ids or ())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CenterScopedAdmin(CenterScopedMixin, admin.ModelAdmin):
    """The base of every center-scoped ``ModelAdmin`` (see ``CenterScopedMixin``)."""


class CenterScopedTabularInline(CenterScopedMixin, admin.TabularInline):
    """An inline under a center-scoped admin: its rows scoped the same way (``center_field`` on the
    inline's model)."""

    def in_scope(self, request, obj) -> bool:
        # An inline's permission hooks get the *parent* object, which its own admin has scoped already.
        return True


# --- the domain-event outbox ---------------------------------------------------------------------------
# Read-only (rows change only through ``servicehub.events``), network-wide: HQ members and superusers (listed
# in the sidebar for superusers, answered without a query on every page; HQ members open
# ``/admin/servicehub/outboxevent/``). Failed rows (every attempt raised) can be dispatched again once the
# cause is fixed.

# Payload keys never shown: a one-time code waits in its event's payload until the SMS is written.
_HIDDEN_KEYS = frozenset({"code"})


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "created_at", "dispatched_at", "attempts", "failed_at", "short_error")
    list_filter = (
        "type",
        ("dispatched_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("=id", "type")
    ordering = ("-created_at", "-pk")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ("dispatch_again",)
    fields = (
        "type",
        "center_id",
        "shown_payload",
        "created_at",
        "dispatched_at",
        "attempts",
        "failed_at",
        "last_error",
    )
    readonly_fields = fields

    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_staff and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):
        return sees_all_centers(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_dispatch_permission(self, request):
        return sees_all_centers(request)

    @admin.display(description=_("payload"))
    def shown_payload(self, obj):
        return {k: ("…" if k in _HIDDEN_KEYS and v else v) for k, v in (obj.payload or {}).items()}

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description=_("Dispatch the selected failed events again"), permissions=["dispatch"])
    def dispatch_again(self, request, queryset):
        count = outbox_retry(event_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(
            request,
            ngettext("%(n)d failed event queued again.", "%(n)d failed events queued again.", count) % {"n": count},
        )
