"""Shipments in the admin: read-only custody chain; staff see their centers' shipments only."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, ROLES, CenterScopedAdmin
from servicehub.errors import DomainError

from .models import ProgressCall, ProgressCallPlan, Shipment, ShipmentEvent


class ShipmentEventInline(admin.TabularInline):
    model = ShipmentEvent
    fields = ("event", "at", "tracking_no", "seal_no", "seal_ok", "actor_label", "ticket_action", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(CenterScopedAdmin):
    center_field = ("ticket__center", "ticket__origin_center")
    add_access = NOBODY  # created by the repairs flow / the API through logistics.services
    delete_access = NOBODY
    list_display = ("id", "ticket", "leg", "courier", "tracking_no", "seal_no", "status", "created_at")
    list_filter = ("leg", "status")
    search_fields = ("tracking_no", "seal_no", "ticket__service_no")
    list_select_related = ("ticket",)
    readonly_fields = (
        "ticket",
        "leg",
        "status",
        "seal_no",
        "origin_center",
        "destination_center",
        "created_at",
        "delivered_at",
    )
    fields = (
        "ticket",
        "leg",
        "status",
        "courier",
        "courier_partner",
        "tracking_no",
        "seal_no",
        "address",
        "origin_center",
        "destination_center",
        "created_at",
        "delivered_at",
    )
    raw_id_fields = ("courier_partner",)
    inlines = [ShipmentEventInline]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("ship-back/<int:ticket_pk>/", wrap(self.ship_back_view), name="logistics_shipment_ship_back"),
            *super().get_urls(),
        ]

    def ship_back_view(self, request, ticket_pk):
        """The workspace's "Ship back": book the courier (or take the typed number), then ship."""
        from .services import ticket_ship_back

        back = reverse("admin:repairs_repairticket_change", args=[ticket_pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        try:
            shipment = ticket_ship_back(
                ticket_id=ticket_pk,
                actor=actor_from_request(request),
                tracking_no=request.POST.get("tracking_no", ""),
                courier=request.POST.get("courier", ""),
                note=request.POST.get("note", "").strip(),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("Shipped back with %(courier)s, waybill %(no)s.")
                % {"courier": shipment.courier_display, "no": shipment.tracking_no},
                level=messages.SUCCESS,
            )
        return HttpResponseRedirect(back)


# --- progress calls: the desk's call list, and each center's stages ---------------------------------------


class ProgressCallPlanForm(forms.ModelForm):
    stages = forms.MultipleChoiceField(
        label=_("Call mail-in customers when the repair is"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ProgressCallPlan
        fields = ["center", "stages"]

    def __init__(self, *args, **kwargs):
        from repairs.choices import TicketStatus

        from .choices import CALL_STAGES

        super().__init__(*args, **kwargs)
        self.fields["stages"].choices = [(s, TicketStatus(s).label) for s in CALL_STAGES]


@admin.register(ProgressCallPlan)
class ProgressCallPlanAdmin(CenterScopedAdmin):
    """Each center's call stages; saved through ``logistics.services.progress_call_plan_set`` (managers, HQ)."""

    center_field = "center"
    view_access = ROLES
    add_access = ROLES
    change_access = ROLES
    delete_access = NOBODY
    roles = frozenset({"manager"})
    form = ProgressCallPlanForm
    list_display = ("center", "stages", "updated_at")
    list_select_related = ("center",)
    raw_id_fields = ("center",)

    def save_model(self, request, obj, form, change):
        from .services import progress_call_plan_set

        plan = progress_call_plan_set(
            center_id=form.cleaned_data["center"].pk,
            stages=form.cleaned_data["stages"],
            actor=actor_from_request(request),
        )
        obj.pk, obj.stages = plan.pk, plan.stages
        obj._state.adding = False


@admin.register(ProgressCall)
class ProgressCallAdmin(CenterScopedAdmin):
    """The front desk's call list of mail-in customers (``logistics.selectors.progress_call_list``)."""

    center_field = ("ticket__center", "ticket__origin_center")
    view_access = ROLES
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    roles = frozenset({"front_desk", "manager"})

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.worklist_view), name="logistics_progresscall_changelist"),
            path("log/<int:ticket_pk>/", wrap(self.log_view), name="logistics_progresscall_log"),
        ]

    def worklist_view(self, request):
        from django.core.exceptions import PermissionDenied
        from django.template.response import TemplateResponse

        from repairs.selectors import contact_in_full, staff_status_label
        from servicehub.masking import mask_name, mask_phone

        from .choices import CallOutcome
        from .selectors import progress_call_list

        if not self.has_view_permission(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        rows = progress_call_list(actor=actor)
        outcomes = dict(CallOutcome.choices)
        for t in rows:
            full = contact_in_full(actor=actor, center_ids=(t.center_id, t.origin_center_id))
            t.call_name = t.customer.name if full else mask_name(t.customer.name)
            t.call_phone = t.customer.phone if full else mask_phone(t.customer.phone)
            t.call_masked = not full
            t.stage_label = staff_status_label(t.status)
            t.last_outcome_label = outcomes.get(t.last_outcome, "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Progress calls to mail-in customers"),
            "rows": rows,
            "outcomes": CallOutcome.choices,
        }
        return TemplateResponse(request, "admin/logistics/progresscall/worklist.html", context)

    def log_view(self, request, ticket_pk):
        from .services import progress_call_log

        back = reverse("admin:logistics_progresscall_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(back)
        try:
            progress_call_log(
                ticket_id=ticket_pk,
                actor=actor_from_request(request),
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(request, gettext("Call logged on the ticket's timeline."), level=messages.SUCCESS)
        return HttpResponseRedirect(back)
