"""Quick visits over the API (issue #22): record a visit (scope ``visits:write``), a day's counts by service
(scope ``visits:read``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from centers.models import ServiceCenter
from centers.selectors import center_promotion_on, local_now
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import NotFound

from .. import visits as services
from ..models import Visit
from ..visit_selectors import visits_summary


class VisitCreateSerializer(serializers.Serializer):
    center = serializers.CharField(max_length=32, help_text="The center's code.")
    service = serializers.CharField(max_length=40, help_text="A visit service code, e.g. uv_disinfection.")
    count = serializers.IntegerField(min_value=1, max_value=services.MAX_COUNT, required=False, default=1)
    any_brand = serializers.BooleanField(required=False, default=False)
    brand = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    imei = serializers.RegexField(r"^\d{14,17}$", max_length=17, required=False, default="", allow_blank=True)
    phone = serializers.CharField(
        max_length=20, required=False, default="", allow_blank=True, help_text="Only for a free perk."
    )
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class VisitSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.code", read_only=True)
    service = serializers.CharField(source="service.code", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "center",
            "service",
            "at",
            "day",
            "count",
            "any_brand",
            "brand",
            "during_service_day",
            "during_new_store_month",
            "perk",
            "status",
        ]
        read_only_fields = fields


class SummaryParams(serializers.Serializer):
    center = serializers.CharField(max_length=32)
    date = serializers.DateField(required=False, default=None, allow_null=True)


class ServiceCountSerializer(serializers.Serializer):
    service = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    visits = serializers.IntegerField(help_text="People served (a group counts each person).")


class SummarySerializer(serializers.Serializer):
    center = serializers.CharField()
    date = serializers.DateField()
    during_service_day = serializers.BooleanField()
    during_new_store_month = serializers.BooleanField()
    total = serializers.IntegerField()
    services = ServiceCountSerializer(many=True)


def _center(actor, code: str) -> ServiceCenter:
    center = ServiceCenter.objects.filter(code=code, active=True).first()
    if center is None or not actor.can_see_center(center.pk):
        raise NotFound(_("No such center."))
    return center


class VisitCreateView(APIView):
    required_scopes = {"POST": "visits:write"}

    @extend_schema(
        operation_id="visits_create",
        summary="Record a quick non-repair visit at a center's desk (any brand, no device record)",
        request=VisitCreateSerializer,
        responses={
            201: VisitSerializer,
            400: problem(
                "validation_error: service, count (1..500), imei, phone (a free perk needs a valid phone, one person)."
            ),
            403: problem("permission_denied: the center's front desk and managers record visits."),
            404: problem("not_found: no such center among the caller's."),
            409: problem("perk_already_used: this phone already had this free perk during this Service Day."),
        },
    )
    def post(self, request):
        body = VisitCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = actor_from_request(request)
        center = _center(actor, data.pop("center"))
        visit = services.visit_record(actor=actor, center_id=center.pk, **data)
        visit = Visit.objects.select_related("center", "service").get(pk=visit.pk)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitSummaryView(APIView):
    required_scopes = {"GET": "visits:read"}

    @extend_schema(
        operation_id="visits_summary",
        summary="A center's quick visits on a day, by service",
        parameters=[
            OpenApiParameter("center", str, required=True, description="A center code."),
            OpenApiParameter("date", OpenApiTypes.DATE, description="YYYY-MM-DD; default: today (Asia/Shanghai)."),
        ],
        responses={
            200: SummarySerializer,
            400: problem("validation_error: center missing, date not YYYY-MM-DD."),
            404: problem("not_found: no such center among the caller's."),
        },
    )
    def get(self, request):
        params = SummaryParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        actor = actor_from_request(request)
        center = _center(actor, params.validated_data["center"])
        day = params.validated_data.get("date") or local_now().date()
        promotion = center_promotion_on(center=center, day=day)
        summary = visits_summary(center_id=center.pk, day=day)
        data = {
            "center": center.code,
            "date": day,
            "during_service_day": promotion.service_day is not None,
            "during_new_store_month": promotion.new_store_month,
            **summary,
        }
        return Response(SummarySerializer(data).data)
