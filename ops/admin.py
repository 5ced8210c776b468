"""The dashboards inside the admin: ``/admin/ops/dashboard/`` (front desk) and ``/admin/ops/hq/``.

Who sees what:
- front desk dashboard: any staff user with an active membership (their centers),
  HQ members and superusers (the whole network, or one center with ``?center=CODE``);
- HQ dashboard: HQ members and superusers (network), center managers (their centers only).
Everyone else gets 403. Views hold no rules: scope comes from the actor, figures from selectors.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from centers.choices import StaffRole
from centers.models import ServiceCenter
from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, CenterScopedAdmin
from servicehub.csvsafe import csv_writer

from .figures import FIGURES, Ctx, cached_figure
from .models import HQ, Dashboard
from .periods import Period, local_today
from .selectors import reporting_snapshot


def scope_for(request, board: str) -> frozenset[int] | None:
    """Centers the user may see on ``board`` (``None`` = all); raises PermissionDenied if none."""
    user = request.user
    if not (user.is_active and user.is_staff):
        raise PermissionDenied
    actor = actor_from_request(request)
    if actor.sees_all_centers:
        return None
    if board == "hq":
        managed = frozenset(c for c, roles in actor.roles.items() if c is not None and StaffRole.MANAGER in roles)
        if not managed:
            raise PermissionDenied
        return managed
    if not actor.center_ids:
        raise PermissionDenied
    return actor.center_ids


class _DashboardAdmin(CenterScopedAdmin):
    board = "front"
    title = ""
    default_days = 30

    # A page, not a table: no add/change/delete, view only for those the scope allows (``scope_for``).
    center_field = None
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY

    def has_view_permission(self, request, obj=None):
        try:
            scope_for(request, self.board)
        except PermissionDenied:
            return False
        return True

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("", self.admin_site.admin_view(self.dashboard_view), name=f"{prefix}_changelist"),
            path("csv/<slug:key>/", self.admin_site.admin_view(self.csv_view), name=f"{prefix}_csv"),
        ]

    # --- request -> context ------------------------------------------------------------

    def _ctx(self, request, *, full: bool = False) -> tuple[Ctx, ServiceCenter | None]:
        scope = scope_for(request, self.board)
        center = None
        code = (request.GET.get("center") or "").strip()
        if code:
            center = ServiceCenter.objects.filter(code=code).only("pk", "code", "name").first()
            if center is None or (scope is not None and center.pk not in scope):
                raise Http404("No such center")  # same answer for "absent" and "not yours"
            scope = frozenset({center.pk})
        today = local_today()
        period = Period.parse(
            request.GET.get("start"), request.GET.get("end"), default=Period.last_days(self.default_days, today=today)
        )
        ctx = Ctx.build(center_ids=scope, period=period)
        if full:
            ctx = Ctx(center_ids=ctx.center_ids, period=ctx.period, today=ctx.today, now=ctx.now, full=True)
        return ctx, center

    def dashboard_view(self, request):
        ctx, center = self._ctx(request)
        with reporting_snapshot():
            tables = [cached_figure(self.board, key, fn, ctx) for key, fn in FIGURES[self.board].items()]
        query = request.GET.urlencode()
        csv_base = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_csv", args=["KEY"])
        for t in tables:
            t.csv_url = csv_base.replace("KEY", t.key) + (f"?{query}" if query else "")
        my_centers = []
        if ctx.center_ids is not None and center is None:
            my_centers = list(
                ServiceCenter.objects.filter(pk__in=ctx.center_ids).order_by("code").values("code", "name")[:50]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.title,
            "tables": tables,
            "ctx": ctx,
            "center": center,
            "my_centers": my_centers,
            "board": self.board,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "ops/dashboard.html", context)

    def csv_view(self, request, key: str):
        fn = FIGURES[self.board].get(key)
        if fn is None:
            raise Http404("No such figure")
        ctx, _center = self._ctx(request, full=True)
        with reporting_snapshot():
            table = fn(ctx)  # downloads are always computed fresh
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"servicehub-{key}-{ctx.period.start:%Y%m%d}-{ctx.period.end:%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese names as UTF-8
        writer = csv_writer(response)  # formula-neutral (servicehub.csvsafe)
        writer.writerow(table.header())
        for row in table.values():
            writer.writerow(row)
        return response


@admin.register(Dashboard)
class FrontDeskDashboardAdmin(_DashboardAdmin):
    board = "front"
    title = _("Front desk dashboard")
    default_days = 30


@admin.register(HQ)
class HQDashboardAdmin(_DashboardAdmin):
    board = "hq"
    title = _("HQ dashboard")
    default_days = 30
