"""Staff pages for money: the payments list, and the counter's actions posted from the ticket workspace.

The workspace's "Take payment" box (``templates/payments/_ticket_box.html``, included by the repair
workspace) posts here: take a payment (cash, card with the terminal reference, or a WeChat/Alipay QR
shown on screen), cancel a waiting QR, refund, waive (managers), print the receipt. Every post calls a
``payments.services`` function and comes back with its message; nothing here holds a rule.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from repairs.admin import qr_svg
from repairs.models import RepairTicket
from repairs.selectors import tickets_visible
from servicehub.actors import actor_from_request
from servicehub.admin import NOBODY, SCOPE_OR_PERMISSIONS, CenterScopedAdmin
from servicehub.errors import DomainError
from servicehub.masking import mask_name

from . import services
from .choices import PaymentStatus
from .models import Payment
from .receipts import receipt_url


@admin.register(Payment)
class PaymentAdmin(CenterScopedAdmin):
    center_field = "center"
    view_access = SCOPE_OR_PERMISSIONS
    add_access = NOBODY
    change_access = NOBODY
    delete_access = NOBODY
    list_display = ["receipt_no", "order_no", "method", "amount", "refunded", "status", "center", "succeeded_at"]
    list_filter = ["status", "method"]
    search_fields = ["=receipt_no", "=order_no", "=ticket__service_no"]
    list_select_related = ["center"]
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    readonly_fields = [
        "center",
        "ticket",
        "loan",
        "plan_purchase",
        "method",
        "provider",
        "status",
        "amount",
        "refunded",
        "order_no",
        "provider_txn_id",
        "reference",
        "receipt_no",
        "created_by",
        "created_at",
        "succeeded_at",
    ]
    exclude = ["qr_payload"]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("ticket/<int:ticket_id>/pay/", wrap(self.pay_view), name="payments_ticket_pay"),
            path("ticket/<int:ticket_id>/waive/", wrap(self.waive_view), name="payments_ticket_waive"),
            path("<int:pk>/qr/", wrap(self.qr_view), name="payments_payment_qr"),
            path("<int:pk>/simulate/", wrap(self.simulate_view), name="payments_payment_simulate"),
            path("<int:pk>/cancel/", wrap(self.cancel_view), name="payments_payment_cancel"),
            path("<int:pk>/refund/", wrap(self.refund_view), name="payments_payment_refund"),
            path("<int:pk>/receipt/", wrap(self.receipt_view), name="payments_payment_receipt"),
            *super().get_urls(),
        ]

    # --- helpers --------------------------------------------------------------------------------

    def _ticket(self, request, ticket_id) -> RepairTicket:
        ticket = tickets_visible(actor=actor_from_request(request)).filter(pk=ticket_id).first()
        if ticket is None:
            raise Http404(gettext("No such ticket at your centers."))
        return ticket

    def _payment(self, request, pk) -> Payment:
        payment = (
            self.get_queryset(request)
            .select_related("center", "ticket__customer", "loan__ticket", "amenity_loan")
            .filter(pk=pk)
            .first()
        )
        if payment is None:
            raise Http404(gettext("No such payment at your centers."))
        return payment

    def _back(self, payment: Payment):
        if payment.ticket_id:
            return HttpResponseRedirect(reverse("admin:repairs_repairticket_change", args=[payment.ticket_id]))
        return HttpResponseRedirect(reverse("admin:payments_payment_change", args=[payment.pk]))

    def _ctx(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    # --- the counter's actions ------------------------------------------------------------------

    def pay_view(self, request, ticket_id):
        ticket = self._ticket(request, ticket_id)
        back = HttpResponseRedirect(reverse("admin:repairs_repairticket_change", args=[ticket.pk]))
        if request.method != "POST":
            return back
        try:
            payment = services.payment_create(
                actor=actor_from_request(request),
                ticket_id=ticket.pk,
                method=request.POST.get("method", ""),
                amount=request.POST.get("amount", "").strip() or None,
                reference=request.POST.get("reference", ""),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return back
        if payment.status == PaymentStatus.PENDING:
            return HttpResponseRedirect(reverse("admin:payments_payment_qr", args=[payment.pk]))
        self.message_user(
            request,
            gettext("Paid: ¥%(amount)s by %(method)s. Receipt %(no)s.")
            % {"amount": payment.amount, "method": payment.get_method_display(), "no": payment.receipt_no},
            level=messages.SUCCESS,
        )
        return back

    def qr_view(self, request, pk):
        """The QR for the customer to scan, on the counter's screen; reload to see it paid."""
        payment = self._payment(request, pk)
        return TemplateResponse(
            request,
            "admin/payments/payment/qr.html",
            self._ctx(
                request,
                gettext("Scan to pay"),
                payment=payment,
                qr=mark_safe(qr_svg(payment.qr_payload)) if payment.qr_payload else "",  # noqa: S308 (segno output)
                sandbox=payment.provider == "sandbox" and getattr(settings, "PAYMENT_SANDBOX_ENABLED", True),
            ),
        )

    def simulate_view(self, request, pk):
        """Sandbox only: act as the customer's phone -- send the signed notification a scan would cause."""
        from .views import sandbox_notify

        payment = self._payment(request, pk)
        if request.method != "POST" or payment.provider != "sandbox":
            return HttpResponseRedirect(reverse("admin:payments_payment_qr", args=[payment.pk]))
        if not getattr(settings, "PAYMENT_SANDBOX_ENABLED", True):
            raise Http404(gettext("The payment sandbox is disabled."))
        result = sandbox_notify(payment=payment)
        payment.refresh_from_db()
        if payment.status == PaymentStatus.SUCCEEDED:
            self.message_user(
                request,
                gettext("Paid: ¥%(amount)s by %(method)s. Receipt %(no)s.")
                % {"amount": payment.amount, "method": payment.get_method_display(), "no": payment.receipt_no},
                level=messages.SUCCESS,
            )
            return self._back(payment)
        self.message_user(request, gettext("The sandbox answered: %(r)s") % {"r": result}, level=messages.WARNING)
        return HttpResponseRedirect(reverse("admin:payments_payment_qr", args=[payment.pk]))

    def cancel_view(self, request, pk):
        payment = self._payment(request, pk)
        if request.method == "POST":
            try:
                services.payment_cancel(payment_id=payment.pk, actor=actor_from_request(request))
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(request, gettext("The QR payment was cancelled."), level=messages.SUCCESS)
        return self._back(payment)

    def refund_view(self, request, pk):
        payment = self._payment(request, pk)
        error = None
        if request.method == "POST":
            try:
                refund = services.refund_create(
                    payment_id=payment.pk,
                    actor=actor_from_request(request),
                    amount=request.POST.get("amount", "").strip() or None,
                    reason=request.POST.get("reason", ""),
                    keep_due=request.POST.get("keep_due") == "1",
                )
            except DomainError as exc:
                error = exc.message
            else:
                self.message_user(
                    request,
                    gettext("Refunded ¥%(amount)s to %(method)s.")
                    % {"amount": refund.amount, "method": payment.get_method_display()},
                    level=messages.SUCCESS,
                )
                return self._back(payment)
        return TemplateResponse(
            request,
            "admin/payments/payment/refund.html",
            self._ctx(
                request,
                gettext("Refund"),
                payment=payment,
                refundable=payment.amount - payment.refunded,
                error=error,
                data=request.POST if request.method == "POST" else {},
            ),
            status=400 if error else 200,
        )

    def waive_view(self, request, ticket_id):
        ticket = self._ticket(request, ticket_id)
        if request.method == "POST":
            try:
                amount = services.charge_waive(
                    actor=actor_from_request(request),
                    ticket_id=ticket.pk,
                    amount=request.POST.get("amount", "").strip() or None,
                    reason=request.POST.get("reason", ""),
                )
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(request, gettext("Waived ¥%(amount)s.") % {"amount": amount}, level=messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:repairs_repairticket_change", args=[ticket.pk]))

    def receipt_view(self, request, pk):
        """The printable receipt (A4 or 80 mm), with a QR to the public verify page."""
        payment = self._payment(request, pk)
        if payment.status != PaymentStatus.SUCCEEDED:
            raise Http404(gettext("Only a completed payment has a receipt."))
        url = receipt_url(payment.pk)
        customer = payment.ticket.customer if payment.ticket else None
        # An amenity's deposit: the borrower has no customer record, their name is on the loan.
        name = customer.name if customer else (payment.amenity_loan.borrower_name if payment.amenity_loan else "")
        return TemplateResponse(
            request,
            "admin/payments/payment/receipt.html",
            {
                "payment": payment,
                "verify_link": url,
                "qr": mark_safe(qr_svg(url)),  # noqa: S308 (segno output)
                "paper": "80mm" if request.GET.get("paper") == "80mm" else "a4",
                "printed_at": timezone.now(),
                "customer_name": mask_name(name) if name else "",
                "service_no": payment.ticket.service_no
                if payment.ticket
                else (payment.loan.ticket.service_no if payment.loan else ""),
                "kept": payment.amount - payment.refunded,
            },
        )
