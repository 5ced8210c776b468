"""The staff UI for devices, the catalog, statutory policies, plans, purchases and claims.

Access follows the memberships (``servicehub.admin``, one actor per request):

- any staff member with a center (or HQ) can look devices up (one registry for the whole
  network), see their plans and claims, and the repairs of *their own* centers inline;
- the catalog, statutory policies and plan products are edited by HQ / superusers only;
- purchases: staff see the counter sales of their centers, HQ all; refunds and
  cancellations are admin actions calling ``warranty.services``;
- "Sell a plan at the counter" (``/admin/warranty/planpurchase/sell/``) is a form that calls
  ``plan_purchase_create`` and shows its refusals as readable form errors.

Nothing is deleted here (``PROTECT`` everywhere), and ``status``/``claims_used`` are never
edited directly.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from centers.choices import DeviceCategory
from centers.models import ServiceCenter
from payments.choices import Method
from payments.services import plan_order_take
from repairs.models import RepairTicket
from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, SCOPE, CenterScopedAdmin, CenterScopedTabularInline, has_center_scope
from servicehub.errors import DomainError

from . import selectors, services
from .choices import PurchaseChannel
from .identity import DEVICE_ID_REQUIRED, device_id_given
from .models import (
    Device,
    DeviceModel,
    PlanClaim,
    PlanPrice,
    PlanProduct,
    PlanPurchase,
    PlanPurchaseEvent,
    StatutoryPolicy,
)

COUNTER_ROLES = ("front_desk", "manager")


def _counter_centers(request):
    """Centers where the user may sell a plan (front desk / manager; HQ: all active centers)."""
    actor = actor_from_request(request)
    qs = ServiceCenter.objects.filter(active=True).order_by("code")
    if actor.sees_all_centers:
        return qs
    allowed = [cid for cid in (actor.center_ids or ()) if any(actor.has_role(r, cid) for r in COUNTER_ROLES)]
    return qs.filter(pk__in=allowed)


class ReadOnlyForStaffAdmin(CenterScopedAdmin):
    """Staff with a center see; HQ / superusers edit (configuration models)."""

    center_field = None  # one catalog and one registry for the whole network
    view_access = SCOPE
    add_access = HQ
    change_access = HQ
    delete_access = NOBODY  # deactivate instead (on_delete=PROTECT everywhere)


class ReadOnlyInline(CenterScopedTabularInline):
    extra = 0
    can_delete = False
    show_change_link = True
    # Access follows the memberships (like the parent admin), not Django's per-model permissions.
    center_field = None
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY


# --- catalog and policies --------------------------------------------------------------------


@admin.register(DeviceModel)
class DeviceModelAdmin(ReadOnlyForStaffAdmin):
    list_display = ["code", "name", "category", "tier", "release_date", "active"]
    list_filter = ["category", "tier", "active"]
    search_fields = ["code", "name"]
    ordering = ["category", "code"]


@admin.register(StatutoryPolicy)
class StatutoryPolicyAdmin(ReadOnlyForStaffAdmin):
    list_display = [
        "category",
        "return_days",
        "exchange_days",
        "repair_months",
        "battery_months",
        "charger_months",
        "cable_months",
        "earphones_months",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["category"]}),
        (
            _("Main unit"),
            {
                "fields": ["return_days", "exchange_days", "repair_months"],
                "description": _(
                    "Counted in local (Shanghai) dates from the sale day (day 0); the last day is included."
                ),
            },
        ),
        (_("Accessories"), {"fields": ["battery_months", "charger_months", "cable_months", "earphones_months"]}),
        (None, {"fields": ["notes"]}),
    ]


class PlanPriceInline(CenterScopedTabularInline):
    model = PlanPrice
    extra = 0
    can_delete = False
    fields = ["tier", "price"]
    center_field = None
    view_access = SCOPE
    add_access = HQ
    change_access = HQ
    delete_access = NOBODY


class PlanProductForm(forms.ModelForm):
    eligible_categories = forms.MultipleChoiceField(
        label=_("eligible categories"),
        choices=DeviceCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every category."),
    )

    class Meta:
        model = PlanProduct
        fields = [
            "code",
            "name",
            "kind",
            "description",
            "term_months",
            "claims_allowed",
            "fee_per_claim",
            "screen_fee_per_claim",
            "eligible_categories",
            "eligible_models",
            "purchase_window_days",
            "cooling_off_days",
            "on_sale",
        ]


@admin.register(PlanProduct)
class PlanProductAdmin(ReadOnlyForStaffAdmin):
    form = PlanProductForm
    list_display = [
        "code",
        "name",
        "kind",
        "term_months",
        "claims_allowed",
        "fee_per_claim",
        "screen_fee_per_claim",
        "purchase_window_days",
        "cooling_off_days",
        "on_sale",
        "price_list",
    ]
    list_filter = ["kind", "on_sale"]
    search_fields = ["code", "name"]
    filter_horizontal = ["eligible_models"]
    inlines = [PlanPriceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("prices")

    @admin.display(description=_("prices"))
    def price_list(self, obj):
        return ", ".join(f"{p.get_tier_display()}: {p.price}" for p in obj.prices.all())


# --- devices -----------------------------------------------------------------------------------


class RepairTicketInline(ReadOnlyInline):
    model = RepairTicket
    fk_name = "device"
    verbose_name = _("repair")
    verbose_name_plural = _("repairs (your centers)")
    fields = ["service_no", "center", "channel", "fault_category", "status", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    center_field = "center"  # the repairs of the actor's own centers only

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("center")


class DevicePlanPurchaseInline(ReadOnlyInline):
    model = PlanPurchase
    fk_name = "device"
    verbose_name_plural = _("plans")
    fields = ["product", "purchased_at", "starts_on", "ends_on", "status", "claims_used", "claims_allowed", "channel"]
    readonly_fields = fields
    ordering = ["-purchased_at", "-pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Device)
class DeviceAdmin(ReadOnlyForStaffAdmin):
    list_display = ["__str__", "model", "sold_at", "channel", "retailer", "created_at"]
    list_filter = ["channel", "model__category"]
    search_fields = ["=imei", "=serial", "model__code", "model__name"]
    list_select_related = ["model", "retailer"]
    autocomplete_fields = ["model"]
    raw_id_fields = ["retailer", "region"]
    readonly_fields = ["created_at", "coverage_today", "claims_table"]
    fields = [
        "imei",
        "serial",
        "model",
        "sold_at",
        "retailer",
        "channel",
        "region",
        "proof_of_purchase_note",
        "created_at",
        "coverage_today",
        "claims_table",
    ]
    inlines = [RepairTicketInline, DevicePlanPurchaseInline]
    show_full_result_count = False  # the registry is large: no COUNT(*) on every search

    def has_add_permission(self, request):
        return False  # retailers register by API; the front desk registers at check-in (repairs)

    @admin.display(description=_("coverage today"))
    def coverage_today(self, obj):
        if obj.pk is None:
            return "-"
        cov = selectors.device_coverage(device=obj)
        head = _("In warranty") if cov.in_warranty else _("Out of warranty")
        sell = reverse("admin:warranty_planpurchase_sell") + f"?device={obj.pk}"
        return format_html(
            "<strong>{}</strong> · {} {} · {} {} · {} {}<ul>{}</ul><a class='button' href='{}'>{}</a>",
            head,
            _("return until"),
            cov.return_until or "-",
            _("exchange until"),
            cov.exchange_until or "-",
            _("free repair until"),
            cov.extended_until or cov.repair_until or "-",
            format_html_join("", "<li>{}</li>", ((r,) for r in cov.reasons)),
            sell,
            _("Sell a plan at the counter"),
        )

    @admin.display(description=_("plan claims"))
    def claims_table(self, obj):
        claims = PlanClaim.objects.filter(purchase__device=obj).select_related("purchase__product", "ticket")
        if not claims:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    c.purchase.product.code,
                    c.ticket.service_no,
                    c.get_status_display(),
                    timezone.localtime(c.used_at).strftime("%Y-%m-%d %H:%M"),
                    c.fee,
                )
                for c in claims
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("plan"),
            _("repair"),
            _("status"),
            _("used at"),
            _("fee"),
            rows,
        )


# --- purchases -------------------------------------------------------------------------------


class PlanClaimInline(ReadOnlyInline):
    model = PlanClaim
    fields = ["ticket", "status", "fee", "used_at", "released_at", "actor_label"]
    readonly_fields = fields
    show_change_link = False


class PlanPurchaseEventInline(ReadOnlyInline):
    model = PlanPurchaseEvent
    fields = ["at", "action", "from_status", "to_status", "claims_used", "actor_label", "note"]
    readonly_fields = fields
    show_change_link = False


PAYMENT_METHODS = list(Method.choices)


class SellPlanForm(forms.Form):
    imei = forms.CharField(label=_("IMEI"), max_length=32, required=False)
    serial = forms.CharField(label=_("or serial number"), max_length=64, required=False)
    plan = forms.ModelChoiceField(label=_("plan"), queryset=PlanProduct.objects.none())
    center = forms.ModelChoiceField(label=_("sold at center"), queryset=ServiceCenter.objects.none())
    price = forms.DecimalField(
        label=_("price paid"),
        max_digits=10,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty = the list price for the device's tier."),
    )
    # The plan order is paid at the counter through payments (its charge and payment in the sale's transaction).
    payment_method = forms.ChoiceField(
        label=_("Paid by"),
        choices=[("", _("— choose how the customer pays —")), *PAYMENT_METHODS],
    )
    reference = forms.CharField(label=_("Payment reference"), max_length=64, required=False)

    def __init__(self, *args, centers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = PlanProduct.objects.filter(on_sale=True).order_by("code")
        self.fields["center"].queryset = centers

    def clean(self):
        data = super().clean()
        if not device_id_given(data.get("imei"), data.get("serial")):
            raise forms.ValidationError(DEVICE_ID_REQUIRED)
        return data


@admin.register(PlanPurchase)
class PlanPurchaseAdmin(CenterScopedAdmin):
    view_access = SCOPE
    add_access = NOBODY  # selling goes through the counter form (the service), never a raw row
    change_access = SCOPE  # needed for actions; every field is read-only
    delete_access = NOBODY
    list_display = [
        "id",
        "device",
        "product",
        "purchased_at",
        "starts_on",
        "ends_on",
        "price_paid",
        "channel",
        "status",
        "claims_used",
        "claims_allowed",
    ]
    list_filter = ["status", "channel", "product__kind", "product"]
    search_fields = ["=device__imei", "=device__serial"]
    date_hierarchy = "purchased_at"
    inlines = [PlanClaimInline, PlanPurchaseEventInline]
    actions = ["refund_selected", "cancel_selected"]
    readonly_fields = [
        "device",
        "product",
        "purchased_at",
        "starts_on",
        "ends_on",
        "price_paid",
        "channel",
        "partner",
        "center",
        "sold_by",
        "status",
        "claims_allowed",
        "claims_used",
        "refunded_amount",
        "closed_at",
        "created_at",
    ]
    fields = readonly_fields
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.plan_purchases_visible(actor=actor_from_request(request)).select_related("center", "sold_by")

    def get_urls(self):
        return [
            path("sell/", self.admin_site.admin_view(self.sell_view), name="warranty_planpurchase_sell"),
            *super().get_urls(),
        ]

    def _run(self, request, queryset, fn, done_message):
        done = 0
        for purchase in queryset.order_by("pk"):
            try:
                fn(purchase_id=purchase.pk, actor=actor_from_request(request))
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{purchase.pk} ({purchase.device}): {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Refund selected purchases (cooling-off, no claim used)"))
    def refund_selected(self, request, queryset):
        self._run(request, queryset, services.plan_purchase_refund, _("%(n)d purchase(s) refunded."))

    @admin.action(description=_("Cancel selected purchases (entered by mistake)"))
    def cancel_selected(self, request, queryset):
        self._run(request, queryset, services.plan_purchase_cancel, _("%(n)d purchase(s) cancelled."))

    def sell_view(self, request):
        """Sell a plan at the counter: the form collects, ``plan_purchase_create`` decides."""
        centers = _counter_centers(request)
        if not has_center_scope(request) or not centers.exists():
            raise PermissionDenied
        initial = {}
        device_id = request.GET.get("device")
        if device_id and device_id.isdigit():
            device = Device.objects.filter(pk=device_id).first()
            if device is not None:
                initial = {"imei": device.imei or "", "serial": "" if device.imei else (device.serial or "")}
        if centers.count() == 1:
            initial["center"] = centers.first()
        form = SellPlanForm(request.POST or None, initial=initial, centers=centers)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            device = selectors.device_find(imei=data["imei"], serial=data["serial"])
            if device is None:
                form.add_error(None, _("No device with this IMEI/serial is registered; check it in first."))
            else:
                try:
                    with transaction.atomic():
                        purchase = services.plan_purchase_create(
                            device=device,
                            plan_code=data["plan"].code,
                            price=data["price"],
                            channel=PurchaseChannel.STORE,
                            center=data["center"],
                            actor=actor_from_request(request),
                        )
                        plan_order_take(
                            plan_purchase_id=purchase.pk,
                            method=data["payment_method"],
                            reference=data["reference"],
                            actor=actor_from_request(request),
                        )
                except DomainError as exc:
                    field = {"purchased_at": None}.get(exc.field, exc.field)
                    form.add_error(field if field in form.fields else None, exc.message)
                else:
                    self.message_user(
                        request,
                        _("%(plan)s sold for %(device)s: %(price)s, valid %(start)s – %(end)s.")
                        % {
                            "plan": purchase.product.name,
                            "device": device,
                            "price": purchase.price_paid,
                            "start": purchase.starts_on,
                            "end": purchase.ends_on,
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:warranty_planpurchase_change", args=[purchase.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sell a plan at the counter"),
            "form": form,
            "opts": self.model._meta,
            "plans": selectors.plans_on_sale(),
        }
        return TemplateResponse(request, "admin/warranty/sell_plan.html", context)


@admin.register(PlanClaim)
class PlanClaimAdmin(CenterScopedAdmin):
    """Claims are written by repairs (quote approval) and released by cancellations: read-only here."""

    center_field = "ticket__center"
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY

    list_display = ["id", "purchase", "ticket", "status", "fee", "used_at", "released_at"]
    list_filter = ["status", "purchase__product__kind"]
    search_fields = ["=purchase__device__imei", "=ticket__service_no"]
    list_select_related = ["purchase__product", "purchase__device", "ticket"]
    readonly_fields = ["purchase", "ticket", "status", "fee", "used_at", "released_at", "actor_label"]
    fields = readonly_fields
