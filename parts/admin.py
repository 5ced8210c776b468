"""Staff pages for parts (an interface): the catalog, stock (read-only), the ledger (read-only), replenishment
requests and transfers (ship and receive through ``parts.services``), return batches to the maker, reorder
points, counts, and HQ's stock and waits by region.

Nothing here changes a counter by itself: every action calls a service, which locks, re-checks and writes the
ledger row. Staff see the rows of their centers (``CenterScopedAdmin``); HQ sees all.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from centers.models import ServiceCenter
from servicehub.actors import actor_from_request
from servicehub.admin import HQ, NOBODY, SCOPE, CenterScopedAdmin, has_center_scope
from servicehub.errors import DomainError

from . import selectors, services
from .choices import BatchStatus, CountStatus
from .models import (
    MakerReturnBatch,
    MakerReturnLine,
    OperationPart,
    Part,
    PartReservation,
    ReorderPoint,
    ReplenishmentRequest,
    StockCount,
    StockLevel,
    StockMove,
    StockTransfer,
)


class PartsAdmin(CenterScopedAdmin):
    """Staff with a center (or HQ) see their locations' rows; states change through the services only."""

    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    center_field = "location"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- catalog ------------------------------------------------------------------------------------------


class OperationPartInline(admin.TabularInline):
    model = OperationPart
    extra = 0
    autocomplete_fields = ["operation"]
    can_delete = False


@admin.register(Part)
class PartAdmin(PartsAdmin):
    """The catalog: every staff member reads it, HQ edits it (deactivate instead of delete)."""

    center_field = None
    add_access = HQ
    change_access = HQ
    list_display = ["part_number", "name_zh", "name_en", "kind", "grade", "serial_tracked", "cost", "active"]
    list_filter = ["kind", "grade", "serial_tracked", "active"]
    search_fields = ["part_number", "name_zh", "name_en"]
    filter_horizontal = ["device_models"]
    inlines = [OperationPartInline]


# --- stock and the ledger -------------------------------------------------------------------------------


def _locations(actor):
    qs = ServiceCenter.objects.order_by("code")
    return qs if actor.sees_all_centers else qs.filter(pk__in=list(actor.center_ids or ()))


def _form_page(model_admin, request, form, title, submit, extra=None):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "submit": submit,
        **(extra or {}),
    }
    return TemplateResponse(request, "admin/parts/stock_form.html", context)


class ReceiveForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=ServiceCenter.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(active=True).order_by("part_number"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    serials = forms.CharField(
        label=_("Serials (serial-tracked parts: one per unit, separated by spaces or lines)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reference = forms.CharField(label=_("Reference (delivery note)"), required=False, max_length=200)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class AdjustForm(forms.Form):
    delta = forms.IntegerField(label=_("Change (negative to take off)"))
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ReorderPointForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=ServiceCenter.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.filter(active=True).order_by("part_number"))
    min_available = forms.IntegerField(label=_("Reorder point (available below this)"), min_value=0)
    reorder_qty = forms.IntegerField(label=_("Order quantity"), min_value=1)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


class LocationForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=ServiceCenter.objects.none())

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations


@admin.register(StockLevel)
class StockLevelAdmin(PartsAdmin):
    list_display = ["location", "part", "on_hand", "reserved", "available", "updated_at", "adjust_link"]
    list_filter = ["part__kind", "part__grade"]
    list_select_related = ["location", "part"]
    search_fields = ["part__part_number", "location__code", "location__name"]
    readonly_fields = ["location", "part", "on_hand", "reserved", "updated_at"]

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.on_hand - obj.reserved

    @admin.display(description=_("adjust"))
    def adjust_link(self, obj):
        url = reverse("admin:parts_stocklevel_adjust", args=[obj.pk])
        return format_html('<a href="{}" class="adjust-link">{}</a>', url, gettext("Adjust"))

    def get_urls(self):
        urls = [
            path(
                "by-region/",
                self.admin_site.admin_view(self.by_region_view),
                name="parts_stocklevel_by_region",
            ),
            path("receive/", self.admin_site.admin_view(self.receive_view), name="parts_stocklevel_receive"),
            path("<int:pk>/adjust/", self.admin_site.admin_view(self.adjust_view), name="parts_stocklevel_adjust"),
        ]
        return urls + super().get_urls()

    def receive_view(self, request):
        """Book parts received from the maker (``services.stock_receive``)."""
        if not has_center_scope(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        form = ReceiveForm(request.POST or None, locations=_locations(actor))
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.stock_receive(
                    actor=actor,
                    location_id=d["location"].pk,
                    part_id=d["part"].pk,
                    quantity=d["quantity"],
                    serials=d["serials"].split() or None,
                    reason=d["reference"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Stock received."))
                return HttpResponseRedirect(reverse("admin:parts_stocklevel_changelist"))
        return _form_page(self, request, form, gettext("Receive stock"), gettext("Receive"))

    def adjust_view(self, request, pk):
        """Correct on_hand with a reason (``services.stock_adjust``); another center's row is a 404."""
        level = get_object_or_404(self.get_queryset(request).select_related("location", "part"), pk=pk)
        actor = actor_from_request(request)
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.stock_adjust(
                    actor=actor,
                    location_id=level.location_id,
                    part_id=level.part_id,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Stock adjusted."))
                return HttpResponseRedirect(reverse("admin:parts_stocklevel_changelist"))
        title = gettext("Adjust %(part)s at %(location)s (on hand %(n)d)") % {
            "part": level.part.part_number,
            "location": level.location.code,
            "n": level.on_hand,
        }
        return _form_page(self, request, form, title, gettext("Adjust"))

    def by_region_view(self, request):
        """HQ's view: stock, usage, stock-outs and parts waits per province (a manager sees their centers)."""
        if not has_center_scope(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        rows = selectors.stock_by_region(actor=actor)
        summary = selectors.parts_dashboard(center_ids=actor.center_ids)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Parts stock and waits by region"),
            "rows": rows,
            "summary": summary,
        }
        return TemplateResponse(request, "admin/parts/stock_by_region.html", context)


@admin.register(StockMove)
class StockMoveAdmin(PartsAdmin):
    """The append-only ledger: read, never edited or deleted."""

    list_display = [
        "at",
        "location",
        "part",
        "kind",
        "quantity",
        "on_hand_after",
        "reserved_after",
        "ticket",
        "reason",
        "actor_label",
    ]
    list_filter = ["kind"]
    list_select_related = ["location", "part", "ticket"]
    search_fields = ["part__part_number", "ticket__service_no", "location__code"]
    readonly_fields = [f.name for f in StockMove._meta.fields]
    date_hierarchy = "at"


@admin.register(PartReservation)
class PartReservationAdmin(PartsAdmin):
    list_display = ["ticket", "part", "location", "status", "unit", "fitted_serial", "removed_serial", "created_at"]
    list_filter = ["status"]
    list_select_related = ["ticket", "part", "location", "unit"]
    search_fields = ["ticket__service_no", "part__part_number"]
    readonly_fields = [f.name for f in PartReservation._meta.fields]


# --- replenishment and transfers ------------------------------------------------------------------------


class ShipForm(ActionForm):
    seal_no = forms.CharField(label=_("Seal number"), required=False, max_length=40)


@admin.register(ReplenishmentRequest)
class ReplenishmentRequestAdmin(PartsAdmin):
    """What centers ask their hub for; the hub ships it from here (action with the parcel's seal number)."""

    center_field = ("center", "hub")
    list_display = ["pk", "created_at", "center", "hub", "part", "quantity", "status", "ticket"]
    list_filter = ["status"]
    list_select_related = ["center", "hub", "part", "ticket"]
    search_fields = ["part__part_number", "center__code", "ticket__service_no"]
    readonly_fields = [f.name for f in ReplenishmentRequest._meta.fields]
    action_form = ShipForm
    actions = ["ship"]

    @admin.action(description=_("Ship from the hub (seal number below)"))
    def ship(self, request, queryset):
        actor = actor_from_request(request)
        seal = request.POST.get("seal_no", "")
        ok = 0
        for req in queryset.order_by("pk"):
            try:
                services.transfer_ship(
                    actor=actor,
                    from_location_id=req.hub_id or 0,
                    to_location_id=req.center_id,
                    part_id=req.part_id,
                    quantity=req.quantity,
                    seal_no=seal,
                    replenishment_id=req.pk,
                    serials=self._free_serials(req),
                )
                ok += 1
            except DomainError as exc:
                messages.error(request, f"R{req.pk}: {exc.message}")
        if ok:
            messages.success(request, gettext("%(n)d transfer(s) shipped.") % {"n": ok})

    @staticmethod
    def _free_serials(req) -> list[str] | None:
        """Serial-tracked parts ship the oldest free units at the hub (the packer scans the same ones)."""
        if not req.part.serial_tracked or not req.hub_id:
            return None
        return list(
            req.part.units.filter(location_id=req.hub_id, status="in_stock")
            .order_by("pk")
            .values_list("serial", flat=True)[: req.quantity]
        )


@admin.register(StockTransfer)
class StockTransferAdmin(PartsAdmin):
    center_field = ("from_location", "to_location")
    list_display = [
        "pk",
        "shipped_at",
        "from_location",
        "to_location",
        "part",
        "quantity",
        "seal_no",
        "status",
        "received_at",
    ]
    list_filter = ["status"]
    list_select_related = ["from_location", "to_location", "part"]
    search_fields = ["seal_no", "part__part_number"]
    readonly_fields = [f.name for f in StockTransfer._meta.fields]
    actions = ["receive"]

    @admin.action(description=_("Receive (the seal is intact)"))
    def receive(self, request, queryset):
        actor = actor_from_request(request)
        ok, resumed = 0, 0
        for transfer in queryset.order_by("pk"):
            try:
                result = services.transfer_receive(actor=actor, transfer_id=transfer.pk)
                ok += 1
                resumed += len(result.resumed_ticket_ids)
            except DomainError as exc:
                messages.error(request, f"T{transfer.pk}: {exc.message}")
        if ok:
            messages.success(
                request,
                gettext("%(n)d transfer(s) received; %(r)d repair(s) resumed.") % {"n": ok, "r": resumed},
            )


# --- return batches --------------------------------------------------------------------------------------


class BatchForm(ActionForm):
    number = forms.CharField(label=_("Seal or tracking number"), required=False, max_length=40)


class MakerReturnLineInline(ReadOnlyInline):
    model = MakerReturnLine
    fields = ["added_at", "part", "serial", "imei", "ticket", "reason"]
    readonly_fields = fields


@admin.register(MakerReturnBatch)
class MakerReturnBatchAdmin(PartsAdmin):
    list_display = ["code", "location", "status", "line_count", "seal_no", "tracking_no", "created_at", "shipped_at"]
    list_filter = ["status"]
    list_select_related = ["location"]
    search_fields = ["code", "seal_no", "tracking_no", "lines__serial", "lines__imei"]
    readonly_fields = [f.name for f in MakerReturnBatch._meta.fields]
    inlines = [MakerReturnLineInline]
    action_form = BatchForm
    actions = ["seal", "ship", "mark_received"]

    @admin.display(description=_("items"))
    def line_count(self, obj):
        return obj.lines.count()

    def _advance(self, request, queryset, to_status: str, **numbers) -> None:
        actor = actor_from_request(request)
        for batch in queryset.order_by("pk"):
            try:
                services.return_batch_advance(actor=actor, batch_id=batch.pk, to_status=to_status, **numbers)
                messages.success(request, gettext("%(code)s: done.") % {"code": batch.code})
            except DomainError as exc:
                messages.error(request, f"{batch.code}: {exc.message}")

    @admin.action(description=_("Seal (seal number below)"))
    def seal(self, request, queryset):
        self._advance(request, queryset, BatchStatus.SEALED, seal_no=request.POST.get("number", ""))

    @admin.action(description=_("Ship to the maker (tracking number below)"))
    def ship(self, request, queryset):
        self._advance(request, queryset, BatchStatus.SHIPPED, tracking_no=request.POST.get("number", ""))

    @admin.action(description=_("Received by the maker"))
    def mark_received(self, request, queryset):
        self._advance(request, queryset, BatchStatus.RECEIVED)


# --- reorder points and counts ------------------------------------------------------------------------------


@admin.register(ReorderPoint)
class ReorderPointAdmin(PartsAdmin):
    """Reorder points are set through ``services.reorder_point_set`` (managers); suggestions per location."""

    list_display = ["location", "part", "min_available", "reorder_qty", "edit_link"]
    list_select_related = ["location", "part"]
    search_fields = ["part__part_number", "location__code"]
    change_list_template = "admin/parts/reorderpoint/change_list.html"

    @admin.display(description=_("edit"))
    def edit_link(self, obj):
        url = reverse("admin:parts_reorderpoint_set") + f"?location={obj.location_id}&part={obj.part_id}"
        return format_html('<a href="{}" class="edit-link">{}</a>', url, gettext("Edit"))

    def get_urls(self):
        urls = [
            path("set/", self.admin_site.admin_view(self.set_view), name="parts_reorderpoint_set"),
            path("suggested/", self.admin_site.admin_view(self.suggested_view), name="parts_reorderpoint_suggested"),
        ]
        return urls + super().get_urls()

    def set_view(self, request):
        if not has_center_scope(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        locations = _locations(actor)
        initial = {}
        if request.method != "POST" and request.GET.get("location") and request.GET.get("part"):
            point = (
                self.get_queryset(request)
                .filter(location_id=request.GET["location"], part_id=request.GET["part"])
                .first()
            )
            if point is None:
                raise Http404
            initial = {
                "location": point.location_id,
                "part": point.part_id,
                "min_available": point.min_available,
                "reorder_qty": point.reorder_qty,
            }
        form = ReorderPointForm(request.POST or None, initial=initial, locations=locations)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                services.reorder_point_set(
                    actor=actor,
                    location_id=d["location"].pk,
                    part_id=d["part"].pk,
                    min_available=d["min_available"],
                    reorder_qty=d["reorder_qty"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Reorder point saved."))
                return HttpResponseRedirect(reverse("admin:parts_reorderpoint_changelist"))
        return _form_page(self, request, form, gettext("Set a reorder point"), gettext("Save"))

    def suggested_view(self, request):
        """What to order for one location (``selectors.reorder_suggestions``)."""
        if not has_center_scope(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        locations = _locations(actor)
        form = LocationForm(request.GET or None, locations=locations)
        rows = None
        if form.is_valid():
            rows = selectors.reorder_suggestions(location_id=form.cleaned_data["location"].pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Suggested orders"),
            "form": form,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/parts/reorder_suggestions.html", context)


@admin.register(StockCount)
class StockCountAdmin(PartsAdmin):
    """Counts: open one for a location, enter what is on the shelf per line, close it (variances become adjust
    moves), all through ``parts.services``."""

    list_display = ["pk", "location", "status", "created_at", "created_by_label", "closed_at"]
    list_filter = ["status"]
    list_select_related = ["location"]
    readonly_fields = [f.name for f in StockCount._meta.fields]
    change_list_template = "admin/parts/stockcount/change_list.html"

    def get_urls(self):
        urls = [path("open/", self.admin_site.admin_view(self.open_view), name="parts_stockcount_open")]
        return urls + super().get_urls()

    def open_view(self, request):
        if not has_center_scope(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        form = LocationForm(request.POST or None, locations=_locations(actor))
        if request.method == "POST" and form.is_valid():
            try:
                count = services.stock_count_open(actor=actor, location_id=form.cleaned_data["location"].pk)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, gettext("Stock count opened."))
                return HttpResponseRedirect(reverse("admin:parts_stockcount_change", args=[count.pk]))
        return _form_page(self, request, form, gettext("Open a stock count"), gettext("Open count"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """One input per line; "Save counts" records them, "Close count" records and closes."""
        count = get_object_or_404(self.get_queryset(request).select_related("location"), pk=object_id)
        actor = actor_from_request(request)
        lines = list(count.lines.select_related("part").order_by("part__part_number"))
        errors: list[str] = []
        values = {line.part_id: "" if line.counted is None else str(line.counted) for line in lines}
        if request.method == "POST":
            counts: dict[int, int] = {}
            for line in lines:
                raw = request.POST.get(f"counted-{line.part_id}", "").strip()
                values[line.part_id] = raw
                if raw == "":
                    continue
                try:
                    n = int(raw)
                except ValueError:
                    n = -1
                if n < 0:
                    errors.append(
                        gettext("%(part)s: enter a whole number, zero or more.") % {"part": line.part.part_number}
                    )
                counts[line.part_id] = n
            if not errors:
                try:
                    with transaction.atomic():  # a refused close keeps nothing of this POST
                        services.stock_count_record(actor=actor, count_id=count.pk, counts=counts)
                        moves = (
                            services.stock_count_close(actor=actor, count_id=count.pk)
                            if "close" in request.POST
                            else None
                        )
                except DomainError as exc:
                    errors.append(exc.message)
                else:
                    if moves is None:
                        messages.success(request, gettext("Counts saved."))
                    else:
                        messages.success(
                            request, gettext("Count closed; %(n)d adjustment(s) booked.") % {"n": len(moves)}
                        )
                    return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Stock count C%(id)s at %(location)s") % {"id": count.pk, "location": count.location.code},
            "count": count,
            "is_open": count.status == CountStatus.OPEN,
            "rows": [(line, values[line.part_id]) for line in lines],
            "errors": errors,
        }
        return TemplateResponse(request, "admin/parts/stock_count.html", context, status=400 if errors else 200)
