"""Admin: centers see their appointments (with accessibility needs), requests and surveys.

Staff see only their own centers' rows (memberships); superusers and HQ see all. State
changes go through ``booking.services``.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, CenterScopedAdmin
from servicehub.errors import DomainError

from . import services
from .choices import NEED_KEYS, Need
from .models import (
    Appointment,
    CallbackRequest,
    MailInRequest,
    OnSiteRequest,
    PlanOrder,
    SlotCounter,
    SlotRule,
    Survey,
)


class ReadOnlyMixin:
    """Rows written by ``booking.services`` only: never added or deleted by hand."""

    add_access = NOBODY
    delete_access = NOBODY


@admin.register(SlotRule)
class SlotRuleAdmin(CenterScopedAdmin):
    list_display = ("center", "weekday", "slot_minutes", "desks", "service_day_desks", "active")
    list_filter = ("weekday", "active")
    search_fields = ("center__code", "center__name")
    list_select_related = ("center",)
    delete_access = NOBODY


@admin.register(SlotCounter)
class SlotCounterAdmin(ReadOnlyMixin, CenterScopedAdmin):
    list_display = ("center", "start", "booked", "capacity")
    list_select_related = ("center",)
    readonly_fields = ("center", "start", "booked", "capacity")
    date_hierarchy = "start"


@admin.display(description=_("Needs"))
def needs_display(obj):
    labels = dict(Need.choices)
    return ", ".join(str(labels[k]) for k in NEED_KEYS if (obj.needs or {}).get(k)) or "—"


class NeedsFilter(admin.SimpleListFilter):
    title = _("accessibility needs")
    parameter_name = "need"

    def lookups(self, request, model_admin):
        return Need.choices

    def queryset(self, request, queryset):
        if self.value() in NEED_KEYS:
            return queryset.filter(needs__has_key=self.value())
        return queryset


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyMixin, CenterScopedAdmin):
    list_display = ("reference_display", "center", "start", "status", needs_display, "customer")
    list_filter = ("status", NeedsFilter)
    search_fields = ("ticket__service_no", "customer__phone")
    list_select_related = ("center", "ticket", "customer")
    date_hierarchy = "start"
    readonly_fields = (
        "ticket",
        "center",
        "start",
        "end",
        "customer",
        "device",
        "issue",
        needs_display,
        "status",
        "reschedule_count",
        "reminded_at",
        "created_at",
    )
    exclude = ("needs",)

    @admin.display(description=_("reference"), ordering="ticket__service_no")
    def reference_display(self, obj):
        return obj.ticket.service_no

    def has_change_permission(self, request, obj=None):
        # Viewers open the change page (its fields are read-only); the scope still decides per object.
        if not self.in_scope(request, obj):
            return False
        return request.user.has_perm("booking.view_appointment") or super().has_change_permission(request, obj)


@admin.register(MailInRequest)
class MailInRequestAdmin(ReadOnlyMixin, CenterScopedAdmin):
    center_field = "hub"
    list_display = ("ticket", "hub", "province", "city", "county", "created_at")
    list_select_related = ("ticket", "hub")
    search_fields = ("ticket__service_no", "province", "city")
    readonly_fields = ("ticket", "hub", "pickup_address", "province", "city", "county", "adcode", "created_at")


@admin.register(OnSiteRequest)
class OnSiteRequestAdmin(CenterScopedAdmin):
    list_display = ("ticket", "center", "preferred_date", "window", "cannot_travel", "status", "engineer")
    list_filter = ("status", "window", "cannot_travel")
    list_select_related = ("ticket", "center", "engineer")
    search_fields = ("ticket__service_no",)
    fields = (
        "ticket",
        "center",
        "address",
        "province",
        "city",
        "county",
        "preferred_date",
        "window",
        "cannot_travel",
        "status",
        "engineer",
    )
    readonly_fields = (
        "ticket",
        "center",
        "address",
        "province",
        "city",
        "county",
        "preferred_date",
        "window",
        "cannot_travel",
        "status",
    )
    add_access = NOBODY
    delete_access = NOBODY

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "engineer":
            from django.contrib.auth import get_user_model

            actor = actor_from_request(request)
            users = get_user_model().objects.filter(memberships__role="engineer", memberships__active=True)
            if actor.center_ids is not None:
                users = users.filter(memberships__center_id__in=actor.center_ids)
            kwargs["queryset"] = users.distinct().order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Only the engineer is editable; the service checks membership and certification.
        if "engineer" in form.changed_data and obj.engineer_id:
            try:
                services.on_site_engineer_assign(
                    request_id=obj.pk, engineer=obj.engineer, actor=actor_from_request(request)
                )
            except DomainError as err:
                self.message_user(request, err.message, level=messages.ERROR)


@admin.register(CallbackRequest)
class CallbackRequestAdmin(ReadOnlyMixin, CenterScopedAdmin):
    center_field = None  # the hotline's queue: no center
    list_display = ("name", "phone", "topic", "preferred_window", "status", "created_at")
    list_filter = ("status", "topic", "preferred_window")
    search_fields = ("phone", "name")
    readonly_fields = (
        "name",
        "phone",
        "topic",
        "preferred_window",
        "note",
        "language",
        "status",
        "handled_by",
        "handled_at",
        "created_at",
    )
    actions = ["mark_done"]

    @admin.action(description=_("Mark as called back"))
    def mark_done(self, request, queryset):
        actor = actor_from_request(request)
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            services.callback_request_mark_done(callback_id=pk, actor=actor)
        self.message_user(request, _("Marked as called back."))


@admin.register(Survey)
class SurveyAdmin(ReadOnlyMixin, CenterScopedAdmin):
    list_display = ("ticket", "center", "engineer", "overall", "staff", "speed", "quality", "recommend", "created_at")
    list_filter = ("overall", "recommend")
    list_select_related = ("ticket", "center", "engineer")
    readonly_fields = (
        "ticket",
        "center",
        "engineer",
        "overall",
        "staff",
        "speed",
        "quality",
        "recommend",
        "comment",
        "created_at",
    )


@admin.register(PlanOrder)
class PlanOrderAdmin(ReadOnlyMixin, CenterScopedAdmin):
    center_field = None  # online orders belong to no center: HQ only (below)
    list_display = ("plan_code", "imei", "amount", "provider", "status", "created_at")
    list_filter = ("status", "provider")
    readonly_fields = (
        "imei",
        "plan_code",
        "amount",
        "provider",
        "provider_reference",
        "status",
        "purchase_id",
        "created_at",
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if actor_from_request(request).center_ids is None else qs.none()
