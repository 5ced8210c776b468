"""Fapiao API: ask for a ticket's electronic fapiao and read its status.

``POST /api/v1/tickets/{service_no}/fapiao/`` (scope ``payments:write``) and ``GET`` (``tickets:read``).
Views hold no rules: they resolve the ticket among the caller's centers and call ``accounting.services``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from repairs import selectors as repair_selectors
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import NotFound

from .. import selectors, services
from ..choices import RequestedVia
from .serializers import FapiaoRequestInSerializer, FapiaoSerializer

FAPIAO_404 = problem("not_found: no such ticket among the caller's centers, or (GET) no fapiao requested yet.")


class TicketFapiaoView(APIView):
    required_scopes = {"GET": "tickets:read", "POST": "payments:write"}

    def _ticket(self, request, service_no: str):
        from repairs.services import service_no_normalize

        actor = actor_from_request(request)
        ticket = (
            repair_selectors.tickets_for_list(actor=actor).filter(service_no=service_no_normalize(service_no)).first()
        )
        if ticket is None:
            raise NotFound(_("No such ticket."))
        return ticket

    @extend_schema(
        summary="The ticket's fapiao request and its status",
        responses={200: FapiaoSerializer, 404: FAPIAO_404},
    )
    def get(self, request, service_no: str):
        ticket = self._ticket(request, service_no)
        fapiao = selectors.ticket_fapiao(ticket_id=ticket.pk)
        if fapiao is None:
            raise NotFound(_("No fapiao has been requested for this repair."))
        fapiao.ticket = ticket
        return Response(FapiaoSerializer(fapiao).data)

    @extend_schema(
        summary="Ask for an electronic fapiao for what was paid for the ticket (issued asynchronously)",
        request=FapiaoRequestInSerializer,
        responses={
            201: FapiaoSerializer,
            400: problem("validation_error"),
            404: FAPIAO_404,
            409: problem("nothing_to_invoice (nothing paid net of refunds), fapiao_exists, busy."),
            422: problem("invalid_tax_number: a company without a tax number, or a code that fails its check."),
        },
    )
    def post(self, request, service_no: str):
        ticket = self._ticket(request, service_no)
        ser = FapiaoRequestInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        fapiao = services.fapiao_request(
            actor=actor_from_request(request), ticket_id=ticket.pk, via=RequestedVia.API, **ser.validated_data
        )
        fapiao = selectors.ticket_fapiao(ticket_id=ticket.pk) or fapiao  # issued by then when tasks run eagerly
        fapiao.ticket = ticket
        return Response(FapiaoSerializer(fapiao).data, status=status.HTTP_201_CREATED)
