"""Public booking API: slots of a day, appointments, mail-in requests (no key; throttled)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import selectors, services
from centers.models import ServiceCenter
from servicehub.api.schema import problem
from servicehub.errors import NotFound

from .serializers import (
    AppointmentInSerializer,
    AppointmentOutSerializer,
    MailInInSerializer,
    MailInOutSerializer,
    SlotFullProblemSerializer,
    SlotQuerySerializer,
    SlotSerializer,
)


def _person_kwargs(data: dict) -> dict:
    customer, device = data["customer"], data["device"]
    return {
        "name": customer["name"],
        "phone": customer["phone"],
        "email": customer.get("email", ""),
        "language": customer.get("language"),
        "imei": device.get("imei", ""),
        "serial": device.get("serial", ""),
        "model_code": device.get("model", ""),
        "issue": data["issue"],
        "fault_category": data.get("fault_category") or "other",
    }


def _prefix_field(err):
    """Service field names (``phone``, ``imei``) -> the API body's dotted paths."""
    mapping = {
        "name": "customer.name",
        "phone": "customer.phone",
        "email": "customer.email",
        "imei": "device.imei",
        "serial": "device.serial",
        "model": "device.model",
    }
    if getattr(err, "field", None) in mapping:
        err.field = mapping[err.field]
    return err


class CenterSlotsView(APIView):
    public = True

    @extend_schema(
        operation_id="center_slots",
        summary="Appointment slots of a center on a day",
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, required=True, description="YYYY-MM-DD (local date)")],
        responses={
            200: SlotSerializer(many=True),
            400: problem("validation_error: missing or bad date"),
            404: problem("not_found: unknown center"),
        },
        tags=["booking"],
    )
    def get(self, request, code: str):
        center = selectors.center_for_booking(code=code)
        if center is None:
            raise NotFound(_("Unknown center."))
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slots = selectors.slots_for_day(center=center, day=query.validated_data["date"])
        return Response(SlotSerializer(slots, many=True).data)


class AppointmentCreateView(APIView):
    public = True

    @extend_schema(
        operation_id="appointment_create",
        summary="Book an appointment slot",
        request=AppointmentInSerializer,
        responses={
            201: AppointmentOutSerializer,
            400: problem("validation_error (with `errors`)"),
            404: problem("not_found: unknown center"),
            409: OpenApiResponse(
                SlotFullProblemSerializer,
                description="slot_full: no seat left; `alternatives` lists the nearest free slots",
            ),
        },
        tags=["booking"],
    )
    def post(self, request):
        body = AppointmentInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        center = ServiceCenter.objects.filter(code=data["center"], active=True).first()
        if center is None:
            raise ValidationError({"center": [_("Unknown center.")]})
        try:
            appointment = services.appointment_book(
                center=center, start=data["start"], needs=dict(data.get("needs") or {}), **_person_kwargs(data)
            )
        except services.DomainError as err:
            raise _prefix_field(err) from None
        return Response(AppointmentOutSerializer(appointment).data, status=status.HTTP_201_CREATED)


class MailInRequestCreateView(APIView):
    public = True

    @extend_schema(
        operation_id="mail_in_request_create",
        summary="Request a free two-way mail-in repair",
        request=MailInInSerializer,
        responses={
            201: MailInOutSerializer,
            400: problem("validation_error (with `errors`), e.g. no province in `pickup_address`"),
            422: problem("no_hub: the province has no mail-in hub"),
        },
        tags=["booking"],
    )
    def post(self, request):
        body = MailInInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            mail_in = services.mail_in_request_create(pickup_address=data["pickup_address"], **_person_kwargs(data))
        except services.DomainError as err:
            raise _prefix_field(err) from None
        return Response(MailInOutSerializer(mail_in).data, status=status.HTTP_201_CREATED)


__all__ = ["CenterSlotsView", "AppointmentCreateView", "MailInRequestCreateView", "selectors"]
