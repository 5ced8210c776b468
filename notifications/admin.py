"""Staff UI: the outbox (with failures and a resend action), job runs and SLA breaches.

Read-only: rows change only through ``notifications.services``. A staff user
sees the notifications and breaches of their centers' tickets; HQ members and
superusers see everything, including job runs and notifications without a
ticket (staff e-mails, Service Day reminders).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from repairs.models import SlaBreach
from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, SCOPE, CenterScopedAdmin, has_center_scope
from servicehub.masking import mask_email, mask_phone
from servicehub.models import JobRun

from . import selectors, services
from .choices import NotificationChannel
from .models import Notification


class ReadOnlyScopedAdmin(CenterScopedAdmin):
    """Staff with a center (or HQ) view their centers' rows; nothing is edited here."""

    center_field = ("ticket__center", "ticket__origin_center")
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "channel",
        "masked_recipient",
        "ticket",
        "status",
        "attempts",
        "short_error",
        "sent_at",
    )
    list_filter = ("status", "channel", "kind", "skip_reason", "language", ("created_at", admin.DateFieldListFilter))
    search_fields = ("ticket__service_no", "=dedupe_key", "=uuid")
    list_select_related = ("ticket",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    actions = ("resend",)
    show_full_result_count = False
    fields = (
        "uuid",
        "kind",
        "channel",
        "masked_recipient",
        "language",
        "ticket",
        "status",
        "skip_reason",
        "attempts",
        "available_at",
        "lease_until",
        "last_error",
        "provider_message_id",
        "dedupe_key",
        "subject",
        "body",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.notifications_visible(actor=actor_from_request(request)).select_related("ticket")

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj):
        if obj.channel == NotificationChannel.SMS:
            return mask_phone(obj.recipient)
        if obj.channel == NotificationChannel.EMAIL and "@" in obj.recipient:
            return mask_email(obj.recipient)
        return obj.recipient[:4] + "…" if obj.recipient else ""

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description=_("Send the selected failed notifications again"), permissions=["resend"])
    def resend(self, request, queryset):
        count = services.notifications_resend(
            notification_ids=list(queryset.values_list("pk", flat=True)), actor=actor_from_request(request)
        )
        messages.success(
            request,
            ngettext("%(n)d failed notification queued again.", "%(n)d failed notifications queued again.", count)
            % {"n": count},
        )

    def has_resend_permission(self, request):
        return has_center_scope(request)


# SLA breaches (repairs) and job runs (servicehub) are registered here, beside the outbox they are read with;
# their pages follow the models' apps: /admin/repairs/slabreach/, /admin/servicehub/jobrun/.
@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyScopedAdmin):
    list_display = ("ticket", "status", "stage_due_at", "detected_at")
    list_filter = ("status", ("detected_at", admin.DateFieldListFilter))
    search_fields = ("ticket__service_no",)
    list_select_related = ("ticket",)
    ordering = ("-detected_at", "-pk")
    center_field = "ticket__center"  # the repairing center's breaches


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyScopedAdmin):
    """Job runs are network-wide: HQ and superusers only."""

    list_display = ("job", "period", "status", "attempts", "started_at", "finished_at", "result", "short_error")
    list_filter = ("job", "status")
    search_fields = ("job", "period")
    ordering = ("-started_at", "-pk")
    center_field = None
    view_access = HQ

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return obj.error[:80]
