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
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from centers.models import ServiceCenter
from payments.services import loan_deposit_settle, loan_deposit_take
from repairs.models import RepairTicket
from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, ROLES, SCOPE, CenterScopedAdmin, desk_center, has_any_role, has_center_scope
from servicehub.dates import parse_day
from servicehub.errors import DomainError
from servicehub.masking import mask_phone
from warranty.choices import Tier

from . import selectors, services
from .choices import AmenityKind, AmenityLoanStatus, LoanerCondition, PaymentMethod
from .forms import CheckoutForm, DeductionFormSet, ReturnForm, deductions_from
from .models import (
    Amenity,
    AmenityLoan,
    AmenityStockMove,
    DepositEntry,
    DepositRule,
    Loan,
    Loaner,
    LoanerEvent,
    LoanerTransfer,
)


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
                # The deposit's money goes through payments in the same transaction (docs/payments.md).
                with transaction.atomic():
                    loan = services.loan_checkout(
                        ticket_id=ticket.pk,
                        tier=form.cleaned_data["tier"],
                        payment_method=form.cleaned_data["payment_method"],
                        reference=form.cleaned_data["reference"],
                        terms_accepted=form.cleaned_data["terms_accepted"],
                        actor=actor,
                    )
                    loan_deposit_take(loan_id=loan.pk, actor=actor)
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
                    with transaction.atomic():
                        services.loan_return(loan_id=loan.pk, condition=condition, deductions=deductions, actor=actor)
                        loan_deposit_settle(loan_id=loan.pk, actor=actor)
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


# --- amenities (issue #22): umbrellas, power banks, reading glasses lent at the desk ---------------------------
# Managers set up their center's amenities and count the shelf (``services.amenity_save``); the desk page
# ``/admin/loaners/amenityloan/desk/`` lends and takes back, with the deposit through the payments ledger in the same
# transaction (as the loaner checkout does); the loans list is read-only.


LENT_WITH_DEPOSIT = _("Lent: %(name)s to %(who)s, deposit %(deposit)s CNY (receipt %(receipt)s). Due back %(due)s.")


class AmenityForm(forms.ModelForm):
    """The manager's amenity form. ``clean()`` asks the service (``services.amenity_save_check``) what it would
    refuse, so a refusal shows on its field (``DomainError.field``) and the form comes back with what was typed;
    ``AmenityAdmin.get_form`` gives the form the actor."""

    actor = None

    class Meta:
        model = Amenity
        fields = ["center", "kind", "name_zh", "name_en", "deposit", "on_hand", "loan_days", "active", "position"]

    def clean(self):
        from web.forms import add_domain_error  # the one DomainError -> form error mapping

        data = super().clean()
        if self.errors or self.actor is None:
            return data  # Django's own field errors first (a required field left empty, not a number)
        try:
            services.amenity_save_check(
                actor=self.actor,
                amenity_id=self.instance.pk,
                center_id=data["center"].pk,
                kind=data["kind"],
                name_zh=data["name_zh"],
                name_en=data["name_en"],
                deposit=data["deposit"],
                on_hand=data["on_hand"],
                loan_days=data["loan_days"],
                active=data["active"],
                position=data["position"],
            )
        except DomainError as exc:
            add_domain_error(self, exc)
        return data


@admin.register(Amenity)
class AmenityAdmin(CenterScopedAdmin):
    form = AmenityForm
    view_access = SCOPE
    add_access = ROLES
    change_access = ROLES
    delete_access = NOBODY  # untick "active" instead
    roles = frozenset(services.AMENITY_STOCK_ROLES)
    list_display = ["center", "kind", "name_zh", "name_en", "deposit", "on_hand", "out_now", "loan_days", "active"]
    list_filter = ["kind", "active", CenterFilter]
    list_select_related = ["center"]
    search_fields = ["name_zh", "name_en", "center__code"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(out_count=Count("loans", filter=Q(loans__status=AmenityLoanStatus.OUT)))
        )

    @admin.display(description=_("out now"), ordering="out_count")
    def out_now(self, obj):
        return obj.out_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": actor_from_request(request)})

    def save_model(self, request, obj, form, change):
        """Through the service (locks the row, re-checks); what it refuses was shown on the form already
        (``AmenityForm.clean``). A refusal that appears only now (another save won a race) falls back to the
        message in ``changeform_view``."""
        data = form.cleaned_data
        saved = services.amenity_save(
            actor=actor_from_request(request),
            amenity_id=obj.pk if change else None,
            center_id=data["center"].pk,
            kind=data["kind"],
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            deposit=data["deposit"],
            on_hand=data["on_hand"],
            loan_days=data["loan_days"],
            active=data["active"],
            position=data["position"],
        )
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            _report_error(request, exc)
            return HttpResponseRedirect(request.get_full_path())


