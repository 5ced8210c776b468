"""Public booking API: slots of a day, appointments, mail-in requests (no key; throttled)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import selectors, services
from booking.choices import CallbackOutcome
from booking.models import CallbackRequest
from centers.models import ServiceCenter
from servicehub.api.schema import problem
from servicehub.api.throttling import BatchedThrottlesMixin, LookupThrottle, PublicAnonThrottle
from servicehub.errors import DomainError, NotFound

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


class CallbackOutcomeInSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallbackOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    customer = serializers.IntegerField(
        required=False, min_value=1, help_text="The customer's id, confirmed on the call."
    )
    tickets = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        default=list,
        max_length=20,
        help_text="Service numbers of that customer's repairs talked about.",
    )


class CallbackOutSerializer(serializers.ModelSerializer):
    tickets = serializers.SerializerMethodField()

    class Meta:
        model = CallbackRequest
        fields = ["id", "status", "outcome", "attempts", "customer", "tickets", "handled_at", "created_at"]
        read_only_fields = fields

    def get_tickets(self, obj) -> list[str]:
        return [t.service_no for t in obj.tickets.all()]


class CallbackOutcomeView(APIView):
    """Staff log a hotline call back (``booking.services.callback_outcome_log``)."""

    required_scopes = {"POST": "tickets:write"}

    @extend_schema(
        operation_id="callback_outcome",
        summary="Log the outcome of a hotline call back (staff)",
        request=CallbackOutcomeInSerializer,
        responses={
            200: CallbackOutSerializer,
            400: problem("validation_error: unknown outcome, tickets without a customer, a closing note missing"),
            403: problem("permission_denied: staff people only (not partner keys)"),
            404: problem("not_found: no such request, customer, or repair of this customer at the caller's centers"),
            409: problem("callback_closed: the request was closed already"),
        },
        tags=["booking"],
    )
    def post(self, request, pk: int):
        from repairs.models import RepairTicket
        from servicehub.actors import actor_from_request

        body = CallbackOutcomeInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        numbers = sorted(set(data.get("tickets") or []))
        ids = list(RepairTicket.objects.filter(service_no__in=numbers).values_list("pk", flat=True))
        if len(ids) != len(numbers):
            raise DomainError("not_found", _("No such repair for this customer."), status=404, field="tickets")
        callback = services.callback_outcome_log(
            callback_id=pk,
            outcome=data["outcome"],
            note=data.get("note", ""),
            customer_id=data.get("customer"),
            ticket_ids=ids,
            actor=actor_from_request(request),
        )
        callback = CallbackRequest.objects.prefetch_related("tickets").get(pk=callback.pk)
        return Response(CallbackOutSerializer(callback).data)


class SignSessionOutSerializer(serializers.Serializer):
    join_url = serializers.URLField(help_text="The customer's video link (the host link is staff-only).")
    scheduled_start = serializers.DateTimeField()
    status = serializers.CharField()


class AppointmentDetailSerializer(serializers.Serializer):
    service_no = serializers.CharField()
    status = serializers.CharField()
    center = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    needs = serializers.DictField(child=serializers.BooleanField())
    sign_language_session = SignSessionOutSerializer(allow_null=True)


class AppointmentDetailView(BatchedThrottlesMixin, APIView):
    """A booked appointment, by service number and the last 4 digits of the phone (the tracking page's rules:
    the same throttle and the lock after 10 wrong digits), with the sign-language video link when it has one."""

    public = True
    throttle_classes = [PublicAnonThrottle, LookupThrottle]
    throttle_scope = "tracking"

    @extend_schema(
        operation_id="appointment_detail",
        summary="An appointment (with its sign-language video link)",
        parameters=[OpenApiParameter("phone_last4", str, required=True, description="Last 4 digits of the phone.")],
        responses={
            200: AppointmentDetailSerializer,
            404: problem("not_found: unknown number, wrong phone digits, or no appointment (indistinguishable)."),
            429: problem("throttled / lookup_locked: as GET /api/v1/track/{service_no}/."),
        },
        tags=["booking"],
    )
    def get(self, request, service_no: str):
        from outreach.selectors import sign_session_for_appointment_get
        from repairs import verification

        ticket = verification.track_lookup(
            service_no=service_no, phone_last4=request.query_params.get("phone_last4", "")
        )
        appointment = selectors.appointment_for_ticket(ticket=ticket) if ticket is not None else None
        if appointment is None:
            raise NotFound(_("No appointment matches this number and phone."))
        session = sign_session_for_appointment_get(appointment_id=appointment.pk)
        data = {
            "service_no": ticket.service_no,
            "status": appointment.status,
            "center": appointment.center.code,
            "start": appointment.start,
            "end": appointment.end,
            "needs": appointment.needs or {},
            "sign_language_session": None
            if session is None
            else {"join_url": session.join_url, "scheduled_start": session.scheduled_start, "status": session.status},
        }
        return Response(AppointmentDetailSerializer(data).data)
