"""三包 decisions in the staff admin: a read-only list, and the workspace box's two posts (inspect, decide)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext

from repairs.selectors import tickets_visible
from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, CenterScopedAdmin
from servicehub.errors import DomainError

from . import services
from .models import ReturnDecision


@admin.register(ReturnDecision)
class ReturnDecisionAdmin(CenterScopedAdmin):
    center_field = ("ticket__center", "ticket__origin_center")
    add_access = NOBODY  # decided on the ticket workspace through returns.services
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ("ticket", "kind", "rule_text", "refund_amount", "refund_status", "maker_status", "decided_at")
    list_filter = ("kind", "refund_status", "maker_status")
    search_fields = ("=ticket__service_no", "=device__imei", "=replacement__imei")
    list_select_related = ("ticket",)
    readonly_fields = [f.name for f in ReturnDecision._meta.fields]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("ticket/<int:pk>/inspect/", wrap(self.inspect_view), name="returns_returndecision_inspect"),
            path("ticket/<int:pk>/decide/", wrap(self.decide_view), name="returns_returndecision_decide"),
            *super().get_urls(),
        ]

    def _ticket(self, request, pk):
        ticket = tickets_visible(actor=actor_from_request(request)).filter(pk=pk).first()
        if ticket is None:
            raise Http404
        return ticket, reverse("admin:repairs_repairticket_change", args=[ticket.pk]) + "#returns-box"

    def inspect_view(self, request, pk):
        ticket, back = self._ticket(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(back)
        finding = request.POST.get("finding", "")
        try:
            services.inspection_record(
                ticket_id=ticket.pk,
                actor=actor_from_request(request),
                performance_fault=finding == "performance_fault",
                exclusion="" if finding in ("performance_fault", "none") else finding,
                findings=request.POST.get("findings", ""),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(request, gettext("Inspection recorded."), level=messages.SUCCESS)
        return HttpResponseRedirect(back)

    def decide_view(self, request, pk):
        ticket, back = self._ticket(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(back)
        try:
            decision = services.return_decide(
                ticket_id=ticket.pk,
                actor=actor_from_request(request),
                kind=request.POST.get("kind", ""),
                reason=request.POST.get("reason", ""),
                replacement_imei=request.POST.get("replacement_imei", ""),
                refund_amount=request.POST.get("refund_amount") or None,
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("Decision recorded: %(kind)s. %(rule)s")
                % {"kind": decision.get_kind_display(), "rule": decision.rule_text},
                level=messages.SUCCESS,
            )
        return HttpResponseRedirect(back)
