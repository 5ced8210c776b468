"""Front-desk staff UI: check-in, intake receipt, the ticket page with its allowed actions, catalog and SLAs.

Staff see only their own centers' tickets (HQ and superusers see all). A ticket's
status is never edited directly: each button calls ``repairs.services.ticket_transition``
and a refusal is shown as an admin error message.
"""

from __future__ import annotations

import datetime as dt

import segno
from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_for_user
from servicehub.errors import DomainError

from . import selectors, services
from .choices import OPEN_STATUSES, Action, Channel, FaultCategory, PartGrade
from .models import Customer, Quote, QuoteLine, RepairOperation, RepairTicket, StageSLA, TicketEvent
from .tracking import tracking_url


def _actor(request):
    cached = getattr(request, "_repairs_actor", None)
    if cached is None:
        cached = request._repairs_actor = actor_for_user(request.user)
    return cached


def _is_member(request) -> bool:
    if not request.user.is_authenticated:  # the admin login page builds the app list for anonymous visitors
        return False
    actor = _actor(request)
    return bool(request.user.is_superuser or actor.roles)


class _MemberAccess:
    """Center staff (any active membership) may use these pages without per-model Django permissions."""

    def has_view_permission(self, request, obj=None):
        return _is_member(request) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return _is_member(request) or super().has_module_permission(request)


# --- ticket list filters ---------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(selectors.sla_breached_q(self.value() == "yes"))
        return queryset


