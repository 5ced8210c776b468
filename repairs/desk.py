"""The counter's own admin pages: the engineer's bench and "today at the desk", the ticket list's
columns (the search is ``selectors.ticket_search_q``), and their entries on the admin index.

URLs (registered from ``RepairTicketAdmin.get_urls`` through ``desk_urls``):
``/admin/repairs/repairticket/bench/`` and ``/admin/repairs/repairticket/today/``.
The rules (who sees what, which tickets wait for whom) are in ``repairs.selectors``
(``bench_for``, ``desk_today``, ``contact_in_full``, ``staff_status_label``); the buttons post
to the ticket's transition URL, so every move still goes through ``ticket_transition``.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, ROLES, CenterScopedAdmin, has_any_role

from . import selectors
from .models import Bench, CounterCheckIn, DeskToday

BENCH_ROLES = frozenset({"engineer", "manager"})
DESK_ROLES = frozenset({"front_desk", "manager"})


# --- the ticket list ---------------------------------------------------------------------------------


def ticket_list_columns(actor) -> list:
    """The ticket list's columns for ``actor``: the customer in full for the desk and managers, masked
    for engineers (``selectors.contact_in_full``), the device, the status in staff words, the stage due."""
    from servicehub.masking import mask_name, mask_phone

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer(obj):
        c = obj.customer
        if selectors.contact_in_full(actor=actor, center_ids=(obj.center_id, obj.origin_center_id)):
            return format_html("{}<br><small>{}</small>", c.name, c.phone)
        return format_html("{}<br><small>{}</small>", mask_name(c.name), mask_phone(c.phone))

    @admin.display(description=_("device"), ordering="device__model__name")
    def device(obj):
        d = obj.device
        return format_html("{}<br><small>{}</small>", d.model.name, d.imei or d.serial or "")

    @admin.display(description=_("status"), ordering="status")
    def status(obj):
        return selectors.staff_status_label(obj.status)

    @admin.display(description=_("stage due"), ordering="stage_due_at")
    def stage_due(obj):
        if obj.stage_due_at is None:
            return "—"
        when = timezone.localtime(obj.stage_due_at).strftime("%m-%d %H:%M")
        if obj.is_sla_breached():
            return format_html('<strong class="overdue">{} ({})</strong>', when, gettext("overdue"))
        return when

    return ["service_no", customer, device, status, stage_due, "fault_category", "center", "engineer", "created_at"]


# --- pages ------------------------------------------------------------------------------------------


def desk_urls(model_admin, wrap) -> list:
    def ctx(request, title, **extra):
        return {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            **extra,
        }

    def bench_view(request):
        if not has_any_role(request, BENCH_ROLES):
            raise PermissionDenied
        here = reverse("admin:repairs_repairticket_bench")
        return TemplateResponse(
            request,
            "admin/repairs/repairticket/bench.html",
            ctx(
                request,
                gettext("Engineer's bench"),
                bench=selectors.bench_for(actor=actor_from_request(request)),
                here=here,
            ),
        )

    def today_view(request):
        if not has_any_role(request, DESK_ROLES):
            raise PermissionDenied
        actor = actor_from_request(request)
        now = timezone.now()
        day = selectors.desk_today(actor=actor, now=now)
        return TemplateResponse(
            request,
            "admin/repairs/repairticket/today.html",
            ctx(
                request,
                gettext("Today at the desk"),
                day=day,
                loans=_loans_due(actor=actor, now=now),
                sign_sessions=_sign_sessions_to_prepare(actor=actor, now=now),
                now=now,
            ),
        )

    return [
        path("bench/", wrap(bench_view), name="repairs_repairticket_bench"),
        path("today/", wrap(today_view), name="repairs_repairticket_today"),
    ]


def _loans_due(*, actor, now) -> list:
    """Loaners due back by the end of today (and overdue ones), from the loaners app's own scoping."""
    import datetime as dt

    from loaners.choices import OPEN_LOAN_STATUSES
    from loaners.selectors import loans_visible

    end = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    loans = loans_visible(actor=actor)
    ids = selectors.desk_center_ids(actor=actor)
    if ids is not None:
        loans = loans.filter(center_id__in=ids)
    rows = list(
        loans.filter(status__in=OPEN_LOAN_STATUSES, due_at__lt=end)
        .select_related("loaner__model", "customer", "ticket")
        .order_by("due_at", "pk")[:200]
    )
    for loan in rows:
        loan.is_late = loan.due_at < now
    return rows


def _sign_sessions_to_prepare(*, actor, now) -> list:
    """Sign-language video sessions of the desk's centers still to prepare (outreach's own selector); the button
    posts to ``admin:outreach_signlanguagesession_prepare`` (``outreach.signlang.sign_session_prepare``)."""
    from outreach.selectors import sign_sessions_to_prepare

    return sign_sessions_to_prepare(center_ids=selectors.desk_center_ids(actor=actor), now=now)


# --- entries on the admin index -----------------------------------------------------------------


class _EntryAdmin(CenterScopedAdmin):
    """A link on the admin index to one of the counter's pages, for the roles that use it."""

    center_field = None  # a page, not rows
    view_access = ROLES
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    target = ""

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"

        def go(request):
            if not self.has_view_permission(request):
                raise PermissionDenied
            return HttpResponseRedirect(reverse(self.target))

        return [path("", self.admin_site.admin_view(go), name=f"{prefix}_changelist")]


@admin.register(CounterCheckIn)
class CounterCheckInAdmin(_EntryAdmin):
    roles = DESK_ROLES
    target = "admin:repairs_repairticket_checkin"


@admin.register(Bench)
class BenchAdmin(_EntryAdmin):
    roles = BENCH_ROLES
    target = "admin:repairs_repairticket_bench"


@admin.register(DeskToday)
class DeskTodayAdmin(_EntryAdmin):
    roles = DESK_ROLES
    target = "admin:repairs_repairticket_today"
