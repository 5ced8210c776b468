"""Amenity loans over the API (issue #22): lend an umbrella or a power bank at a center's desk against its deposit,
take it back (at that center or another one), list what is out.

Scopes: ``visits:write`` to lend and take back, ``visits:read`` to list (the desk's scopes: amenities are lent at
the quick-visits desk). Callers see the loans of their centers -- lent there, or brought back there -- and nothing
else (404). The borrower's phone is never answered in full (last four digits).
"""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from centers.models import ServiceCenter
from payments.services import amenity_deposit_settle, amenity_deposit_take
from servicehub.actors import actor_from_request
from servicehub.api.schema import BlankAsNullChoiceField, problem
from servicehub.errors import NotFound

from .. import selectors, services
from ..choices import AmenityKind, AmenityLoanStatus, PaymentMethod
from ..models import Amenity, AmenityLoan


class AmenityLoanCreateSerializer(serializers.Serializer):
    center = serializers.CharField(max_length=32, help_text="The lending center's code.")
    kind = serializers.ChoiceField(choices=AmenityKind.choices)
    borrower_name = serializers.CharField(max_length=60)
    borrower_phone = serializers.CharField(max_length=20, help_text="Any valid phone number; mainland mobile or +CC.")
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="How the deposit is paid at the counter; may be omitted when the amenity's deposit is 0.",
    )
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AmenityLoanReturnSerializer(serializers.Serializer):
    center = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text="Where it came back; default: lender."
    )
    borrower_phone = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed when it comes back to another center: the borrower's phone number, as they tell the desk.",
    )


class AmenityLoanLostSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class AmenityLoanSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.code", read_only=True)
    amenity = serializers.SerializerMethodField(help_text="The amenity's name in the caller's language.")
    borrower_phone_last4 = serializers.SerializerMethodField()
    payment_method = BlankAsNullChoiceField(choices=PaymentMethod.choices, help_text="null when no deposit.")
    returned_at_center = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text="Still out past due_back_at.")

    class Meta:
        model = AmenityLoan
        fields = [
            "id",
            "center",
            "kind",
            "amenity",
            "borrower_name",
            "borrower_phone_last4",
            "deposit",
            "payment_method",
            "status",
            "lent_at",
            "due_back_at",
            "overdue",
            "returned_at",
            "returned_at_center",
            "lost_at",
        ]
        read_only_fields = fields

    def get_amenity(self, obj) -> str:
        return obj.amenity.name

    def get_borrower_phone_last4(self, obj) -> str:
        return obj.borrower_phone[-4:]

    def get_overdue(self, obj) -> bool:
        return obj.status == AmenityLoanStatus.OUT and obj.due_back_at < timezone.now()


class AmenityLoanResultSerializer(AmenityLoanSerializer):
    refunded = serializers.DecimalField(
        max_digits=10, decimal_places=2, read_only=True, help_text="Given back now, to the deposit's method."
    )
    receipt_no = serializers.CharField(read_only=True, allow_blank=True, help_text="The deposit's receipt number.")

    class Meta(AmenityLoanSerializer.Meta):
        fields = [*AmenityLoanSerializer.Meta.fields, "refunded", "receipt_no"]
        read_only_fields = fields


class AmenityLoanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AmenityLoanStatus.choices)
    kind = django_filters.ChoiceFilter(choices=AmenityKind.choices)
    center = django_filters.CharFilter(field_name="center__code", help_text="The lending center's code.")
    overdue = django_filters.BooleanFilter(method="filter_overdue", help_text="true: still out past due_back_at.")

    class Meta:
        model = AmenityLoan
        fields = ["status", "kind", "center", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = selectors.amenity_loan_overdue_q()
        return queryset.filter(late) if value else queryset.exclude(late)


def _result(loan: AmenityLoan, *, refunded=None, receipt_no: str = "") -> dict:
    loan = AmenityLoan.objects.select_related("center", "amenity", "returned_at_center").get(pk=loan.pk)
    loan.refunded = refunded if refunded is not None else 0
    loan.receipt_no = receipt_no
    return AmenityLoanResultSerializer(loan).data


@extend_schema_view(
    list=extend_schema(
        summary="Amenity loans at your centers",
        description="Paginated, newest first. Scope `visits:read`. Loans lent at, or brought back to, your centers.",
        responses={200: AmenityLoanSerializer(many=True)},
    ),
)
class AmenityLoanViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    required_scopes = {"GET": "visits:read", "POST": "visits:write"}
    serializer_class = AmenityLoanSerializer
    filterset_class = AmenityLoanFilter

    def get_queryset(self):
        actor = actor_from_request(self.request)
        return (
            selectors.amenity_loans_visible(actor=actor)
            .select_related("center", "amenity", "returned_at_center")
            .order_by("-lent_at", "-pk")
        )

    def get_serializer_class(self):
        if self.action == "create":
            return AmenityLoanCreateSerializer
        if self.action == "return_loan":
            return AmenityLoanReturnSerializer
        if self.action == "mark_lost":
            return AmenityLoanLostSerializer
        return AmenityLoanSerializer

    @extend_schema(
        operation_id="amenity_loans_create",
        summary="Lend an amenity (umbrella, power bank...) at a center's desk against its deposit",
        description=(
            "Takes one off the center's shelf (refused when none is left) and the deposit at the counter: a settled "
            "payment by the method, with its receipt, in the payments ledger. A deposit of 0 takes no money. One "
            "open loan per phone number and kind, network-wide."
        ),
        request=AmenityLoanCreateSerializer,
        responses={
            201: AmenityLoanResultSerializer,
            400: problem("validation_error: name, phone, payment method (required while a deposit is due)."),
            403: problem("permission_denied: the center's front desk and managers lend."),
            404: problem("not_found: no such center among yours, or it has no amenity of that kind."),
            409: problem(
                "amenity_unavailable: none left on the shelf (`on_hand`); amenity_loan_exists: this phone has one of "
                "this kind out (`loan_id`); busy: someone else is lending it right now (try again)."
            ),
        },
    )
    def create(self, request):
        body = AmenityLoanCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = actor_from_request(request)
        center = ServiceCenter.objects.filter(code=data["center"]).only("pk").first()
        if center is None or not actor.can_see_center(center.pk):
            raise NotFound(_("No such center."))
        amenity_id = Amenity.objects.filter(center_id=center.pk, kind=data["kind"]).values_list("pk", flat=True).first()
        if amenity_id is None:
            raise NotFound(_("This center lends no amenity of that kind."))
        # The deposit's money goes through payments in the same transaction (docs/payments.md).
        with transaction.atomic():
            loan = services.amenity_lend(
                amenity_id=amenity_id,
                borrower_name=data["borrower_name"],
                borrower_phone=data["borrower_phone"],
                payment_method=data["payment_method"],
                reference=data["reference"],
                note=data["note"],
                actor=actor,
            )
            payment = amenity_deposit_take(amenity_loan_id=loan.pk, actor=actor)
        return Response(_result(loan, receipt_no=payment.receipt_no if payment else ""), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="amenity_loans_return",
        summary="Take an amenity back and give the deposit back",
        description=(
            "At the lending center, or at another center of the network (`center`): there it goes back on that "
            "center's shelf, and the desk gives the borrower's phone number (`borrower_phone`) -- without it another "
            "center's loan is not found. The deposit goes back in full to its method."
        ),
        request=AmenityLoanReturnSerializer,
        responses={
            200: AmenityLoanResultSerializer,
            400: problem("validation_error"),
            403: problem("permission_denied: only the desk of the center where it comes back."),
            404: problem("not_found: no such loan at your centers (or the phone does not match)."),
            409: problem("invalid_transition: the loan is not out (returned already, or lost); busy."),
        },
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_loan(self, request, pk=None):
        body = AmenityLoanReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = actor_from_request(request)
        center_id = None
        if data["center"]:
            center = ServiceCenter.objects.filter(code=data["center"]).only("pk").first()
            if center is None or not actor.can_see_center(center.pk):
                raise NotFound(_("No such center."))
            center_id = center.pk
        try:
            loan_id = int(pk)
        except (TypeError, ValueError):
            raise NotFound(_("No such amenity loan.")) from None
        with transaction.atomic():
            loan = services.amenity_return(
                loan_id=loan_id, actor=actor, center_id=center_id, borrower_phone=data["borrower_phone"]
            )
            refund = amenity_deposit_settle(amenity_loan_id=loan.pk, actor=actor)
        return Response(_result(loan, refunded=refund.amount if refund else 0))

    @extend_schema(
        operation_id="amenity_loans_lost",
        summary="The borrower will not bring it back: mark the amenity lost (the deposit is kept)",
        description=(
            "Only the lending center's desk. The loan becomes `lost`, nothing is refunded (the deposit stays paid "
            "in the ledger) and the shelf stays one short."
        ),
        request=AmenityLoanLostSerializer,
        responses={
            200: AmenityLoanResultSerializer,
            400: problem("validation_error"),
            403: problem("permission_denied: only the lending center's front desk and managers."),
            404: problem("not_found: no such loan at your centers."),
            409: problem("invalid_transition: the loan is not out (returned already, or lost); busy."),
        },
    )
    @action(detail=True, methods=["post"], url_path="lost")
    def mark_lost(self, request, pk=None):
        body = AmenityLoanLostSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_from_request(request)
        try:
            loan_id = int(pk)
        except (TypeError, ValueError):
            raise NotFound(_("No such amenity loan.")) from None
        with transaction.atomic():
            loan = services.amenity_mark_lost(loan_id=loan_id, actor=actor, note=body.validated_data["note"])
            amenity_deposit_settle(amenity_loan_id=loan.pk, actor=actor)  # kept: records nothing, checks the state
        return Response(_result(loan))
