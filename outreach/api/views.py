"""The public events API: community events and classes with their places, and sign-up (issue #22)."""

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from centers.models import ServiceCenter
from servicehub.api.schema import problem
from servicehub.api.throttling import BatchedThrottlesMixin, LookupThrottle, PublicAnonThrottle

from .. import selectors, services
from .serializers import (
    MONTH_PATTERN,
    EventListParams,
    EventSerializer,
    RegistrationInSerializer,
    RegistrationOutSerializer,
)


class EventListView(GenericAPIView):
    public = True
    filter_backends: list = []
    serializer_class = EventSerializer

    @extend_schema(
        operation_id="events_list",
        summary="Community events and classes still to come, with the places left",
        description="Public events only (staff trainings never), soonest first. Two SQL queries whatever the filters.",
        parameters=[
            OpenApiParameter("center", str, description="A center code."),
            OpenApiParameter("month", str, pattern=MONTH_PATTERN, description="YYYY-MM (Asia/Shanghai)."),
            OpenApiParameter("kind", str, enum=["community_outreach", "customer_class"]),
            OpenApiParameter("page", {"type": "integer", "minimum": 1}),
            OpenApiParameter("page_size", {"type": "integer", "minimum": 1}, description="At most 100."),
        ],
        responses={
            200: EventSerializer(many=True),
            400: problem("validation_error: bad month (YYYY-MM), unknown center or kind (fields month, center, kind)."),
            404: problem("not_found: page out of range."),
        },
    )
    def get(self, request):
        query = EventListParams(data=request.query_params)
        blank = {n: [_("This parameter may not be empty.")] for n in query.fields if request.query_params.get(n) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        if params.get("center") and not ServiceCenter.objects.filter(code=params["center"], active=True).exists():
            raise serializers.ValidationError({"center": [_("Unknown center code.")]})
        qs = selectors.events_public(
            center_code=params.get("center", ""), month=params.get("month", ""), kind=params.get("kind", "")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class RegistrationCreateView(BatchedThrottlesMixin, APIView):
    """Sign up for a public event: throttled per address (the ``event_signup`` rate) besides the anonymous one."""

    public = True
    throttle_classes = [PublicAnonThrottle, LookupThrottle]
    throttle_scope = "event_signup"

    @extend_schema(
        operation_id="event_registration_create",
        summary="Sign up for a community event or class",
        description="Takes one place and answers the door code; an SMS with it follows.",
        request=RegistrationInSerializer,
        responses={
            201: RegistrationOutSerializer,
            400: problem("validation_error: name, phone (a mobile number: the door code goes by SMS)."),
            404: problem("not_found: no such public event."),
            409: problem(
                "event_full: no place left; already_registered: this phone holds a place already; "
                "event_closed: the event started, ended or was cancelled; busy."
            ),
            429: problem(
                "throttled: too many sign-ups from this address; too_many_signups: this phone was signed up "
                "3 times in the last 24 hours."
            ),
        },
    )
    def post(self, request, pk: int):
        body = RegistrationInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        registration = services.event_register(event_id=pk, language=get_language() or "", **body.validated_data)
        return Response(RegistrationOutSerializer(registration).data, status=status.HTTP_201_CREATED)
