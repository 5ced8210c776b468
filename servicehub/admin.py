"""Staff UI for the domain-event outbox: what the system announced, and what it could not dispatch.

Read-only (rows change only through ``servicehub.events``), network-wide: HQ members and superusers
only (listed in the sidebar for superusers; HQ members open ``/admin/servicehub/outboxevent/``).
Failed rows (every attempt raised) can be dispatched again once the cause is fixed.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .actors import actor_from_request
from .events import outbox_retry
from .models import OutboxEvent

# Payload keys never shown: a one-time code waits in its event's payload until the SMS is written.
_HIDDEN_KEYS = frozenset({"code"})


def _hq(request) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return actor_from_request(request).sees_all_centers


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
        # Asked on every admin page for the sidebar: answered without a query (superusers). HQ members
        # open the list by its address (docs/notifications.md); the view checks them below.
        return bool(request.user.is_active and request.user.is_staff and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):
        return _hq(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_dispatch_permission(self, request):
        return _hq(request)

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
