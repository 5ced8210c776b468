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
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, SCOPE_OR_PERMISSIONS, CenterScopedAdmin, CenterScopedTabularInline
from servicehub.errors import DomainError

from . import selectors, services
from .choices import OPEN_STATUSES, Action, Channel, FaultCategory, PartGrade
from .desk import desk_urls
from .models import Customer, Quote, QuoteLine, RepairOperation, RepairTicket, StageSLA, TicketEvent
from .tracking import tracking_url


class _MemberAccess:
    """Center staff (any active membership) may use these pages without per-model Django permissions."""

    view_access = SCOPE_OR_PERMISSIONS


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
        qs = selectors.tickets_visible(actor=actor_from_request(request)).filter(engineer__isnull=False)
        rows = qs.values_list("engineer_id", "engineer__username").distinct().order_by("engineer__username")
        return [(str(pk), name) for pk, name in rows]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(engineer_id=self.value())
        return queryset


# --- forms --------------------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    """One screen, keyboard first: the IMEI (a scanner types it and presses Enter = look up), then
    who, then what is wrong. The field order is the tab order."""

    imei = forms.CharField(
        label=_("IMEI"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("Scan or type; Enter looks the device up."),
    )
    serial = forms.CharField(
        label=_("Serial number"), max_length=64, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    service_no = forms.CharField(
        label=_("Service number of a booking"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Leave empty for a walk-in."),
    )
    phone = forms.CharField(
        label=_("Customer phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    name = forms.CharField(
        label=_("Customer name"), max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    fault_category = forms.ChoiceField(label=_("Fault"), choices=FaultCategory.choices, initial=FaultCategory.SCREEN)
    fault_description = forms.CharField(
        label=_("Fault description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    accessories = forms.CharField(
        label=_("Accessories received"), required=False, help_text=_("Comma separated, e.g. case, charger, SIM tray.")
    )
    appearance_notes = forms.CharField(label=_("Appearance"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    repair_mode_enabled = forms.BooleanField(label=_("Repair mode switched on by the customer"), required=False)
    data_backup_consent = forms.BooleanField(label=_("Customer consents to a data backup"), required=False)
    contact_consent = forms.BooleanField(label=_("Customer agrees to be contacted"), required=False, initial=True)
    email = forms.EmailField(label=_("E-mail"), required=False)
    model = forms.ChoiceField(label=_("Model (if the device is not registered)"), required=False)
    sold_on = forms.DateField(
        label=_("Purchase date on the proof of purchase"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    proof_note = forms.CharField(label=_("Proof of purchase"), max_length=300, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.WALK_IN)
    center = forms.ModelChoiceField(queryset=None, label=_("Center"))
    confirm_duplicate = forms.BooleanField(
        label=_("Open another ticket although this device already has an open one"), required=False
    )

    WHO = ("phone", "name", "email", "contact_consent")
    REGISTER = ("model", "sold_on", "proof_note")
    INTAKE = (
        "fault_category",
        "fault_description",
        "accessories",
        "appearance_notes",
        "repair_mode_enabled",
        "data_backup_consent",
        "channel",
        "center",
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from centers.models import ServiceCenter
        from warranty.models import DeviceModel

        centers = ServiceCenter.objects.filter(active=True).order_by("code")
        if actor is not None and actor.center_ids is not None:
            centers = centers.filter(pk__in=actor.center_ids)
        centers = list(centers)
        self.fields["center"].queryset = ServiceCenter.objects.filter(pk__in=[c.pk for c in centers])
        # Rendered from the list (no second query); several centers: the desk picks one on purpose.
        self.fields["center"].choices = [("", "---------")] * (len(centers) != 1) + [(c.pk, str(c)) for c in centers]
        if len(centers) == 1:
            self.fields["center"].initial = centers[0].pk
        self.fields["model"].choices = [("", "—")] + list(
            DeviceModel.objects.filter(active=True).order_by("code").values_list("code", "name")
        )

    # The template lays the form out in these groups (in this order: the tab order).
    def who_fields(self):
        return [self[n] for n in self.WHO]

    def register_fields(self):
        return [self[n] for n in self.REGISTER]

    def intake_fields(self):
        return [self[n] for n in self.INTAKE]


class QuoteForm(forms.Form):
    repairs = forms.MultipleChoiceField(label=_("Repairs"), widget=forms.CheckboxSelectMultiple)
    refurbished = forms.MultipleChoiceField(
        label=_("Use a refurbished part for"), widget=forms.CheckboxSelectMultiple, required=False
    )
    exclusions = forms.MultipleChoiceField(
        label=_("Warranty exclusions found"), widget=forms.CheckboxSelectMultiple, required=False
    )
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args, ticket=None, ops=None, **kwargs):
        super().__init__(*args, **kwargs)
        from warranty.choices import Exclusion

        if ops is None:
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


class TicketEventInline(_MemberAccess, CenterScopedTabularInline):
    model = TicketEvent
    fields = ["at", "action", "from_status", "to_status", "time_in_stage", "actor_label", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "pk"]
    center_field = None  # the ticket's own admin scoped it
    add_access = NOBODY
    change_access = NOBODY


@admin.register(RepairTicket)
class RepairTicketAdmin(_MemberAccess, CenterScopedAdmin):
    center_field = ("center", "origin_center")  # as ``selectors.tickets_visible``
    add_access = NOBODY  # the check-in page creates tickets
    change_access = NOBODY  # nothing is edited by hand: status moves through the action buttons
    delete_access = NOBODY
    list_filter = ["status", "channel", EngineerFilter, OverdueFilter, TodayFilter]
    search_fields = ["=service_no", "=customer__phone", "=device__imei", "=device__serial", "customer__name"]
    search_help_text = _("Service number, phone (any form), IMEI, serial or customer name.")
    list_select_related = ["center", "origin_center", "customer", "device__model", "engineer"]
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    inlines = [TicketEventInline]
    change_form_template = "admin/repairs/repairticket/workspace.html"
    change_list_template = "admin/repairs/repairticket/change_list.html"
    fieldsets = [
        (None, {"fields": ["service_no", "status", "channel", "center", "origin_center", "engineer"]}),
        (_("Customer and device"), {"fields": ["customer", "device", "fault_category", "fault_description"]}),
        (_("Intake"), {"fields": ["accessories", "appearance_notes", "repair_mode_enabled", "data_backup_consent"]}),
        (
            _("Stages"),
            {
                "fields": [
                    "created_at",
                    "received_at",
                    "stage_started_at",
                    "stage_due_at",
                    "diagnosis_started_at",
                    "quoted_at",
                    "approved_at",
                    "repair_started_at",
                    "repaired_at",
                    "ready_at",
                    "delivered_at",
                    "closed_at",
                    "cancelled_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Nothing on a ticket is edited by hand: status moves through the action buttons.
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj):
        return obj.is_sla_breached()

    def get_list_display(self, request):
        from .desk import ticket_list_columns

        return ticket_list_columns(actor_from_request(request))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        extra = selectors.ticket_search_q(search_term)
        if extra is not None:
            found = found | queryset.filter(extra)
        return found, may_have_duplicates

    def get_queryset(self, request):
        return selectors.tickets_visible(actor=actor_from_request(request)).select_related(
            "center", "origin_center", "customer", "device__model", "engineer"
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("checkin/", wrap(self.checkin_view), name="repairs_repairticket_checkin"),
            path("<int:pk>/transition/", wrap(self.transition_view), name="repairs_repairticket_transition"),
            path("<int:pk>/quote/", wrap(self.quote_view), name="repairs_repairticket_quote"),
            path("<int:pk>/receipt/", wrap(self.receipt_view), name="repairs_repairticket_receipt"),
            *desk_urls(self, wrap),
            *super().get_urls(),
        ]

    def _ticket_or_404(self, request, pk) -> RepairTicket:
        ticket = self.get_queryset(request).filter(pk=pk).first()
        if ticket is None:
            raise Http404
        return ticket

    def _ctx(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    # --- the ticket workspace (change view), its action and quote posts ---------------------------

    def _workspace_response(self, request, ticket, *, quote_form=None, preview=None, preview_error=None, status=200):
        from .workspace import ticket_workspace

        actor = actor_from_request(request)
        ws = ticket_workspace(ticket=ticket, actor=actor)
        catalog = list(selectors.catalog_for_model(model=ticket.device.model)) if ws.can_quote else []
        if ws.can_quote and quote_form is None:
            quote_form = QuoteForm(ticket=ticket, ops=catalog)
        chosen = set(quote_form["repairs"].value() or []) if quote_form is not None else set()
        refurb = set(quote_form["refurbished"].value() or []) if quote_form is not None else set()
        excl = set(quote_form["exclusions"].value() or []) if quote_form is not None else set()
        from parts.selectors import availability_for_operations, ticket_reservations
        from warranty.choices import Exclusion

        # Parts: availability per quote line at this center, the reservations (the finish form asks serials).
        stock = (
            availability_for_operations(location_id=ticket.center_id, operation_ids=[op.pk for op in catalog])
            if ws.can_quote
            else {}
        )
        reservations = ticket_reservations(ticket_id=ticket.pk)
        center_ids = {ticket.center_id, ticket.origin_center_id} - {None}
        sees_hq_board = actor.sees_all_centers or any(actor.has_role("manager", c) for c in center_ids)
        from payments.selectors import ticket_money_and_payments

        money, payments = ticket_money_and_payments(ticket)
        context = self._ctx(
            request,
            gettext("Ticket %(no)s") % {"no": ticket.service_no},
            ws=ws,
            ticket=ticket,
            original=ticket,
            quote_form=quote_form if ws.can_quote else None,
            catalog=[
                {
                    "op": op,
                    "chosen": op.code in chosen,
                    "refurbished": op.code in refurb,
                    "stock_new": stock.get((op.pk, PartGrade.NEW)),
                    "stock_refurbished": stock.get((op.pk, PartGrade.REFURBISHED)),
                }
                for op in catalog
            ],
            part_reservations=reservations,
            finish_serials=[r for r in reservations if r.status == "reserved"],
            exclusion_choices=[(v, label, v in excl) for v, label in Exclusion.choices],
            preview=preview,
            preview_error=preview_error,
            money=money,
            payments=payments,
            show_money=bool(payments) or money.due > 0,
            can_waive=actor.has_role("hq") or any(actor.has_role("manager", c) for c in center_ids),
            tracking_link=tracking_url(ticket.service_no),
            loaner_url=reverse("admin:loaners_loan_checkout") + f"?ticket={ticket.service_no}",
            loan_return_url=(reverse("admin:loaners_loan_return", args=[ws.open_loan_id]) if ws.open_loan_id else None),
            cash_report_url=reverse("admin:loaners_loan_cash_report") + f"?center={ticket.center.code}",
            dashboard_url=reverse("admin:ops_dashboard_changelist") + f"?center={ticket.center.code}",
            hq_dashboard_url=(
                reverse("admin:ops_hq_changelist") + f"?center={ticket.center.code}" if sees_hq_board else None
            ),
        )
        return TemplateResponse(request, "admin/repairs/repairticket/workspace.html", context, status=status)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The ticket workspace. Nothing on it is a model form: every change is its own action form."""
        ticket = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if ticket is None:
            raise Http404(gettext("No such ticket at your centers."))
        if request.method == "POST":
            # Nothing is edited by hand; a stray post to the change URL changes nothing.
            return HttpResponseRedirect(reverse("admin:repairs_repairticket_change", args=[ticket.pk]))
        return self._workspace_response(request, ticket)

    def transition_view(self, request, pk):
        """Apply one action from the workspace; cancel, decline and no-show ask for a confirmation first."""
        from .workspace import DESTRUCTIVE_ACTIONS, staff_action, staff_status

        ticket = self._ticket_or_404(request, pk)
        back = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        # The bench and today pages post ``next`` to come back to their list after one click.
        wanted = request.POST.get("next", "")
        if wanted.startswith("/admin/") and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = wanted
        action = request.POST.get("action", "")
        note = request.POST.get("note", "").strip()
        quote_id = request.POST.get("quote_id") or None
        if action in DESTRUCTIVE_ACTIONS and request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/repairs/repairticket/confirm_action.html",
                self._ctx(
                    request,
                    gettext("Are you sure?"),
                    ticket=ticket,
                    action=action,
                    action_label=staff_action(action),
                    status_label=staff_status(ticket.status),
                    note=note,
                    quote_id=quote_id,
                    back=back,
                ),
            )
        params = {}
        if action in (Action.APPROVE, Action.DECLINE) and quote_id and str(quote_id).isdigit():
            params["quote_id"] = int(quote_id)
        if action == Action.FINISH:
            # The parts form on the finish button: serials of the part fitted and removed, per reservation.
            params["part_serials"] = {
                key.removeprefix("fitted_"): {
                    "fitted": request.POST.get(key, ""),
                    "removed": request.POST.get("removed_" + key.removeprefix("fitted_"), ""),
                }
                for key in request.POST
                if key.startswith("fitted_")
            }
        try:
            ticket = services.ticket_transition(
                ticket_id=ticket.pk, action=action, actor=actor_from_request(request), note=note, **params
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("Done: %(action)s. The ticket is now “%(status)s”.")
                % {"action": staff_action(action), "status": staff_status(ticket.status)},
                level=messages.SUCCESS,
            )
        return HttpResponseRedirect(back)

    def quote_view(self, request, pk):
        """The quote builder: ``preview`` prices the lines (``repairs.pricing``) without saving; otherwise send."""
        from .pricing import quote_price

        ticket = self._ticket_or_404(request, pk)
        back = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(back)
        form = QuoteForm(request.POST, ticket=ticket)
        if not form.is_valid():
            return self._workspace_response(
                request, ticket, quote_form=form, preview_error=gettext("Choose at least one repair."), status=400
            )
        refurbished = set(form.cleaned_data["refurbished"])
        lines = [
            {"repair": code, "grade": PartGrade.REFURBISHED if code in refurbished else PartGrade.NEW}
            for code in form.cleaned_data["repairs"]
        ]
        exclusions = form.cleaned_data["exclusions"]
        if "preview" in request.POST:
            try:
                priced = quote_price(ticket=ticket, lines=lines, exclusions=exclusions)
            except DomainError as exc:
                return self._workspace_response(request, ticket, quote_form=form, preview_error=exc.message, status=400)
            return self._workspace_response(request, ticket, quote_form=form, preview=priced)
        try:
            services.ticket_transition(
                ticket_id=ticket.pk,
                action=Action.SEND_QUOTE,
                actor=actor_from_request(request),
                note=form.cleaned_data["note"],
                lines=lines,
                exclusions=exclusions,
            )
        except DomainError as exc:
            return self._workspace_response(request, ticket, quote_form=form, preview_error=exc.message, status=400)
        self.message_user(request, gettext("Quote sent."), level=messages.SUCCESS)
        return HttpResponseRedirect(back)

    def checkin_view(self, request):
        actor = actor_from_request(request)
        if request.method != "POST":
            form = CheckInForm(actor=actor)
            asked = {k: request.GET[k] for k in ("service_no", "imei") if request.GET.get(k)}
            if not asked:  # a blank page: the cursor waits for the scanner
                form.fields["imei"].widget.attrs["autofocus"] = True
                return self._checkin_page(request, form, None)
            # From "today at the desk" (?service_no=…): looked up at once, as if Enter was pressed.
            data = QueryDict(mutable=True)
            data.update(
                {
                    "center": form.fields["center"].initial or "",
                    "channel": Channel.WALK_IN,
                    "fault_category": FaultCategory.SCREEN,
                    **asked,
                }
            )
            form = CheckInForm(data, actor=actor)
            if not form.is_valid():
                return self._checkin_page(request, form, None)
            lookup = _lookup(form.cleaned_data, actor=actor)
            return self._checkin_page(request, _prefilled(form, data, lookup, actor=actor), lookup)
        form = CheckInForm(request.POST, actor=actor)
        lookup = None
        if form.is_valid():
            cd = form.cleaned_data
            lookup = _lookup(cd, actor=actor)
            if "check_in" in request.POST:
                try:
                    ticket = _check_in(cd, actor=actor)
                except DomainError as exc:
                    field = (exc.field or "").split(".")[-1]
                    field = {"category": "fault_category"}.get(field, field)
                    form.add_error(field if field in form.fields else None, exc.message)
                else:
                    # The confirmation belongs to this ticket's receipt only (not a session message
                    # that would pop up on whatever page the desk opens next).
                    url = reverse("admin:repairs_repairticket_receipt", args=[ticket.pk])
                    return HttpResponseRedirect(f"{url}?checked_in=1")
            else:
                form = _prefilled(form, request.POST, lookup, actor=actor)
        return self._checkin_page(request, form, lookup)

    def _checkin_page(self, request, form, lookup):
        return TemplateResponse(
            request,
            "admin/repairs/repairticket/checkin.html",
            self._ctx(request, gettext("Check a device in"), form=form, lookup=lookup),
        )

    def receipt_view(self, request, pk):
        from urllib.parse import urlsplit

        from django.conf import settings

        ticket = self._ticket_or_404(request, pk)
        url = tracking_url(ticket.service_no)
        paper = "80mm" if request.GET.get("paper") == "80mm" else "a4"
        base_host = urlsplit(settings.SERVICEHUB["PUBLIC_BASE_URL"]).netloc
        return TemplateResponse(
            request,
            "admin/repairs/repairticket/receipt.html",
            {
                "ticket": ticket,
                "tracking_link": url,
                "printed_at": timezone.now(),
                "qr": mark_safe(qr_svg(url)),  # noqa: S308 (segno output)
                "paper": paper,
                "checked_in": request.GET.get("checked_in") == "1",
                # A QR that points at another host than the one serving this page is worth a word.
                "public_base_url": settings.SERVICEHUB["PUBLIC_BASE_URL"],
                "base_differs": base_host != request.get_host(),
            },
        )


