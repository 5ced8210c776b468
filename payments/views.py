"""Public payment endpoints: provider notifications, the sandbox "scan" page, receipt verification.

No rules here: the notify view hands the raw request to ``services.notification_receive`` and answers
what the provider expects; the sandbox page sends the sandbox provider's signed notification.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from servicehub.errors import DomainError, NotFound
from servicehub.masking import mask_name

from . import services
from .choices import PaymentStatus
from .models import Payment
from .pay_links import pay_path, pay_ticket_id, plan_order_path
from .providers import sandbox
from .receipts import receipt_payment_id
from .selectors import ticket_money


def _headers(request: HttpRequest) -> dict[str, str]:
    return dict(request.headers.items())


@csrf_exempt  # providers cannot send our CSRF token; the signature is the proof
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    """``POST /payments/notify/<provider>/``: a provider tells us a payment's outcome."""
    try:
        answer, _result = services.notification_receive(
            provider=provider, headers=_headers(request), body=request.body, form=request.POST.dict()
        )
    except NotFound:
        raise Http404(_("No such payment provider.")) from None
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)


def sandbox_notify(*, payment: Payment) -> str:
    """Send the sandbox's signed notification for ``payment`` through the real notify path; the result."""
    headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
    _answer, result = services.notification_receive(provider="sandbox", headers=headers, body=body, form={})
    return result


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, order_no: str) -> HttpResponse:
    """What the customer's phone opens after scanning a sandbox QR: confirm, and the payment settles."""
    if not getattr(settings, "PAYMENT_SANDBOX_ENABLED", True):
        raise Http404(_("The payment sandbox is disabled."))
    payment = Payment.objects.filter(order_no=order_no, provider="sandbox").first()
    if payment is None:
        raise Http404(_("No such payment."))
    result = None
    if request.method == "POST" and payment.status == PaymentStatus.PENDING:
        result = sandbox_notify(payment=payment)
        payment.refresh_from_db()
    # As a provider's pay screen returns the customer to the shop: back to the ticket's pay page.
    back_url = (
        pay_path(payment.ticket_id)
        if payment.ticket_id
        else plan_order_path(payment.plan_purchase_id)
        if payment.plan_purchase_id
        else None
    )
    return render(request, "payments/sandbox_pay.html", {"payment": payment, "result": result, "back_url": back_url})


@require_http_methods(["GET", "POST"])
def customer_pay(request: HttpRequest, token: str) -> HttpResponse:
    """The customer pays what is due by WeChat Pay or Alipay: choose, then scan (or open) the QR."""
    from repairs.models import RepairTicket
    from repairs.tracking import tracking_path
    from repairs.workflow import CustomerActor

    ticket_id = pay_ticket_id(token)
    ticket = RepairTicket.objects.select_related("center").filter(pk=ticket_id).first() if ticket_id else None
    if ticket is None:
        raise Http404(_("This link is not valid any more. Open your repair again from the tracking page."))
    payment, error = None, None
    if request.method == "POST":
        try:
            payment = services.payment_create(
                actor=CustomerActor(ticket_id=ticket.pk), ticket_id=ticket.pk, method=request.POST.get("method", "")
            )
        except DomainError as exc:
            error = exc.message
    if payment is None:
        payment = Payment.objects.filter(ticket_id=ticket.pk, status=PaymentStatus.PENDING).order_by("-pk").first()
    balance = ticket_money(ticket)
    return render(
        request,
        "payments/customer_pay.html",
        {
            "ticket": ticket,
            "balance": balance,
            "payment": payment,
            "qr": mark_safe(segno.make(payment.qr_payload, error="m").svg_inline(scale=4, border=2))  # noqa: S308
            if payment is not None and payment.qr_payload
            else "",
            "error": error,
            "track_url": tracking_path(ticket.service_no),
        },
        status=400 if error else 200,
    )


def receipt_verify(request: HttpRequest, token: str) -> HttpResponse:
    """``/receipts/<token>/``: is this receipt real? The payment, the center, the masked name (2 queries)."""
    payment_id = receipt_payment_id(token)
    payment = (
        Payment.objects.select_related("center", "ticket__customer", "loan__customer", "loan__ticket", "amenity_loan")
        .filter(pk=payment_id, status=PaymentStatus.SUCCEEDED)
        .first()
        if payment_id
        else None
    )
    if payment is None:
        return render(request, "payments/receipt_verify.html", {"payment": None}, status=404)
    customer = payment.ticket.customer if payment.ticket else (payment.loan.customer if payment.loan else None)
    name = customer.name if customer else (payment.amenity_loan.borrower_name if payment.amenity_loan else "")
    service_no = (
        payment.ticket.service_no if payment.ticket else (payment.loan.ticket.service_no if payment.loan else "")
    )
    return render(
        request,
        "payments/receipt_verify.html",
        {
            "payment": payment,
            "masked_name": mask_name(name) if name else "",
            "service_no": service_no,
            "kept": payment.amount - payment.refunded,
        },
    )
