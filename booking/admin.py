"""Admin: centers see their appointments (with accessibility needs), requests and surveys.

Staff see only their own centers' rows (memberships); superusers and HQ see all. State
changes go through ``booking.services``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import HQ_OR_PERMISSIONS, NOBODY, CenterScopedAdmin
from servicehub.errors import DomainError

from . import selectors, services
from .choices import NEED_KEYS, CallbackOutcome, CallbackStatus, Need
from .models import (
    Appointment,
    CallbackAttempt,
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


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    fields = ("at", "outcome", "note", "by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(ReadOnlyMixin, CenterScopedAdmin):
    """The 7x24 hotline's worklist: open requests first, one click per outcome (list actions, or the call page
    ``<id>/call/`` with the suggested customer, their tickets to pick and a note). Outcomes go through
    ``services.callback_outcome_log``; "no answer" keeps a request open and counts the attempt."""

    center_field = None  # the hotline's queue: no center
    # The 7x24 hotline is network-wide: HQ works it, and so does anyone given the model's permissions (an agent
    # who is not HQ); a center's own staff do not see the network's callers.
    view_access = HQ_OR_PERMISSIONS
    list_display = (
        "name",
        "phone",
        "topic",
        "preferred_window",
        "status",
        "attempts",
        "outcome",
        "suggested_customer",
        "created_at",
        "call_link",
    )
    list_filter = ("status", "outcome", "topic", "preferred_window")
    search_fields = ("phone", "name")
    ordering = ("-status", "created_at", "pk")  # "open" sorts after "done": open ones first, oldest first
    readonly_fields = (
        "name",
        "phone",
        "topic",
        "preferred_window",
        "note",
        "language",
        "status",
        "outcome",
        "attempts",
        "customer",
        "handled_by",
        "handled_at",
        "created_at",
    )
    inlines = [CallbackAttemptInline]
    actions = ["mark_done", "mark_no_answer"]

    def get_queryset(self, request):
        from django.db.models import OuterRef, Subquery

        from repairs.models import Customer

        # The suggestion by phone in the same query (one name per row, not one query per row).
        return (
            super()
            .get_queryset(request)
            .select_related("customer")
            .annotate(suggested_name=Subquery(Customer.objects.filter(phone=OuterRef("phone")).values("name")[:1]))
        )

    @admin.display(description=_("customer (suggested by phone)"))
    def suggested_customer(self, obj):
        if obj.customer_id:
            return format_html("<strong>{}</strong>", obj.customer.name)
        return obj.suggested_name or "—"

    @admin.display(description=_("call back"))
    def call_link(self, obj):
        if obj.status != CallbackStatus.OPEN:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:booking_callbackrequest_call", args=[obj.pk]),
            gettext("Call"),
        )

    def _outcome_each(self, request, queryset, outcome: str) -> int:
        actor, done = actor_from_request(request), 0
        for pk in queryset.filter(status=CallbackStatus.OPEN).order_by("pk").values_list("pk", flat=True):
            try:
                services.callback_outcome_log(callback_id=pk, outcome=outcome, actor=actor)
                done += 1
            except DomainError as err:
                self.message_user(request, f"{pk}: {err.message}", level=messages.ERROR)
        return done

    @admin.action(description=_("Mark as called back"))
    def mark_done(self, request, queryset):
        done = self._outcome_each(request, queryset, CallbackOutcome.RESOLVED)
        self.message_user(request, gettext("%(n)d marked as called back.") % {"n": done})

    @admin.action(description=_("No answer: try again later"))
    def mark_no_answer(self, request, queryset):
        done = self._outcome_each(request, queryset, CallbackOutcome.NO_ANSWER)
        self.message_user(request, gettext("%(n)d calls without an answer counted.") % {"n": done})

    def get_urls(self):
        return [
            path("<int:pk>/call/", self.admin_site.admin_view(self.call_view), name="booking_callbackrequest_call"),
            *super().get_urls(),
        ]

    def call_view(self, request, pk):
        """One call back: who the caller is (the suggestion by phone, to confirm), the repairs talked about (the
        customer's tickets at the staff's centers), a note and one button per outcome."""
        from repairs.models import Customer

        if not self.has_view_permission(request):
            raise PermissionDenied
        callback = get_object_or_404(CallbackRequest.objects.select_related("customer"), pk=pk)
        actor = actor_from_request(request)
        suggestion = selectors.callback_customer_suggestion(callback=callback)
        error = ""
        if request.method == "POST":
            raw_customer = request.POST.get("customer", "")
            customer_id = int(raw_customer) if raw_customer.isdigit() else None
            if customer_id is not None and customer_id != getattr(suggestion, "pk", None):
                customer_id = -1  # only the suggested (or already linked) customer can be confirmed here
            raw_tickets = request.POST.getlist("tickets")
            try:
                if customer_id == -1 or not all(t.isdigit() for t in raw_tickets):
                    raise DomainError("not_found", gettext("No such repair for this customer."), status=404)
                services.callback_outcome_log(
                    callback_id=callback.pk,
                    outcome=request.POST.get("outcome", ""),
                    note=request.POST.get("note", ""),
                    customer_id=customer_id,
                    ticket_ids=[int(t) for t in raw_tickets],
                    actor=actor,
                )
            except DomainError as err:
                error = err.message
            else:
                self.message_user(request, gettext("Call logged."))
                return HttpResponseRedirect(reverse("admin:booking_callbackrequest_changelist"))
        tickets = (
            selectors.callback_customer_tickets(customer=suggestion, actor=actor)
            if isinstance(suggestion, Customer)
            else []
        )
        linked = set(callback.tickets.values_list("pk", flat=True))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Call back %(name)s") % {"name": callback.name},
            "callback": callback,
            "suggestion": suggestion,
            "tickets": tickets,
            "linked": linked,
            "outcomes": CallbackOutcome.choices,
            "error": error,
            "attempts": list(callback.attempt_log.select_related("by").order_by("at", "pk")),
        }
        return TemplateResponse(
            request, "admin/booking/callbackrequest/call.html", context, status=400 if error else 200
        )


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