class TodayFilter(admin.SimpleListFilter):
    title = _("created")
    parameter_name = "today"

    def lookups(self, request, model_admin):
        return [("created", _("Created today")), ("open", _("Open, created today"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        qs = queryset.filter(created_at__gte=start, created_at__lt=start + dt.timedelta(days=1))
        if self.value() == "open":
            qs = qs.filter(status__in=OPEN_STATUSES)
        return qs


class EngineerFilter(admin.SimpleListFilter):
    title = _("engineer")
    parameter_name = "engineer"

    def lookups(self, request, model_admin):
        qs = selectors.tickets_visible(actor=_actor(request)).filter(engineer__isnull=False)
        rows = qs.values_list("engineer_id", "engineer__username").distinct().order_by("engineer__username")
        return [(str(pk), name) for pk, name in rows]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(engineer_id=self.value())
        return queryset


# --- forms --------------------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    center = forms.ModelChoiceField(queryset=None, label=_("Center"))
    service_no = forms.CharField(
        label=_("Service number of a booking"), required=False, max_length=20,
        help_text=_("Leave empty for a walk-in."),
    )
    phone = forms.CharField(label=_("Customer phone"), max_length=32, required=False)
    name = forms.CharField(label=_("Customer name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    contact_consent = forms.BooleanField(label=_("Customer agrees to be contacted"), required=False, initial=True)
    imei = forms.CharField(label=_("IMEI"), max_length=32, required=False)
    serial = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    model = forms.ChoiceField(label=_("Model (if the device is not registered)"), required=False)
    sold_on = forms.DateField(label=_("Purchase date on the proof of purchase"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    proof_note = forms.CharField(label=_("Proof of purchase"), max_length=300, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.WALK_IN)
    fault_category = forms.ChoiceField(label=_("Fault"), choices=FaultCategory.choices, initial=FaultCategory.SCREEN)
    fault_description = forms.CharField(label=_("Fault description"), widget=forms.Textarea(attrs={"rows": 2}),
                                        required=False)
    accessories = forms.CharField(label=_("Accessories received"), required=False,
                                  help_text=_("Comma separated, e.g. case, charger, SIM tray."))
    appearance_notes = forms.CharField(label=_("Appearance"), widget=forms.Textarea(attrs={"rows": 2}),
                                       required=False)
    repair_mode_enabled = forms.BooleanField(label=_("Repair mode switched on by the customer"), required=False)
    data_backup_consent = forms.BooleanField(label=_("Customer consents to a data backup"), required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from centers.models import ServiceCenter
        from warranty.models import DeviceModel

        centers = ServiceCenter.objects.filter(active=True).order_by("code")
        if actor is not None and actor.center_ids is not None:
            centers = centers.filter(pk__in=actor.center_ids)
        self.fields["center"].queryset = centers
        if centers.count() == 1:
            self.fields["center"].initial = centers.first()
        self.fields["model"].choices = [("", "—")] + list(
            DeviceModel.objects.filter(active=True).order_by("code").values_list("code", "name")
        )


class QuoteForm(forms.Form):
    repairs = forms.MultipleChoiceField(label=_("Repairs"), widget=forms.CheckboxSelectMultiple)
    refurbished = forms.MultipleChoiceField(
        label=_("Use a refurbished part for"), widget=forms.CheckboxSelectMultiple, required=False
    )
    exclusions = forms.MultipleChoiceField(
        label=_("Warranty exclusions found"), widget=forms.CheckboxSelectMultiple, required=False
    )
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        from warranty.choices import Exclusion

        ops = list(selectors.catalog_for_model(model=ticket.device.model)) if ticket else []
        self.fields["repairs"].choices = [(op.code, f"{op.name} ({op.part_price} + {op.labor})") for op in ops]
        self.fields["refurbished"].choices = [
            (op.code, f"{op.name} ({op.refurbished_price})") for op in ops if op.refurbished_price is not None
        ]
        self.fields["exclusions"].choices = Exclusion.choices


def qr_svg(url: str) -> str:
    """An inline SVG QR code (segno) for ``url``."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2)


# --- tickets ------------------------------------------------------------------------------------------


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["at", "action", "from_status", "to_status", "time_in_stage", "actor_label", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return _is_member(request) or super().has_view_permission(request, obj)


@admin.register(RepairTicket)
class RepairTicketAdmin(_MemberAccess, admin.ModelAdmin):
    list_display = ["service_no", "status", "channel", "center", "fault_category", "engineer", "created_at",
                    "stage_due_at", "overdue"]
    list_filter = ["status", "channel", EngineerFilter, OverdueFilter, TodayFilter]
    search_fields = ["=service_no", "=customer__phone", "=device__imei", "=device__serial"]
    list_select_related = ["center", "engineer"]
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    inlines = [TicketEventInline]
    change_form_template = "admin/repairs/repairticket/change_form.html"
    change_list_template = "admin/repairs/repairticket/change_list.html"
    fieldsets = [
        (None, {"fields": ["service_no", "status", "channel", "center", "origin_center", "engineer"]}),
        (_("Customer and device"), {"fields": ["customer", "device", "fault_category", "fault_description"]}),
        (_("Intake"), {"fields": ["accessories", "appearance_notes", "repair_mode_enabled", "data_backup_consent"]}),
        (_("Stages"), {"fields": ["created_at", "received_at", "stage_started_at", "stage_due_at", "diagnosis_started_at",
                                  "quoted_at", "approved_at", "repair_started_at", "repaired_at", "ready_at",
                                  "delivered_at", "closed_at", "cancelled_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Nothing on a ticket is edited by hand: status moves through the action buttons.
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def has_add_permission(self, request):
        return False  # the check-in page creates tickets

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj):
        return obj.is_sla_breached()

    def get_queryset(self, request):
        return selectors.tickets_visible(actor=_actor(request)).select_related(
            "center", "origin_center", "customer", "device__model", "engineer"
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("checkin/", wrap(self.checkin_view), name="repairs_repairticket_checkin"),
            path("<int:pk>/transition/", wrap(self.transition_view), name="repairs_repairticket_transition"),
            path("<int:pk>/quote/", wrap(self.quote_view), name="repairs_repairticket_quote"),
            path("<int:pk>/receipt/", wrap(self.receipt_view), name="repairs_repairticket_receipt"),
            *super().get_urls(),
        ]

    def _ticket_or_404(self, request, pk) -> RepairTicket:
        ticket = self.get_queryset(request).filter(pk=pk).first()
        if ticket is None:
            raise Http404
        return ticket

    def _ctx(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        ticket = self.get_queryset(request).filter(pk=object_id).first()
        if ticket is not None:
            actor = _actor(request)
            actions = selectors.allowed_actions(ticket=ticket, actor=actor)
            extra_context.update(
                {
                    "ticket": ticket,
                    "quote": selectors.ticket_current_quote(ticket=ticket),
                    "action_buttons": [(a, Action(a).label) for a in actions if a != Action.SEND_QUOTE],
                    "quote_form": QuoteForm(ticket=ticket) if Action.SEND_QUOTE in actions else None,
                    "loan": selectors.ticket_loan_summary(ticket=ticket),
                    "loaner_url": f"/admin/loaners/loan/checkout/?ticket={ticket.service_no}",
                    "tracking_link": tracking_url(ticket.service_no),
                }
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, pk):
        ticket = self._ticket_or_404(request, pk)
        back = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        action = request.POST.get("action", "")
        try:
            services.ticket_transition(
                ticket_id=ticket.pk, action=action, actor=_actor(request), note=request.POST.get("note", "")
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            label = Action(action).label if action in Action.values else action
            self.message_user(request, gettext("Done: %(action)s.") % {"action": label}, level=messages.SUCCESS)
        return HttpResponseRedirect(back)

    def quote_view(self, request, pk):
        ticket = self._ticket_or_404(request, pk)
        back = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        form = QuoteForm(request.POST, ticket=ticket)
        if not form.is_valid():
            self.message_user(request, gettext("Choose at least one repair."), level=messages.ERROR)
            return HttpResponseRedirect(back)
        refurbished = set(form.cleaned_data["refurbished"])
        lines = [
            {"repair": code, "grade": PartGrade.REFURBISHED if code in refurbished else PartGrade.NEW}
            for code in form.cleaned_data["repairs"]
        ]
        try:
            services.ticket_transition(
                ticket_id=ticket.pk, action=Action.SEND_QUOTE, actor=_actor(request),
                note=form.cleaned_data["note"], lines=lines, exclusions=form.cleaned_data["exclusions"],
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(request, gettext("Quote sent."), level=messages.SUCCESS)
        return HttpResponseRedirect(back)

    def checkin_view(self, request):
        actor = _actor(request)
        data = request.POST if request.method == "POST" else None
        form = CheckInForm(data, actor=actor)
        lookup = None
        if request.method == "POST" and form.is_valid():
            cd = form.cleaned_data
            lookup = _lookup(phone=cd["phone"], imei=cd["imei"], serial=cd["serial"], actor=actor)
            if "check_in" in request.POST:
                try:
                    ticket = _check_in(cd, actor=actor)
                except DomainError as exc:
                    field = (exc.field or "").split(".")[-1]
                    field = {"category": "fault_category"}.get(field, field)
                    if field in form.fields:
                        form.add_error(field, exc.message)
                    else:
                        form.add_error(None, exc.message)
                else:
                    self.message_user(
                        request, gettext("Checked in: %(no)s.") % {"no": ticket.service_no}, level=messages.SUCCESS
                    )
                    return HttpResponseRedirect(reverse("admin:repairs_repairticket_receipt", args=[ticket.pk]))
        return TemplateResponse(
            request, "admin/repairs/repairticket/checkin.html",
            self._ctx(request, gettext("Check a device in"), form=form, lookup=lookup),
        )

    def receipt_view(self, request, pk):
        ticket = self._ticket_or_404(request, pk)
        url = tracking_url(ticket.service_no)
        return TemplateResponse(
            request,
            "admin/repairs/repairticket/receipt.html",
            {"ticket": ticket, "tracking_link": url, "qr": mark_safe(qr_svg(url)), "printed_at": timezone.now()},  # noqa: S308 (segno output)
        )


def _lookup(*, phone, imei, serial, actor) -> dict:
    """What the desk sees before checking in: the customer, the device, its coverage and history."""
    from warranty.selectors import device_coverage, device_find

    out: dict = {"customer": None, "device": None, "coverage": None, "history": [], "phone_error": None}
    if phone:
        try:
            out["customer"] = Customer.objects.filter(phone=services.phone_normalize(phone)).first()
        except DomainError as exc:
            out["phone_error"] = exc.message
    try:
        device = device_find(imei=imei or None, serial=serial or None) if (imei or serial) else None
    except DomainError:
        device = None
    if device is not None:
        out["device"] = device
        out["coverage"] = device_coverage(device=device)
        out["history"] = list(selectors.device_history(device=device)[:10])
    return out


def _check_in(cd: dict, *, actor) -> RepairTicket:
    sold_at = None
    if cd.get("sold_on"):
        sold_at = timezone.make_aware(dt.datetime.combine(cd["sold_on"], dt.time(12, 0)))
    accessories = [a.strip() for a in (cd.get("accessories") or "").split(",") if a.strip()]
    return services.ticket_check_in(
        actor=actor,
        center=cd["center"],
        service_no=cd.get("service_no") or None,
        channel=cd["channel"],
        customer={"name": cd["name"], "phone": cd["phone"], "email": cd.get("email", ""),
                  "contact_consent": cd.get("contact_consent", False)},
        device={"imei": cd.get("imei"), "serial": cd.get("serial"), "model": cd.get("model"), "sold_at": sold_at,
                "proof_note": cd.get("proof_note", "")},
        fault_category=cd["fault_category"],
        fault_description=cd.get("fault_description", ""),
        accessories=accessories,
        appearance_notes=cd.get("appearance_notes", ""),
        repair_mode_enabled=cd.get("repair_mode_enabled", False),
        data_backup_consent=cd.get("data_backup_consent", False),
    )


# --- catalog, SLA, quotes, customers ------------------------------------------------------------


@admin.register(StageSLA)
class StageSLAAdmin(admin.ModelAdmin):
    list_display = ["status", "target_minutes", "active", "description"]
    list_editable = ["target_minutes", "active"]
    ordering = ["status"]


@admin.register(RepairOperation)
class RepairOperationAdmin(_MemberAccess, admin.ModelAdmin):
    list_display = ["device_model", "code", "name", "part_price", "refurbished_price", "labor", "fixed_price",
                    "published"]
    list_filter = ["code", "published", "device_model__category"]
    search_fields = ["device_model__code", "device_model__name", "name"]
    list_select_related = ["device_model"]
    autocomplete_fields = []


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    fields = ["position", "description", "grade", "list_part_price", "list_labor", "part_price", "labor", "amount",
              "rules_text", "plan_purchase_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("rules"))
    def rules_text(self, obj):
        return "; ".join(f"{r['code']}: {r['reason']}" for r in obj.rules_display)

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return _is_member(request) or super().has_view_permission(request, obj)


@admin.register(Quote)
class QuoteAdmin(_MemberAccess, admin.ModelAdmin):
    list_display = ["ticket", "version", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["=ticket__service_no"]
    list_select_related = ["ticket"]
    inlines = [QuoteLineInline]
    readonly_fields = ["ticket", "version", "status", "total", "exclusions", "note", "created_by", "decided_at",
                       "decided_by_label"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ticket__in=selectors.tickets_visible(actor=_actor(request)))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(_MemberAccess, admin.ModelAdmin):
    list_display = ["name", "phone", "language", "contact_consent", "created_at"]
    search_fields = ["=phone", "name"]
    readonly_fields = ["phone", "created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        actor = _actor(request)
        if actor.center_ids is None:
            return qs
        return qs.filter(tickets__in=selectors.tickets_visible(actor=actor)).distinct()

    def has_delete_permission(self, request, obj=None):
        return False


def ticket_link(ticket) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:repairs_repairticket_change", args=[ticket.pk]),
                       ticket.service_no)