def _lookup(cd: dict, *, actor) -> dict:
    """What the desk sees before checking in (the rules: ``selectors.desk_lookup``)."""
    return selectors.desk_lookup(
        actor=actor,
        phone=cd.get("phone") or "",
        imei=cd.get("imei") or "",
        serial=cd.get("serial") or "",
        service_no=cd.get("service_no") or "",
    )


def _prefilled(form: CheckInForm, data, lookup: dict, *, actor) -> CheckInForm:
    """The same form with what the lookup knows filled into the fields the desk left empty; the cursor
    goes to the first field still to fill."""
    prefill = lookup["prefill"]
    merged = data.copy()
    booking = lookup["booking"] is not None
    for key, value in prefill.items():
        if key in ("fault_category", "channel"):
            if booking and not data.get("fault_description"):
                merged[key] = value
        elif key == "fault_description":
            if not data.get(key):
                merged[key] = value
        elif not data.get(key):
            merged[key] = value
    new = CheckInForm(merged, actor=actor)
    new.is_valid()
    todo = [n for n in ("phone", "name") if not merged.get(n) and not (n == "name" and lookup["customer"])]
    focus = todo[0] if todo else ("model" if lookup["device"] is None and merged.get("imei") else "fault_description")
    new.fields[focus].widget.attrs["autofocus"] = True
    return new


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
        customer={
            "name": cd["name"],
            "phone": cd["phone"],
            "email": cd.get("email", ""),
            "contact_consent": cd.get("contact_consent", False),
        },
        device={
            "imei": cd.get("imei"),
            "serial": cd.get("serial"),
            "model": cd.get("model"),
            "sold_at": sold_at,
            "proof_note": cd.get("proof_note", ""),
        },
        fault_category=cd["fault_category"],
        fault_description=cd.get("fault_description", ""),
        accessories=accessories,
        appearance_notes=cd.get("appearance_notes", ""),
        repair_mode_enabled=cd.get("repair_mode_enabled", False),
        data_backup_consent=cd.get("data_backup_consent", False),
        refuse_open_duplicate=not cd.get("confirm_duplicate"),
    )