class AmenityCenterFilter(CenterFilter):
    field = "center"


class StockMoveCenterFilter(CenterFilter):
    field = "amenity__center"


@admin.register(AmenityStockMove)
class AmenityStockMoveAdmin(CenterScopedAdmin):
    """The amenities' stock history, read-only, for the center's managers (HQ: every center). Rows are written by
    the services that change a shelf (``services.amenity_save``, ``amenity_lend``, ``amenity_return``,
    ``amenity_mark_lost``); nothing here changes or deletes one."""

    center_field = "amenity__center"
    view_access = ROLES
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    roles = frozenset(services.AMENITY_STOCK_ROLES)
    list_display = ["at", "center", "amenity", "reason", "signed_delta", "on_hand_after", "by_label", "loan", "note"]
    list_filter = ["reason", "amenity__kind", StockMoveCenterFilter]
    list_select_related = ["amenity__center", "loan"]
    date_hierarchy = "at"
    search_fields = ["amenity__name_zh", "amenity__name_en", "amenity__center__code", "note"]
    fields = ["amenity", "reason", "delta", "on_hand_after", "loan", "by", "by_label", "at", "note"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("center"), ordering="amenity__center__code")
    def center(self, obj):
        return obj.amenity.center

    @admin.display(description=_("change"), ordering="delta")
    def signed_delta(self, obj):
        return f"{obj.delta:+d}"


class AmenityOverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue (still out past the due time)"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.amenity_loan_overdue_q())
        return queryset


class ReturnedElsewhereFilter(admin.SimpleListFilter):
    title = _("returned at another center")
    parameter_name = "elsewhere"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(returned_at_center__isnull=False).exclude(returned_at_center=F("center"))
        return queryset


