"""Warranty API: thin views over ``warranty.selectors`` / ``warranty.services``."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from centers.models import Region
from partners.models import Partner
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import DomainError, NotFound
from warranty import selectors, services
from warranty.choices import Exclusion, PurchaseChannel

from .filters import DeviceModelFilter, PlanPurchaseFilter
from .serializers import (
    CoverageSerializer,
    DeviceCreateSerializer,
    DeviceModelSerializer,
    DeviceSerializer,
    PlanOnSaleSerializer,
    PlanPurchaseCreateSerializer,
    PlanPurchaseSerializer,
    coverage_payload,
    plan_on_sale_payload,
)

NOT_ELIGIBLE = (
    "not_eligible (422): `reason` says why — "
    + ", ".join(
        [
            "not_on_sale",
            "model_not_eligible",
            "no_sale_date",
            "window_passed",
            "warranty_ended",
            "no_price",
            "already_active",
        ]
    )
    + "."
)


class DeviceCoverageView(APIView):
    """Is this device covered, and by what (public; no owner data)."""

    public = True

    @extend_schema(
        operation_id="device_coverage",
        summary="Warranty and plan coverage of a device by IMEI",
        parameters=[
            OpenApiParameter(
                "imei",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=r"^[0-9]{15}$",
                description="15-digit IMEI (Luhn-checked).",
            ),
            OpenApiParameter(
                "fault",
                OpenApiTypes.STR,
                description="Optional fault category (e.g. `screen`, `battery`, `liquid_damage`); blank = not given.",
                extensions={"x-allow-blank": True},
            ),
            OpenApiParameter(
                "exclusions",
                OpenApiTypes.STR,
                description="Optional comma-separated exclusions: " + ", ".join(Exclusion.values) + "; blank = none.",
                extensions={"x-allow-blank": True},
            ),
        ],
        responses={
            200: CoverageSerializer,
            400: problem("validation_error: malformed IMEI (`errors.imei`), unknown `fault` or exclusion."),
            404: problem("not_found: no device with this IMEI is registered."),
            429: problem("throttled"),
        },
        tags=["warranty"],
    )
    def get(self, request, imei: str):
        from repairs.choices import FaultCategory

        device = selectors.device_for_coverage(imei=imei)
        fault = request.query_params.get("fault") or None
        if fault is not None and fault not in FaultCategory.values:
            raise DomainError("validation_error", _("Unknown fault category: %s.") % fault, field="fault")
        exclusions = [e for e in (request.query_params.get("exclusions") or "").split(",") if e.strip()]
        coverage = selectors.device_coverage(device=device, fault=fault, exclusions=[e.strip() for e in exclusions])
        return Response(CoverageSerializer(coverage_payload(device, coverage)).data)


class DeviceModelListView(generics.ListAPIView):
    public = True
    serializer_class = DeviceModelSerializer
    filterset_class = DeviceModelFilter

    def get_queryset(self):
        return selectors.device_models_active()

    @extend_schema(
        operation_id="catalog_models_list",
        summary="Device models (active catalog)",
        tags=["catalog"],
        responses={200: DeviceModelSerializer(many=True), 400: problem("validation_error: unknown category.")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PlansOnSaleView(APIView):
    public = True

    @extend_schema(
        operation_id="plans_on_sale",
        summary="Plan products on sale (with the price for a model's tier)",
        parameters=[
            OpenApiParameter(
                "model",
                OpenApiTypes.STR,
                description="Device model code: only eligible plans with a price for its tier, `price` filled in. "
                "Unknown or blank: 400.",
            )
        ],
        responses={200: PlanOnSaleSerializer(many=True), 400: problem("validation_error: unknown `model`.")},
        tags=["plans"],
    )
    def get(self, request):
        code = request.query_params.get("model")
        model = None
        if code is not None:
            model = selectors.device_models_active().filter(code=code).first()
            if model is None:
                raise DomainError("validation_error", _("Unknown device model: %s.") % code, field="model")
        products = selectors.plans_on_sale(model=model)
        payload = [plan_on_sale_payload(p, tier=model.tier if model else None) for p in products]
        return Response(PlanOnSaleSerializer(payload, many=True).data)


def _partner_for(request, retailer_id):
    """A partner key sells as its own partner; staff may name any partner (or none)."""
    actor = actor_from_request(request)
    if actor.partner is not None:
        if retailer_id not in (None, actor.partner.pk):
            raise DomainError(
                "validation_error", _("A partner key registers sales for its own partner only."), field="retailer"
            )
        return actor, actor.partner
    if retailer_id is None:
        return actor, None
    partner = Partner.objects.filter(pk=retailer_id).first()
    if partner is None:
        raise DomainError("validation_error", _("Unknown partner."), field="retailer")
    return actor, partner


class DeviceCreateView(APIView):
    required_scopes = {"POST": "devices:write"}

    @extend_schema(
        operation_id="device_register",
        summary="Register a sold device (retailer)",
        request=DeviceCreateSerializer,
        responses={
            201: DeviceSerializer,
            400: problem(
                "validation_error: bad IMEI (`imei`, 15 digits with a valid check digit), unknown model (`model`), "
                "`sold_at` before 2000-01-01 or in the future, ..."
            ),
            409: problem("device_exists: this device is already registered as sold."),
        },
        tags=["warranty"],
    )
    def post(self, request):
        ser = DeviceCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        actor, retailer = _partner_for(request, data.get("retailer"))
        region = None
        if data.get("region"):
            region = Region.objects.filter(adcode=data["region"]).first()
            if region is None:
                raise DomainError("validation_error", _("Unknown region adcode."), field="region")
        device = services.device_register_sale(
            imei=data.get("imei"),
            serial=data.get("serial"),
            model_code=data["model"],
            sold_at=data["sold_at"],
            retailer=retailer,
            channel=data.get("channel"),
            region=region,
            actor=actor,
        )
        device = selectors.Device.objects.select_related("model", "retailer", "region").get(pk=device.pk)
        return Response(DeviceSerializer(device).data, status=status.HTTP_201_CREATED)


class RefundSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class PlanPurchaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Plans sold: a partner key sees and sells its own; staff see their centers' counter sales (HQ all)."""

    serializer_class = PlanPurchaseSerializer
    filterset_class = PlanPurchaseFilter
    required_scopes = {"*": "plans:write"}

    def get_queryset(self):
        return selectors.plan_purchases_visible(actor=actor_from_request(self.request))

    @extend_schema(
        operation_id="plan_purchases_list",
        summary="Plan purchases the caller sold",
        tags=["plans"],
        responses={200: PlanPurchaseSerializer(many=True)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="plan_purchases_retrieve",
        summary="One plan purchase",
        tags=["plans"],
        responses={200: PlanPurchaseSerializer, 404: problem("not_found (also for another partner's purchase).")},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        operation_id="plan_purchases_create",
        summary="Sell a plan for a registered device",
        request=PlanPurchaseCreateSerializer,
        responses={
            201: PlanPurchaseSerializer,
            400: problem(
                "validation_error: bad IMEI, unknown `plan`, `purchased_at` in the future or before the sale."
            ),
            404: problem("not_found: no device with this IMEI/serial."),
            422: problem(NOT_ELIGIBLE),
        },
        tags=["plans"],
    )
    def create(self, request, *args, **kwargs):
        ser = PlanPurchaseCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        actor = actor_from_request(request)
        device = selectors.device_find(imei=data.get("imei"), serial=data.get("serial"))
        if device is None:
            raise NotFound(_("No device with this IMEI/serial is registered."))
        if actor.partner is not None:
            channel, partner = PurchaseChannel.PARTNER, actor.partner
        else:
            channel, partner = data.get("channel") or PurchaseChannel.STORE, None
        purchase = services.plan_purchase_create(
            device=device,
            plan_code=data["plan"],
            purchased_at=data["purchased_at"],
            price=data["price"],
            channel=channel,
            partner=partner,
            actor=actor,
        )
        purchase = (
            self.get_queryset()
            .model.objects.select_related("device", "device__model", "product", "partner")
            .get(pk=purchase.pk)
        )
        return Response(PlanPurchaseSerializer(purchase).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="plan_purchases_refund",
        summary="Refund a plan within its cooling-off period (no claim used)",
        request=RefundSerializer,
        responses={
            200: PlanPurchaseSerializer,
            404: problem("not_found"),
            422: problem("not_eligible: `reason` is not_active, claim_used or cooling_off_passed."),
        },
        tags=["plans"],
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        purchase = self.get_object()  # 404 for objects the caller may not see
        ser = RefundSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        with transaction.atomic():
            services.plan_purchase_refund(
                purchase_id=purchase.pk, actor=actor_from_request(request), note=ser.validated_data.get("note", "")
            )
        purchase = self.get_queryset().get(pk=purchase.pk)
        return Response(PlanPurchaseSerializer(purchase).data)