# --- catalog, SLA, quotes, customers ------------------------------------------------------------


@admin.register(StageSLA)
class StageSLAAdmin(admin.ModelAdmin):
    list_display = ["status", "target_minutes", "active", "description"]
    list_editable = ["target_minutes", "active"]
    ordering = ["status"]


@admin.register(RepairOperation)
class RepairOperationAdmin(_MemberAccess, CenterScopedAdmin):
    center_field = None  # one catalog for the network
    list_display = [
        "device_model",
        "code",
        "name",
        "part_price",
        "refurbished_price",
        "labor",
        "fixed_price",
        "typical_minutes",
        "published",
    ]
    list_filter = ["code", "published", "device_model__category"]
    search_fields = ["device_model__code", "device_model__name", "name"]
    list_select_related = ["device_model"]
    autocomplete_fields = []


class QuoteLineInline(_MemberAccess, CenterScopedTabularInline):
    model = QuoteLine
    center_field = None  # the quote's own admin scoped it
    add_access = NOBODY
    fields = [
        "position",
        "description",
        "grade",
        "list_part_price",
        "list_labor",
        "part_price",
        "labor",
        "amount",
        "rules_text",
        "plan_purchase_id",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("rules"))
    def rules_text(self, obj):
        return "; ".join(f"{r['code']}: {r['reason']}" for r in obj.rules_display)


