"""Payments API: take a payment for a ticket, refund a payment. Thin views over ``payments.services``.

Scope ``payments:write`` (staff sessions pass every scope). POSTs honour ``Idempotency-Key`` through
the project's middleware (``servicehub.api.idempotency``), like every other POST.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from repairs.selectors import ticket_for_actor
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import NotFound

from .. import services
from ..models import Payment
from .serializers import PaymentCreateSerializer, PaymentSerializer, RefundCreateSerializer, RefundSerializer

SCOPE = "payments:write"


class TicketPaymentsView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        summary="Take a payment for a ticket's amount due",
        request=PaymentCreateSerializer,
        responses={
            201: PaymentSerializer,
            400: problem("validation_error: method, or an amount under 0.01."),
            404: problem("not_found: no such ticket among the caller's centers."),
            409: problem("payment_not_due: nothing is payable now (with `amount_due`); busy."),
            422: problem(
                "amount_exceeds_due: more than is payable (with `amount_due`); "
                "validation_error: a card payment without `reference`."
            ),
            502: problem("provider_error: the QR provider refused the order."),
        },
    )
    def post(self, request, service_no: str):
        actor = actor_from_request(request)
        ticket = ticket_for_actor(service_no=service_no, actor=actor)
        if ticket is None:
            raise NotFound(_("No such ticket."))
        ser = PaymentCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        payment = services.payment_create(
            actor=actor,
            ticket_id=ticket.pk,
            method=data["method"],
            amount=data.get("amount"),
            reference=data.get("reference", ""),
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class PaymentRefundView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        summary="Refund a payment (in full or in part) to its method",
        request=RefundCreateSerializer,
        responses={
            201: RefundSerializer,
            400: problem("validation_error: reason, or an amount under 0.01."),
            404: problem("not_found: no such payment among the caller's centers."),
            409: problem("payment_not_refundable, payment_fully_refunded, busy."),
            422: problem("refund_exceeds_paid (with `refundable`)."),
            502: problem("provider_error: the provider refused the refund."),
        },
    )
    def post(self, request, pk: int):
        actor = actor_from_request(request)
        if not Payment.objects.filter(pk=pk).exists():
            raise NotFound(_("No such payment."))
        ser = RefundCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        refund = services.refund_create(
            payment_id=pk,
            actor=actor,
            amount=data.get("amount"),
            reason=data["reason"],
            keep_due=data.get("keep_due", False),
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)