@admin.register(AmenityLoan)
class AmenityLoanAdmin(LoanersAdmin):
    center_field = ("center", "returned_at_center")
    list_display = [
        "id",
        "center",
        "amenity",
        "borrower_name",
        "phone_masked",
        "deposit",
        "payment_method",
        "status",
        "lent_at",
        "due_back_at",
        "is_overdue",
        "returned_at",
        "returned_at_center",
    ]
    list_filter = ["status", "kind", AmenityOverdueFilter, ReturnedElsewhereFilter, AmenityCenterFilter]
    list_select_related = ["center", "amenity", "returned_at_center"]
    date_hierarchy = "lent_at"
    search_fields = ["=borrower_phone", "borrower_name"]
    readonly_fields = [
        "center",
        "amenity",
        "kind",
        "borrower_name",
        "phone_masked",
        "deposit",
        "payment_method",
        "payment_reference",
        "status",
        "lent_at",
        "due_back_at",
        "returned_at",
        "returned_at_center",
        "lost_at",
        "note",
        "lent_by",
        "closed_by",
    ]
    fields = readonly_fields

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("desk/", wrap(self.desk_view), name="loaners_amenityloan_desk"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "desk_url": reverse("admin:loaners_amenityloan_desk")}
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        # The phone is stored as E.164: a number typed as the borrower says it ("138 1234 5678") finds it too.
        from servicehub.phones import phone_normalize

        try:
            search_term = phone_normalize(search_term)
        except DomainError:
            pass
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("phone"))
    def phone_masked(self, obj):
        return mask_phone(obj.borrower_phone)

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.status == AmenityLoanStatus.OUT and obj.due_back_at < timezone.now()

    # --- the desk page ---------------------------------------------------------------------------------------

    def desk_view(self, request):
        if not has_any_role(request, services.AMENITY_DESK_ROLES):
            raise PermissionDenied
        actor, centers, choices, center = desk_center(
            request, services.AMENITY_DESK_ROLES, ServiceCenter.objects.filter(active=True)
        )
        desk_url = reverse("admin:loaners_amenityloan_desk")
        if request.method == "POST" and center is not None:
            self._desk_post(request, actor, center)
            return HttpResponseRedirect(desk_url + "?" + urlencode({"center": center.code}))
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Amenities at the desk"),
            "center": center,
            "centers": choices,
            "has_view_permission": True,
            "is_nav_sidebar_enabled": False,  # the whole width for the buttons (a tablet at the desk)
            "methods": PaymentMethod.choices,
            "kinds": AmenityKind.choices,
            "visits_desk_url": reverse("admin:outreach_visit_desk"),
        }
        if center is not None:
            out = selectors.amenity_loans_out(center_id=center.pk)
            for loan in out:
                loan.overdue = loan.due_back_at < now
                loan.phone_masked = mask_phone(loan.borrower_phone)
            overdue = selectors.amenity_loans_overdue(center_id=center.pk, now=now)
            today = timezone.localdate(now)
            for loan in overdue:
                loan.phone_masked = mask_phone(loan.borrower_phone)
                # Calendar days in Asia/Shanghai: due yesterday evening is "1 day" this morning.
                loan.days_overdue = (today - timezone.localdate(loan.due_back_at)).days
            context.update(amenities=selectors.amenities_at(center_id=center.pk), out=out, overdue=overdue)
        return TemplateResponse(request, "admin/loaners/amenityloan/desk.html", context)

    def _desk_post(self, request, actor, center) -> None:
        from payments.services import amenity_deposit_settle, amenity_deposit_take

        post = request.POST
        try:
            with transaction.atomic():
                if "return" in post or "lost" in post:
                    loan_id = int(post.get("return") or post.get("lost") or 0)
                    if "lost" in post:
                        loan = services.amenity_mark_lost(loan_id=loan_id, actor=actor)
                        amenity_deposit_settle(amenity_loan_id=loan.pk, actor=actor)
                        text = _("Marked lost: %(name)s (%(who)s); the deposit %(deposit)s CNY is kept.")
                    else:
                        loan = services.amenity_return(loan_id=loan_id, actor=actor, center_id=center.pk)
                        amenity_deposit_settle(amenity_loan_id=loan.pk, actor=actor)
                        if loan.deposit > 0:
                            text = _("Returned: %(name)s (%(who)s); give back the deposit %(deposit)s CNY.")
                        else:
                            text = _("Returned: %(name)s (%(who)s).")
                    self.message_user(
                        request,
                        text % {"name": loan.amenity.name, "who": loan.borrower_name, "deposit": loan.deposit},
                        messages.SUCCESS,
                    )
                elif "elsewhere" in post:
                    self._return_elsewhere(request, actor, center, amenity_deposit_settle)
                else:
                    loan = services.amenity_lend(
                        amenity_id=int(post.get("amenity") or 0),
                        borrower_name=post.get("borrower_name", ""),
                        borrower_phone=post.get("borrower_phone", ""),
                        payment_method=post.get("payment_method", ""),
                        reference=post.get("reference", ""),
                        actor=actor,
                    )
                    payment = amenity_deposit_take(amenity_loan_id=loan.pk, actor=actor)
                    if payment is None:
                        text = _("Lent: %(name)s to %(who)s, no deposit. Due back %(due)s.")
                    else:
                        text = LENT_WITH_DEPOSIT
                    self.message_user(
                        request,
                        text
                        % {
                            "name": loan.amenity.name,
                            "who": loan.borrower_name,
                            "deposit": loan.deposit,
                            "receipt": payment.receipt_no if payment else "",
                            "due": timezone.localtime(loan.due_back_at).strftime("%Y-%m-%d %H:%M"),
                        },
                        messages.SUCCESS,
                    )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        except ValueError:
            self.message_user(request, _("Not a valid request."), messages.ERROR)

    def _return_elsewhere(self, request, actor, center, settle) -> None:
        """An amenity lent at another center comes back here: found by the borrower's phone and its kind."""
        from servicehub.phones import phone_normalize

        phone = phone_normalize(request.POST.get("elsewhere_phone", ""), field="borrower_phone")
        kind = request.POST.get("elsewhere_kind", "")
        loan = selectors.amenity_loan_out_for_phone(phone=phone, kind=kind)
        if loan is None:
            raise DomainError("not_found", _("No such amenity is out for this phone number."), status=404)
        loan = services.amenity_return(loan_id=loan.pk, actor=actor, center_id=center.pk, borrower_phone=phone)
        settle(amenity_loan_id=loan.pk, actor=actor)
        self.message_user(
            request,
            _("Returned here: %(name)s lent at %(lender)s (%(who)s); give back the deposit %(deposit)s CNY.")
            % {
                "name": loan.amenity.name,
                "lender": loan.center.name,
                "who": loan.borrower_name,
                "deposit": loan.deposit,
            },
            messages.SUCCESS,
        )