@admin.register(Quote)
class QuoteAdmin(_MemberAccess, CenterScopedAdmin):
    center_field = ("ticket__center", "ticket__origin_center")  # the ticket's scope
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ["ticket", "version", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["=ticket__service_no"]
    list_select_related = ["ticket"]
    inlines = [QuoteLineInline]
    readonly_fields = [
        "ticket",
        "version",
        "status",
        "total",
        "exclusions",
        "note",
        "created_by",
        "decided_at",
        "decided_by_label",
    ]

    def get_queryset(self, request):
        # The scope of the tickets (``selectors.tickets_visible``), not a copy of it.
        qs = super(CenterScopedAdmin, self).get_queryset(request)
        return qs.filter(ticket__in=selectors.tickets_visible(actor=actor_from_request(request)))


@admin.register(Customer)
class CustomerAdmin(_MemberAccess, CenterScopedAdmin):
    center_field = None  # a customer is visible through their tickets (below)
    delete_access = NOBODY
    list_display = ["name", "phone", "language", "contact_consent", "created_at"]
    search_fields = ["=phone", "name"]
    readonly_fields = ["phone", "created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        actor = actor_from_request(request)
        if actor.center_ids is None:
            return qs
        return qs.filter(tickets__in=selectors.tickets_visible(actor=actor)).distinct()


def ticket_link(ticket) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:repairs_repairticket_change", args=[ticket.pk]), ticket.service_no
    )
