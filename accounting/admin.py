"""The staff pages of accounting (the interface: no rules here).

- ``/admin/accounting/fapiaorequest/``: the fapiao requests of the user's centers (read-only; a failed one can
  be tried again); the ticket workspace's fapiao box posts to ``desk/<ticket_id>/``.
- ``/admin/accounting/dailyclose/``: "Daily close" for the worker's center: the day's figures per method,
  the count-the-cash form, differences with reasons, the history; HQ re-opens a closed day with a reason.
- ``/admin/accounting/revenuereport/``: the HQ revenue dashboard (by center, method and day; a date range
  and a province filter; charts from ``ops.charts``; the differences; CSV).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from centers.models import Region, ServiceCenter
from ops.charts import bar_chart, line_chart
from ops.periods import Period
from payments.choices import Method
from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, SCOPE, CenterScopedAdmin, has_any_role, sees_all_centers
from servicehub.csvsafe import csv_writer
from servicehub.dates import parse_day
from servicehub.errors import DomainError

from . import selectors, services
from .choices import RequestedVia
from .forms import DailyCloseForm, FapiaoForm, ReopenForm
from .models import DailyClose, FapiaoRequest, RevenueReport

COUNTER_ROLES = ("front_desk", "manager")


@admin.register(FapiaoRequest)
class FapiaoRequestAdmin(CenterScopedAdmin):
    center_field = "center"
    view_access = SCOPE
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ("created_at", "ticket", "title", "amount", "status", "invoice_number", "requested_via")
    list_filter = ("status", "requested_via", "buyer_type")
    list_select_related = ("ticket",)
    search_fields = ("=ticket__service_no", "=invoice_number", "title")
    exclude = ("document",)
    ordering = ("-created_at", "-pk")
    show_full_result_count = False

    def get_urls(self):
        urls = [
            path(
                "desk/<int:ticket_id>/",
                self.admin_site.admin_view(self.desk_request_view),
                name="accounting_fapiaorequest_desk",
            ),
            path(
                "<int:fapiao_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="accounting_fapiaorequest_retry",
            ),
        ]
        return urls + super().get_urls()

    def _back(self, ticket_id: int | None):
        if ticket_id is None:
            return HttpResponseRedirect(reverse("admin:accounting_fapiaorequest_changelist"))
        return HttpResponseRedirect(reverse("admin:repairs_repairticket_change", args=[ticket_id]) + "#ticket-fapiao")

    def desk_request_view(self, request, ticket_id: int):
        """The workspace box's form: the desk asks for a fapiao for the customer."""
        if request.method != "POST":
            return self._back(ticket_id)
        form = FapiaoForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return self._back(ticket_id)
        try:
            services.fapiao_request(
                actor=actor_from_request(request), ticket_id=ticket_id, via=RequestedVia.DESK, **form.cleaned_data
            )
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("Fapiao requested."))
        return self._back(ticket_id)

    def retry_view(self, request, fapiao_id: int):
        if request.method != "POST":
            raise PermissionDenied
        ticket_id = FapiaoRequest.objects.filter(pk=fapiao_id).values_list("ticket_id", flat=True).first()
        try:
            services.fapiao_retry(actor=actor_from_request(request), fapiao_id=fapiao_id)
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("The fapiao is being issued again."))
        return self._back(ticket_id)


def _close_center(request) -> ServiceCenter:
    """The center whose day is shown: ``?center=CODE`` among the user's, else their first one."""
    actor = actor_from_request(request)
    code = (request.GET.get("center") or request.POST.get("center") or "").strip()
    qs = ServiceCenter.objects.only("pk", "code", "name")
    if not actor.sees_all_centers:
        qs = qs.filter(pk__in=list(actor.center_ids or ()))
    center = qs.filter(code=code).first() if code else qs.order_by("code").first()
    if center is None:
        raise Http404("No such center")
    return center


