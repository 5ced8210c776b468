"""The staff UI for loaners: pool per center, transfers, wipes, loans with their ledger, counter views.

Scope: a staff user sees the loaners and loans of the centers of their active
memberships; HQ members and superusers see all. Every change goes through
``loaners.services``; the ledger is read-only here.

Counter views (under ``/admin/loaners/loan/``):
- ``checkout/?ticket=<service_no>``: lend a loaner for a ticket (linked from the ticket page);
- ``<id>/return/``: condition, deductions, refund preview, then confirm;
- ``<id>/receipt/``: printable receipt listing every ledger entry;
- ``cash-report/?day=YYYY-MM-DD&center=CODE``: deposit money per center and payment method.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from centers.models import ServiceCenter
from repairs.models import RepairTicket
from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, SCOPE, CenterScopedAdmin, has_center_scope
from servicehub.dates import parse_day
from servicehub.errors import DomainError
from warranty.choices import Tier

from . import selectors, services
from .choices import LoanerCondition, PaymentMethod
from .forms import CheckoutForm, DeductionFormSet, ReturnForm, deductions_from
from .models import DepositEntry, DepositRule, Loan, Loaner, LoanerEvent, LoanerTransfer


def _visible_centers(request):
    actor = actor_from_request(request)
    qs = ServiceCenter.objects.filter(active=True)
    if not actor.sees_all_centers:
        qs = qs.filter(pk__in=actor.center_ids)
    return qs.order_by("code")


def _report_error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)


class LoanersAdmin(CenterScopedAdmin):
    """Membership-based access: staff with a center (or HQ) see their centers' rows; states change
    through the services only, and nothing that matters is deleted."""

    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY


class CenterFilter(admin.SimpleListFilter):
    title = _("center")
    parameter_name = "center"
    field = "current_center"

    def lookups(self, request, model_admin):
        return [(c.code, f"{c.code} {c.name}") for c in _visible_centers(request)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.field}__code": self.value()})
        return queryset


class LoanCenterFilter(CenterFilter):
    field = "center"


class TierFilter(admin.SimpleListFilter):
    title = _("tier")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return Tier.choices

    def queryset(self, request, queryset):
        if self.value():
            field = "model__tier" if queryset.model is Loaner else "tier"
            return queryset.filter(**{field: self.value()})
        return queryset


# --- Pool ---------------------------------------------------------------------------------


class LoanerActionForm(ActionForm):
    to_center = forms.CharField(label=_("Send to (center code)"), required=False, max_length=32)
    condition = forms.ChoiceField(
        label=_("Condition after maintenance"),
        required=False,
        choices=[("", "—")] + [c for c in LoanerCondition.choices if c[0] != LoanerCondition.DAMAGED],
    )


class LoanerEventInline(admin.TabularInline):
    model = LoanerEvent
    fk_name = "loaner"
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "loan", "center", "actor_label", "note"]
    readonly_fields = fields
    ordering = ["-at", "-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LoanerAddForm(forms.ModelForm):
    wiped = forms.BooleanField(label=_("Already wiped (factory reset done)"), required=False, initial=True)

    class Meta:
        model = Loaner
        fields = ["imei", "model", "home_center", "condition", "accessories", "replacement_value"]


def _run_on_each(modeladmin, request, queryset, fn, done_message):
    ok = 0
    for loaner_id in queryset.order_by("pk").values_list("pk", flat=True):
        try:
            fn(loaner_id)
            ok += 1
        except DomainError as exc:
            messages.error(request, f"#{loaner_id}: {exc.message}")
    if ok:
        messages.success(request, done_message % {"n": ok})


@admin.register(Loaner)
class LoanerAdmin(LoanersAdmin):
    center_field = ("current_center", "home_center")
    # Only the kit and the replacement value are edited in the form; states move through the actions.
    add_access = SCOPE
    change_access = SCOPE
    list_display = [
        "imei",
        "model",
        "tier_display",
        "current_center",
        "status",
        "condition",
        "needs_wipe",
        "last_wiped_at",
    ]
    list_filter = ["status", TierFilter, "condition", "needs_wipe", CenterFilter]
    search_fields = ["imei", "model__name", "model__code"]
    list_select_related = ["model", "current_center"]
    action_form = LoanerActionForm
    actions = ["wipe", "transfer_send", "transfer_receive", "maintenance_done", "retire"]
    inlines = [LoanerEventInline]
    fields = [
        "imei",
        "model",
        "home_center",
        "current_center",
        "status",
        "condition",
        "accessories",
        "replacement_value",
        "last_wiped_at",
        "needs_wipe",
    ]
    readonly_fields = [
        "imei",
        "model",
        "home_center",
        "current_center",
        "status",
        "condition",
        "last_wiped_at",
        "needs_wipe",
    ]

    def get_queryset(self, request):
        return selectors.loaners_visible(actor=actor_from_request(request)).select_related("model", "current_center")

    @admin.display(description=_("tier"), ordering="model__tier")
    def tier_display(self, obj):
        return obj.model.get_tier_display()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = LoanerAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["imei", "model", "home_center", "condition", "accessories", "replacement_value", "wiped"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "home_center":
            kwargs["queryset"] = _visible_centers(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        try:
            created = services.loaner_register(
                imei=data["imei"],
                model=data["model"],
                home_center=data["home_center"],
                condition=data["condition"],
                accessories=data.get("accessories") or [],
                replacement_value=data["replacement_value"],
                wiped_at=timezone.now() if data.get("wiped") else None,
                actor=actor_from_request(request),
            )
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        obj.pk = created.pk

    @admin.action(description=_("Record a wipe (factory reset)"))
    def wipe(self, request, queryset):
        actor = actor_from_request(request)
        _run_on_each(
            self,
            request,
            queryset,
            lambda pk: services.loaner_wipe(loaner_id=pk, actor=actor),
            _("%(n)d loaner(s) wiped."),
        )

    @admin.action(description=_("Send to another center (code below)"))
    def transfer_send(self, request, queryset):
        code = (request.POST.get("to_center") or "").strip()
        to_center = ServiceCenter.objects.filter(code=code).first()
        if to_center is None:
            messages.error(request, _("Enter the code of the center to send to."))
            return
        actor = actor_from_request(request)
        _run_on_each(
            self,
            request,
            queryset,
            lambda pk: services.loaner_transfer_send(loaner_id=pk, to_center=to_center, actor=actor),
            _("%(n)d loaner(s) sent."),
        )

    @admin.action(description=_("Receive from transfer"))
    def transfer_receive(self, request, queryset):
        actor = actor_from_request(request)
        _run_on_each(
            self,
            request,
            queryset,
            lambda pk: services.loaner_transfer_receive(loaner_id=pk, actor=actor),
            _("%(n)d loaner(s) received."),
        )

    @admin.action(description=_("Back from maintenance (condition below)"))
    def maintenance_done(self, request, queryset):
        condition = request.POST.get("condition") or ""
        actor = actor_from_request(request)
        _run_on_each(
            self,
            request,
            queryset,
            lambda pk: services.loaner_maintenance_done(loaner_id=pk, condition=condition, actor=actor),
            _("%(n)d loaner(s) back in the pool."),
        )

    @admin.action(description=_("Retire"))
    def retire(self, request, queryset):
        actor = actor_from_request(request)
        _run_on_each(
            self,
            request,
            queryset,
            lambda pk: services.loaner_retire(loaner_id=pk, actor=actor),
            _("%(n)d loaner(s) retired."),
        )


@admin.register(LoanerTransfer)
class LoanerTransferAdmin(LoanersAdmin):
    center_field = ("from_center", "to_center")
    list_display = ["loaner", "from_center", "to_center", "sent_at", "received_at"]
    list_filter = [("received_at", admin.EmptyFieldListFilter)]
    list_select_related = ["loaner__model", "from_center", "to_center"]
    search_fields = ["loaner__imei"]


@admin.register(DepositRule)
class DepositRuleAdmin(LoanersAdmin):
    """Visible to all staff (the counter explains the deposit); edited by HQ."""

    center_field = None  # per province, for every center
    add_access = HQ
    change_access = HQ
    list_display = ["province", "tier", "deposit", "late_fee_per_day", "waive_for_plan_holders"]
    list_filter = ["tier", "waive_for_plan_holders"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "province":
            from centers.choices import RegionLevel
            from centers.models import Region

            kwargs["queryset"] = Region.objects.filter(level=RegionLevel.PROVINCE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- Loans ---------------------------------------------------------------------------------


class DepositEntryInline(admin.TabularInline):
    """The ledger, read-only: entries are written only by the services."""

    model = DepositEntry
    extra = 0
    can_delete = False
    fields = [
        "seq",
        "at",
        "kind",
        "deduction_kind",
        "reason",
        "amount",
        "from_deposit",
        "balance_after",
        "payment_method",
        "reference",
        "actor_label",
    ]
    readonly_fields = fields
    ordering = ["seq"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Loan)
class LoanAdmin(LoanersAdmin):
    list_display = [
        "id",
        "ticket",
        "loaner",
        "tier",
        "status",
        "out_at",
        "due_at",
        "returned_at",
        "held",
        "refunded",
        "deducted",
        "balance_due",
    ]
    list_filter = ["status", TierFilter, LoanCenterFilter]
    search_fields = ["ticket__service_no", "loaner__imei", "customer__phone"]
    list_select_related = ["ticket", "loaner__model", "center"]
    date_hierarchy = "out_at"
    inlines = [DepositEntryInline]
    readonly_fields = [
        "counter_links",
        "ticket",
        "customer",
        "center",
        "loaner",
        "tier",
        "status",
        "out_at",
        "due_at",
        "returned_at",
        "condition_out",
        "condition_in",
        "accessories_out",
        "terms_accepted_at",
        "payment_method",
        "payment_reference",
        "deposit",
        "deposit_waived",
        "late_fee_per_day",
        "held",
        "refunded",
        "deducted",
        "balance_due",
        "lent_by",
        "returned_by",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return selectors.loans_visible(actor=actor_from_request(request)).select_related(
            "ticket", "loaner__model", "center", "customer"
        )

    @admin.display(description=_("Counter"))
    def counter_links(self, obj):
        receipt = reverse("admin:loaners_loan_receipt", args=[obj.pk])
        if obj.is_open:
            ret = reverse("admin:loaners_loan_return", args=[obj.pk])
            return format_html(
                '<a class="button" href="{}">{}</a> <a href="{}">{}</a>', ret, _("Return…"), receipt, _("Receipt")
            )
        return format_html('<a href="{}">{}</a>', receipt, _("Receipt"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("checkout/", wrap(self.checkout_view), name="loaners_loan_checkout"),
            path("cash-report/", wrap(self.cash_report_view), name="loaners_loan_cash_report"),
            path("<int:loan_id>/return/", wrap(self.return_view), name="loaners_loan_return"),
            path("<int:loan_id>/receipt/", wrap(self.receipt_view), name="loaners_loan_receipt"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def _require_scope(self, request):
        if not has_center_scope(request):
            raise PermissionDenied

    # -- checkout

    def checkout_view(self, request):
        self._require_scope(request)
        actor = actor_from_request(request)
        service_no = (request.GET.get("ticket") or request.POST.get("ticket") or "").strip()
        ticket = (
            RepairTicket.objects.select_related("center", "customer", "device__model")
            .filter(service_no=service_no)
            .first()
        )
        if ticket is None or not actor.can_see_center(ticket.center_id):
            raise Http404(_("No such ticket at your centers."))
        problem = None
        form = CheckoutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                loan = services.loan_checkout(
                    ticket_id=ticket.pk,
                    tier=form.cleaned_data["tier"],
                    payment_method=form.cleaned_data["payment_method"],
                    reference=form.cleaned_data["reference"],
                    terms_accepted=form.cleaned_data["terms_accepted"],
                    actor=actor,
                )
            except DomainError as exc:
                problem = exc
            else:
                messages.success(
                    request,
                    _("Loaner %(imei)s lent; due %(due)s.")
                    % {"imei": loan.loaner.imei, "due": timezone.localtime(loan.due_at).strftime("%Y-%m-%d %H:%M")},
                )
                return HttpResponseRedirect(reverse("admin:loaners_loan_change", args=[loan.pk]))
        availability = selectors.loaner_availability(center_id=ticket.center_id)
        tiers = []
        for value, label in Tier.choices:
            terms = selectors.deposit_terms_for(center=ticket.center, tier=value, device=ticket.device)
            tiers.append({"value": value, "label": label, "available": availability.get(value, 0), "terms": terms})
        open_loan = selectors.loans_visible(actor=actor).filter(ticket=ticket, status__in=["out", "overdue"]).first()
        return TemplateResponse(
            request,
            "admin/loaners/checkout.html",
            self._context(
                request,
                _("Lend a loaner for %(no)s") % {"no": ticket.service_no},
                ticket=ticket,
                form=form,
                tiers=tiers,
                problem=problem,
                nearby=(problem.extra.get("nearby_centers") if problem is not None else None),
                open_loan=open_loan,
            ),
        )

    # -- return

    def _loan(self, request, loan_id):
        return get_object_or_404(self.get_queryset(request), pk=loan_id)

    def return_view(self, request, loan_id):
        self._require_scope(request)
        actor = actor_from_request(request)
        loan = self._loan(request, loan_id)
        data = request.POST if request.method == "POST" else None
        form = ReturnForm(data)
        formset = DeductionFormSet(data, prefix="d")
        preview = problem = None
        if not loan.is_open:
            problem = DomainError(
                "invalid_transition", _("This loan is already %(s)s.") % {"s": loan.get_status_display()}
            )
        elif data is not None and form.is_valid() and formset.is_valid():
            condition = form.cleaned_data["condition"]
            deductions = deductions_from(formset)
            try:
                if "confirm" in request.POST:
                    services.loan_return(loan_id=loan.pk, condition=condition, deductions=deductions, actor=actor)
                    messages.success(request, _("Loan returned. Print the receipt for the customer."))
                    return HttpResponseRedirect(reverse("admin:loaners_loan_receipt", args=[loan.pk]))
                preview = selectors.loan_return_preview(
                    loan_id=loan.pk, condition=condition, deductions=deductions, actor=actor
                )
            except DomainError as exc:
                problem = exc
        return TemplateResponse(
            request,
            "admin/loaners/return.html",
            self._context(
                request,
                _("Return loan #%(id)s") % {"id": loan.pk},
                loan=loan,
                form=form,
                formset=formset,
                preview=preview,
                problem=problem,
            ),
        )

    def receipt_view(self, request, loan_id):
        self._require_scope(request)
        loan = self._loan(request, loan_id)
        return TemplateResponse(
            request,
            "admin/loaners/receipt.html",
            self._context(
                request,
                _("Loan receipt #%(id)s") % {"id": loan.pk},
                loan=loan,
                entries=list(loan.entries.order_by("seq")),
            ),
        )

    # -- cash report

    def cash_report_view(self, request):
        self._require_scope(request)
        actor = actor_from_request(request)
        day = parse_day(request.GET.get("day")) if request.GET.get("day") else timezone.localdate()
        if day is None:  # malformed, impossible (02-31) or out of range (9999-12-31 has no next day)
            day = timezone.localdate()
            messages.error(request, _("Dates look like 2026-03-01; showing today."))
        centers = _visible_centers(request)
        center_ids = actor.center_ids
        code = (request.GET.get("center") or "").strip()
        if code:
            center = centers.filter(code=code).first()
            if center is None:
                raise Http404(_("No such center among yours."))
            center_ids = frozenset({center.pk})
        rows = selectors.cash_report(day=day, center_ids=center_ids)
        method_keys = [m for m, _label in PaymentMethod.choices]
        for row in rows:  # templates cannot index a dict by a variable
            for name in ("taken", "refunded", "deducted"):
                row[f"{name}_cells"] = [row[name][m] for m in method_keys] + [row[name]["total"]]

        return TemplateResponse(
            request,
            "admin/loaners/cash_report.html",
            self._context(
                request,
                _("Deposit cash report %(day)s") % {"day": day.isoformat()},
                rows=rows,
                day=day,
                methods=PaymentMethod.choices,
                centers=centers,
                center_code=code,
            ),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "cash_report_url": reverse("admin:loaners_loan_cash_report")}
        return super().changelist_view(request, extra_context)
