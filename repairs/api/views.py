"""Repairs API: tickets (check-in, list, detail, transitions, quotes), the public catalog and tracking.

Views hold no rules: they parse input, resolve what the caller may see through
``repairs.selectors`` and call ``repairs.services``; DomainError becomes problem details.
"""

from __future__ import annotations

import functools

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from loaners.selectors import loan_public_summary
from logistics.selectors import custody_chain, ticket_shipments
from parts.selectors import ticket_parts
from payments.api.serializers import ticket_payments_data
from payments.selectors import ticket_money, ticket_money_and_payments
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.api.throttling import BatchedThrottlesMixin, LookupThrottle, PublicAnonThrottle
from servicehub.errors import DomainError, NotFound
from servicehub.masking import contact_masked_for
from servicehub.money import ZERO
from web.tracking import cached_parts, track_absent, track_version_annotations

from .. import selectors, services, verification
from ..tracking import track_head, track_payload
from .filters import TicketFilter
from .serializers import (
    CatalogRepairSerializer,
    QuoteCreateSerializer,
    QuoteDecisionSerializer,
    QuoteSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TrackSerializer,
    TransitionSerializer,
    VerificationCodeRequestSerializer,
    VerificationCodeSentSerializer,
)

TICKET_404 = problem("not_found: no such ticket among the caller's centers.")
TRANSITION_409 = problem("invalid_transition (with `allowed_actions`), quote_outdated or busy.")


def _detail_response(request, ticket_pk_or_no, *, status_code=200) -> Response:
    actor = actor_from_request(request)
    ticket = selectors.ticket_for_actor(service_no=ticket_pk_or_no, actor=actor)
    if ticket is None:  # pragma: no cover - the caller just changed it
        raise NotFound(_("No such ticket."))
    balance, payments = ticket_money_and_payments(ticket)
    context = {
        "request": request,
        "now": timezone.now(),
        "quote": selectors.ticket_current_quote(ticket=ticket),
        "loan": loan_public_summary(ticket_id=ticket.pk),
        "custody": custody_chain(ticket_id=ticket.pk),
        "shipments": ticket_shipments(ticket_id=ticket.pk),
        "parts": ticket_parts(ticket_id=ticket.pk),
        "allowed_actions": selectors.allowed_actions(ticket=ticket, actor=actor),
        "mask_customer": contact_masked_for(actor),
        "balance": balance,
        "payments": ticket_payments_data(payments),
    }
    return Response(TicketDetailSerializer(ticket, context=context).data, status=status_code)


class TicketViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Repair tickets of the caller's centers (partner keys: their sites; staff: their memberships)."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    lookup_field = "service_no"
    lookup_value_regex = "[0-9A-Za-z-]{4,20}"
    required_scopes = {
        "list": "tickets:read",
        "retrieve": "tickets:read",
        "create": "tickets:write",
        "transition": "tickets:write",
        "quote": "tickets:write",
        "quote_approve": "tickets:write",
        "quote_decline": "tickets:write",
    }

    def get_queryset(self):
        return selectors.tickets_for_list(actor=actor_from_request(self.request))

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        actor = actor_from_request(self.request)
        ctx["now"] = timezone.now()
        ctx["mask_customer"] = contact_masked_for(actor)
        return ctx

    def _ticket(self, service_no):
        ticket = selectors.ticket_for_actor(service_no=service_no, actor=actor_from_request(self.request))
        if ticket is None:
            raise NotFound(_("No such ticket."))
        return ticket

    @extend_schema(summary="List tickets", responses={200: TicketSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Ticket detail with timeline, quote, loan and allowed actions",
        responses={200: TicketDetailSerializer, 404: TICKET_404},
    )
    def retrieve(self, request, service_no=None):
        return _detail_response(request, service_no)

    @extend_schema(
        summary="Check a device in (walk-in, or a booked ticket by service_no)",
        request=TicketCreateSerializer,
        responses={
            201: TicketDetailSerializer,
            400: problem("validation_error, e.g. field customer.phone or device.imei."),
            404: problem("not_found: unknown service_no."),
            409: TRANSITION_409,
        },
    )
    def create(self, request):
        ser = TicketCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        actor = actor_from_request(request)
        center = None
        if data.get("center"):
            from centers.models import ServiceCenter

            center = ServiceCenter.objects.filter(code=data["center"]).first()
            if center is None:
                raise DomainError("validation_error", _("Unknown center."), field="center")
        fault = data.get("fault") or {}
        ticket = services.ticket_check_in(
            actor=actor,
            center=center,
            service_no=data.get("service_no"),
            channel=data["channel"],
            customer=data.get("customer"),
            device=data.get("device"),
            fault_category=fault.get("category"),  # None: a booked ticket keeps its fault
            fault_description=fault.get("description", ""),
            accessories=data.get("accessories"),
            appearance_notes=data.get("appearance_notes", ""),
            repair_mode_enabled=data.get("repair_mode_enabled", False),
            data_backup_consent=data.get("data_backup_consent", False),
            note=data.get("note", ""),
        )
        return _detail_response(request, ticket.service_no, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move the ticket through its lifecycle",
        request=TransitionSerializer,
        responses={
            200: TicketDetailSerializer,
            400: problem("validation_error"),
            404: TICKET_404,
            409: TRANSITION_409,
            422: problem("not_eligible: a plan claim is no longer available."),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, service_no=None):
        ticket = self._ticket(service_no)
        ser = TransitionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        params = dict(ser.validated_data)
        act = params.pop("action")
        note = params.pop("note", "")
        services.ticket_transition(
            ticket_id=ticket.pk, action=act, actor=actor_from_request(request), note=note, **params
        )
        return _detail_response(request, ticket.service_no)

    @extend_schema(
        summary="Send a quote (a new version when one exists)",
        request=QuoteCreateSerializer,
        responses={
            201: QuoteSerializer,
            400: problem("validation_error: unknown repair code, grade or exclusion."),
            404: TICKET_404,
            409: TRANSITION_409,
        },
    )
    @action(detail=True, methods=["post"])
    def quote(self, request, service_no=None):
        ticket = self._ticket(service_no)
        ser = QuoteCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        ticket = services.ticket_transition(
            ticket_id=ticket.pk,
            action="send_quote",
            actor=actor_from_request(request),
            note=data.get("note", ""),
            lines=[dict(line) for line in data["lines"]],
            exclusions=data.get("exclusions", []),
        )
        quote = selectors.ticket_current_quote(ticket=ticket)
        return Response(QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the customer's approval (plan claims are used here)",
        request=QuoteDecisionSerializer,
        responses={
            200: TicketDetailSerializer,
            404: TICKET_404,
            409: TRANSITION_409,
            422: problem("not_eligible: a plan claim is no longer available."),
        },
    )
    @action(detail=True, methods=["post"], url_path="quote/approve")
    def quote_approve(self, request, service_no=None):
        return self._decide(request, service_no, "approve")

    @extend_schema(
        summary="Record that the customer declined the quote (device returned unrepaired)",
        request=QuoteDecisionSerializer,
        responses={200: TicketDetailSerializer, 404: TICKET_404, 409: TRANSITION_409},
    )
    @action(detail=True, methods=["post"], url_path="quote/decline")
    def quote_decline(self, request, service_no=None):
        return self._decide(request, service_no, "decline")

    def _decide(self, request, service_no, act):
        ticket = self._ticket(service_no)
        ser = QuoteDecisionSerializer(data=request.data or {})
        ser.is_valid(raise_exception=True)
        params = dict(ser.validated_data)
        note = params.pop("note", "")
        services.ticket_transition(
            ticket_id=ticket.pk, action=act, actor=actor_from_request(request), note=note, **params
        )
        return _detail_response(request, ticket.service_no)


class CatalogRepairsView(APIView):
    """Published repair prices of one device model."""

    public = True

    @extend_schema(
        summary="Published repair prices for a device model",
        parameters=[OpenApiParameter("model", str, required=True, description="Device model code.")],
        responses={
            200: CatalogRepairSerializer(many=True),
            400: problem("validation_error: model missing."),
            404: problem("not_found: unknown model."),
        },
    )
    def get(self, request):
        from warranty.models import DeviceModel

        code = request.query_params.get("model", "").strip()
        if not code:
            raise DomainError("validation_error", _("Give ?model=CODE."), field="model")
        model = DeviceModel.objects.filter(code=code).first()
        if model is None:
            raise NotFound(_("Unknown device model."))
        ops = selectors.catalog_for_model(model=model)
        return Response(CatalogRepairSerializer(ops, many=True).data)


TRACK_CACHED_FIELDS = ("timeline", "quote", "loan", "shipments", "amount_due")


@functools.cache
def _track_serializer() -> TrackSerializer:
    """One TrackSerializer per process, its fields bound once: what it gives depends only on the payload it is
    handed (no context, no request), and building the nested quote and line fields cost more than using them."""
    return TrackSerializer()


class TrackView(BatchedThrottlesMixin, APIView):
    """A customer's repair, by service number and the last 4 digits of their phone."""

    public = True
    throttle_classes = [PublicAnonThrottle, LookupThrottle]
    throttle_scope = "tracking"

    def throttle_prefetch_keys(self, request) -> list[str]:
        # The lookup lock of this number, read with the throttles' histories (one round trip, not two).
        return [verification.track_lock_key(self.kwargs["service_no"])]

    @extend_schema(
        summary="Track a repair",
        parameters=[OpenApiParameter("phone_last4", str, required=True, description="Last 4 digits of the phone.")],
        responses={
            200: TrackSerializer,
            404: problem("not_found: unknown number or wrong phone digits (indistinguishable)."),
            429: problem(
                "throttled: too many lookups from this address; or lookup_locked: 10 wrong `phone_last4` for "
                "this service number within an hour, from any address -- digit lookups of it are locked for an "
                "hour (the customer gets an SMS with a link that still opens the repair)."
            ),
        },
    )
    def get(self, request, service_no):
        prefetched = getattr(request, "throttle_prefetched", None)  # None: read the lock in the lookup
        ticket = verification.track_lookup(
            service_no=service_no,
            phone_last4=request.query_params.get("phone_last4", ""),
            annotate=track_version_annotations,
            locked=None if prefetched is None else bool(prefetched.get(verification.track_lock_key(service_no))),
        )
        if ticket is None:
            raise NotFound(_("No repair matches this number and phone."))

        def build():  # the serialized timeline, quote and loan (cached per ticket version, web.tracking)
            absent = track_absent(ticket)
            loan = None if "loan" in absent else loan_public_summary(ticket_id=ticket.pk)
            payload = track_payload(ticket, loan=loan, absent=absent)
            payload.pop("quote_awaiting", None)
            payload["shipments"] = (
                [] if "shipments" in absent else ticket_shipments(ticket_id=ticket.pk, customer_legs_only=True)
            )
            payload["amount_due"] = ZERO if "money" in absent else ticket_money(ticket).amount_due
            data = _track_serializer().to_representation(payload)
            return {name: data[name] for name in TRACK_CACHED_FIELDS}

        # The ticket's own fields, every request: plain strings and two flat dicts of strings, which is
        # exactly what TrackSerializer's CharFields and DictFields give (tests/repairs/test_track_cache.py).
        return Response({**track_head(ticket), **cached_parts("api", ticket, build)})


class VerificationCodeView(APIView):
    """Send a 6-digit SMS code to a phone (sign-in to "my service", quote approval)."""

    public = True
    throttle_classes = [PublicAnonThrottle]

    @extend_schema(
        summary="Send a verification code by SMS",
        request=VerificationCodeRequestSerializer,
        responses={
            202: VerificationCodeSentSerializer,
            400: problem("validation_error: not a valid phone number (field `phone`)."),
            429: problem("throttled: too many codes for this phone or from this address (per hour)."),
        },
    )
    def post(self, request):
        ser = VerificationCodeRequestSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        verification.verification_code_send(
            phone=ser.validated_data["phone"],
            address=PublicAnonThrottle().get_ident(request),
        )
        return Response({"expires_in": verification.conf("CODE_TTL_SECONDS")}, status=status.HTTP_202_ACCEPTED)