@admin.register(DailyClose)
class DailyCloseAdmin(CenterScopedAdmin):
    """A page, not a table: the changelist is the daily close of one center and day."""

    center_field = "center"
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY

    def has_view_permission(self, request, obj=None):
        return has_any_role(request, COUNTER_ROLES)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path("", self.admin_site.admin_view(self.close_view), name="accounting_dailyclose_changelist"),
            path(
                "<int:close_id>/reopen/",
                self.admin_site.admin_view(self.reopen_view),
                name="accounting_dailyclose_reopen",
            ),
        ]

    def close_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        center = _close_center(request)
        today = selectors.local_today()
        day = parse_day(request.GET.get("date") or request.POST.get("date") or "") or today
        actor = actor_from_request(request)
        form = DailyCloseForm(request.POST or None)
        error = None
        status = 200
        if request.method == "POST" and form.is_valid():
            try:
                services.daily_close_close(
                    actor=actor,
                    center_id=center.pk,
                    business_date=day,
                    cash_counted=form.cleaned_data["cash_counted"],
                    reasons=form.reasons(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as err:
                error, status = err, (409 if err.status == 409 else 400)
            else:
                messages.success(request, _("The day is closed."))
                url = reverse("admin:accounting_dailyclose_changelist")
                return HttpResponseRedirect(f"{url}?center={center.code}&date={day:%Y-%m-%d}")
        elif request.method == "POST":
            status = 400
        figures = selectors.daily_close_figures(center_id=center.pk, business_date=day)
        counted = None
        if request.method == "POST" and form.is_valid():
            try:
                counted = services._money_in(form.cleaned_data["cash_counted"], field="cash_counted")
            except DomainError:
                counted = None
        for line in figures.lines:
            line.reason_input = str(form.data.get(f"reason_{line.method}", ""))  # type: ignore[attr-defined]
            if line.is_cash and not figures.is_closed:
                line.actual = counted
                line.difference = None if counted is None else counted - line.expected
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Daily close"),
            "center": center,
            "day": day,
            "today": today,
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1) if day < today else None,
            "figures": figures,
            "form": form,
            "error": error,
            "recent": selectors.daily_close_recent(center_id=center.pk, limit=14),
            "can_reopen": sees_all_centers(request) and actor.has_role("hq"),
            "reopen_form": ReopenForm(),
            "methods": Method.choices,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "accounting/daily_close.html", context, status=status)

    def reopen_view(self, request, close_id: int):
        if request.method != "POST":
            raise PermissionDenied
        close = DailyClose.objects.select_related("center").filter(pk=close_id).first()
        if close is None or not self.in_scope(request, close):
            raise Http404("No such close")
        form = ReopenForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError("reason_required", _("Say why the day is re-opened."))
            services.daily_close_reopen(
                actor=actor_from_request(request), close_id=close.pk, reason=form.cleaned_data["reason"]
            )
        except DomainError as err:
            messages.error(request, err.message)
        else:
            messages.success(request, _("The day is open again."))
        url = reverse("admin:accounting_dailyclose_changelist")
        return HttpResponseRedirect(f"{url}?center={close.center.code}&date={close.business_date:%Y-%m-%d}")


@admin.register(RevenueReport)
class RevenueReportAdmin(CenterScopedAdmin):
    """HQ revenue: the whole network for HQ members and superusers (managers: their centers)."""

    center_field = None
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY

    def has_view_permission(self, request, obj=None):
        return sees_all_centers(request) or has_any_role(request, ("manager",))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path("", self.admin_site.admin_view(self.dashboard_view), name="accounting_revenuereport_changelist"),
            path("csv/", self.admin_site.admin_view(self.csv_view), name="accounting_revenuereport_csv"),
        ]

    def _revenue(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        actor = actor_from_request(request)
        today = selectors.local_today()
        period = Period.parse(
            request.GET.get("start"), request.GET.get("end"), default=Period.last_days(30, today=today)
        )
        province = None
        raw = (request.GET.get("province") or "").strip()
        if raw:
            province = Region.objects.filter(adcode=raw).only("pk", "adcode", "name").first()
            if province is None:
                raise Http404("No such province")
        data = selectors.revenue(
            actor=actor, start=period.start, end=period.end, province_id=province.pk if province else None
        )
        return data, period, province

    def dashboard_view(self, request):
        data, period, province = self._revenue(request)
        labels = dict(Method.choices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Revenue by center, method and day"),
            "data": data,
            "period": period,
            "province": province,
            "methods": Method.choices,
            "day_chart": line_chart(
                [(f"{d:%m-%d}", v) for d, v in data.by_day], title=_("Net revenue per day (CNY)"), unit=""
            ),
            "method_chart": bar_chart(
                [(str(labels[m]), v) for m, v in data.by_method.items()],
                title=_("Net revenue by method (CNY)"),
                unit="",
                max_value=None,
            ),
            "center_chart": bar_chart(
                [(c["name"][:14], c["total"]) for c in data.by_center[:20]],
                title=_("Net revenue by center (CNY)"),
                unit="",
                max_value=None,
            ),
            "query": request.GET.urlencode(),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "accounting/revenue.html", context)

    def csv_view(self, request):
        data, period, _province = self._revenue(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"servicehub-revenue-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")
        writer = csv_writer(response)
        writer.writerow(["center", "name", *Method.values, "total"])
        for c in data.by_center:
            writer.writerow([c["code"], c["name"], *(c["methods"][m] for m in Method.values), c["total"]])
        return response
