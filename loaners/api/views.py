"""Loans API: thin views over ``loaners.services`` / ``loaners.selectors``.

Every endpoint needs the ``loans:write`` scope (staff sessions pass every scope):
loan data carries a customer's deposit and payment references, so reading it
is limited to those who lend, not to every ``tickets:read`` key.
"""

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from centers.models import ServiceCenter
from payments.services import loan_deposit_settle, loan_deposit_take
from repairs.models import RepairTicket
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import DomainError, NotFound

from .. import selectors, services
from ..models import DepositEntry
from .filters import LoanFilter
from .serializers import (
    AvailabilitySerializer,
    LoanCreateSerializer,
    LoanDetailSerializer,
    LoanReturnResultSerializer,
    LoanReturnSerializer,
    LoanSerializer,
    ReturnPreviewSerializer,
)

SCOPE = "loans:write"


@extend_schema_view(
    list=extend_schema(
        summary="List loans at your centers",
        description="Paginated, newest first. Scope `loans:write`. Only loans of the caller's centers.",
        responses={200: LoanSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="A loan with its deposit ledger",
        responses={200: LoanDetailSerializer, 404: problem("not_found: no such loan at your centers.")},
    ),
)
class LoanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_scopes = {"*": SCOPE}
    serializer_class = LoanSerializer
    filterset_class = LoanFilter

    def get_queryset(self):
        actor = actor_from_request(self.request)
        qs = selectors.loans_visible(actor=actor).select_related("loaner__model", "ticket", "center")
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("entries", queryset=DepositEntry.objects.order_by("seq")))
        return qs.order_by("-out_at", "-pk")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return LoanDetailSerializer
        if self.action == "create":
            return LoanCreateSerializer
        if self.action == "return_loan":
            return LoanReturnSerializer
        if self.action == "return_preview":
            return LoanReturnSerializer
        return LoanSerializer

    @extend_schema(
        summary="Lend a loaner for a ticket",
        description=(
            "Picks an available, wiped loaner of the tier at the ticket's center, records the deposit hold "
            "(amount per tier and province; waived for plan holders where configured) and the customer's "
            "acceptance of the loan terms. `due_at` = the ticket's promised time (or now + default repair days) "
            "+ grace days."
        ),
        request=LoanCreateSerializer,
        responses={
            201: LoanSerializer,
            400: problem("validation_error: unknown tier or payment method, terms not accepted."),
            404: problem("not_found: no ticket with this service number at your centers."),
            409: problem(
                "invalid_transition: the ticket is not between received and ready; "
                "loan_exists: the ticket already has an open loan; "
                "overdue_loan: the customer has an overdue loan; "
                "no_loaner_available: none of this tier here — `nearby_centers` "
                "[{code, name, distance_km, available}] lists the nearest centers that have one; "
                "busy: someone else is changing the ticket right now (try again)."
            ),
        },
    )
    def create(self, request):
        body = LoanCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = actor_from_request(request)
        ticket_id = RepairTicket.objects.filter(service_no=data["ticket"]).values_list("pk", flat=True).first()
        if ticket_id is None:
            raise NotFound(_("No such ticket."))
        # The deposit's money goes through payments in the same transaction (docs/payments.md).
        with transaction.atomic():
            loan = services.loan_checkout(
                ticket_id=ticket_id,
                tier=data["tier"],
                payment_method=data["payment_method"],
                reference=data["reference"],
                terms_accepted=data["terms_accepted"],
                actor=actor,
            )
            loan_deposit_take(loan_id=loan.pk, actor=actor)
        loan = self.get_queryset().get(pk=loan.pk)
        return Response(LoanSerializer(loan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a loaner back and settle the deposit",
        description=(
            "Condition check and counter deductions (each with a reason); the late fee per day after `due_at` "
            "(local Asia/Shanghai days) and, for `lost`, the replacement value are added by the server. "
            "Deductions come out of the deposit; the rest is refunded; what the deposit cannot cover is `balance_due`."
        ),
        request=LoanReturnSerializer,
        responses={
            200: LoanReturnResultSerializer,
            400: problem("validation_error: unknown condition, deduction without a reason, zero or negative amount."),
            404: problem("not_found: no such loan at your centers."),
            409: problem("invalid_transition: the loan is not open (already returned or lost)."),
        },
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_loan(self, request, pk=None):
        body = LoanReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_from_request(request)
        loan = selectors.loan_get_for_actor(loan_id=pk, actor=actor)
        with transaction.atomic():
            loan = services.loan_return(
                loan_id=loan.pk,
                condition=body.validated_data["condition"],
                deductions=[dict(d) for d in body.validated_data["deductions"]],
                actor=actor,
            )
            loan_deposit_settle(loan_id=loan.pk, actor=actor)
        loan = self.get_queryset().prefetch_related("entries").get(pk=loan.pk)
        return Response(LoanReturnResultSerializer(loan).data)

    @extend_schema(
        summary="Preview a return (nothing is written)",
        description="The deductions, refund and balance due that `return` would write now.",
        request=LoanReturnSerializer,
        responses={
            200: ReturnPreviewSerializer,
            400: problem("validation_error"),
            404: problem("not_found"),
            409: problem("invalid_transition: the loan is not open."),
        },
    )
    @action(detail=True, methods=["post"], url_path="return-preview")
    def return_preview(self, request, pk=None):
        body = LoanReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_from_request(request)
        loan = selectors.loan_get_for_actor(loan_id=pk, actor=actor)
        preview = selectors.loan_return_preview(
            loan_id=loan.pk,
            condition=body.validated_data["condition"],
            deductions=[dict(d) for d in body.validated_data["deductions"]],
            actor=actor,
        )
        return Response(ReturnPreviewSerializer(preview).data)


class LoanerAvailabilityView(APIView):
    required_scopes = {"GET": SCOPE}

    @extend_schema(
        summary="Lendable loaners per tier at a center",
        description="Available and wiped loaners, by tier. Only the caller's centers.",
        parameters=[OpenApiParameter("center", str, required=True, description="Center code.")],
        responses={
            200: AvailabilitySerializer,
            400: problem("validation_error: `center` missing."),
            404: problem("not_found: no such center among yours."),
        },
    )
    def get(self, request):
        code = request.query_params.get("center", "").strip()
        if not code:
            raise DomainError("validation_error", _("Give a center code."), field="center")
        actor = actor_from_request(request)
        center = ServiceCenter.objects.filter(code=code).only("pk", "code").first()
        if center is None or not actor.can_see_center(center.pk):
            raise NotFound(_("No such center."))
        data = {"center": center.code, "tiers": selectors.loaner_availability(center_id=center.pk)}
        return Response(AvailabilitySerializer(data).data)
