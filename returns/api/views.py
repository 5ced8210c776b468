"""三包 over the API (scope ``tickets:write`` to inspect and decide, ``tickets:read`` to read the decision)."""

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
from ..models import ReturnDecision
from .serializers import DecisionCreateSerializer, DecisionSerializer, InspectionCreateSerializer, InspectionSerializer

TICKET_404 = problem("not_found: no such ticket among the caller's centers.")


def _ticket(request, service_no):
    ticket = ticket_for_actor(service_no=service_no, actor=actor_from_request(request))
    if ticket is None:
        raise NotFound(_("No such ticket."))
    return ticket


class InspectionView(APIView):
    required_scopes = {"POST": "tickets:write"}

    @extend_schema(
        summary="Record the 三包 inspection of a ticket's device",
        request=InspectionCreateSerializer,
        responses={
            201: InspectionSerializer,
            400: problem("validation_error: no findings, unknown exclusion, a fault together with an exclusion."),
            403: problem("permission_denied: engineers and managers inspect."),
            404: TICKET_404,
            409: problem("invalid_state: the ticket is past inspection or decided."),
        },
    )
    def post(self, request, service_no):
        body = InspectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inspection = services.inspection_record(
            ticket_id=_ticket(request, service_no).pk, actor=actor_from_request(request), **body.validated_data
        )
        return Response(InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED)


class DecisionView(APIView):
    required_scopes = {"POST": "tickets:write", "GET": "tickets:read"}

    @extend_schema(summary="A ticket's 三包 decision", responses={200: DecisionSerializer, 404: TICKET_404})
    def get(self, request, service_no):
        decision = (
            ReturnDecision.objects.select_related("ticket", "device", "replacement")
            .filter(ticket=_ticket(request, service_no))
            .first()
        )
        if decision is None:
            raise NotFound(_("This ticket has no 三包 decision."))
        return Response(DecisionSerializer(decision).data)

    @extend_schema(
        summary="Decide a 三包 claim: return (refund due), exchange (new IMEI) or free repair",
        request=DecisionCreateSerializer,
        responses={
            201: DecisionSerializer,
            400: problem(
                "validation_error: kind, reason; replacement_imei (an exchange needs the new device's IMEI), "
                "refund_amount (a return needs the price paid, at least 0.01)."
            ),
            403: problem("permission_denied: the front desk and managers decide."),
            404: TICKET_404,
            409: problem("inspection_required, decision_exists, invalid_state, device_exists, busy."),
            422: problem("window_passed (with `day`, `until`), excluded_cause, no_performance_fault, no_sale_date."),
        },
    )
    def post(self, request, service_no):
        body = DecisionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = services.return_decide(
            ticket_id=_ticket(request, service_no).pk, actor=actor_from_request(request), **body.validated_data
        )
        decision = ReturnDecision.objects.select_related("ticket", "device", "replacement").get(pk=decision.pk)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
