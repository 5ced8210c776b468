"""Shipments (scope ``shipments:write``): couriers see and update only shipments assigned to them."""

from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from repairs.models import RepairTicket
from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.api.throttling import PublicAnonThrottle
from servicehub.errors import NotFound

from .. import selectors, services
from ..models import ShipmentEvent
from .filters import ShipmentFilter
from .serializers import (
    CustodyChainSerializer,
    ShipmentCreateSerializer,
    ShipmentDetailSerializer,
    ShipmentEventCreateSerializer,
    ShipmentEventSerializer,
    ShipmentSerializer,
)

SCOPE = "shipments:write"
NOT_FOUND = problem("not_found: no such shipment among yours.")


@extend_schema_view(
    list=extend_schema(
        summary="Your shipments",
        description="A courier sees the shipments assigned to it; a site operator those of its sites' tickets.",
        responses={200: ShipmentSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="A shipment with its custody events", responses={200: ShipmentDetailSerializer, 404: NOT_FOUND}
    ),
)
class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    required_scopes = {"*": SCOPE}
    lookup_value_regex = r"[0-9]+"
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        qs = selectors.shipments_for_actor(actor=actor_from_request(self.request)).select_related(
            "ticket", "origin_center", "destination_center"
        )
        if self.action == "retrieve":
            qs = qs.prefetch_related(Prefetch("events", queryset=ShipmentEvent.objects.order_by("at", "pk")))
        return qs.order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return ShipmentDetailSerializer if self.action == "retrieve" else ShipmentSerializer

    @extend_schema(
        summary="Create a shipment leg for a ticket",
        description=(
            "For a site operator forwarding a device (e.g. a sealed bag from a collection point to its hub). "
            "A courier partner named in `courier` is assigned and may then post the events."
        ),
        request=ShipmentCreateSerializer,
        responses={
            201: ShipmentDetailSerializer,
            400: problem("validation_error"),
            404: problem("not_found: no such ticket at your sites."),
            409: problem("shipment_exists: an open shipment on this leg; invalid_state: the ticket is closed."),
        },
    )
    def create(self, request):
        body = ShipmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        actor = actor_from_request(request)
        tickets = RepairTicket.objects.filter(service_no=data.pop("ticket"))
        if not actor.sees_all_centers:
            centers = list(actor.center_ids or ())
            tickets = tickets.filter(Q(center_id__in=centers) | Q(origin_center_id__in=centers))
        ticket = tickets.first()
        if ticket is None:
            raise NotFound(_("No such ticket."))
        shipment = services.shipment_create(ticket=ticket, actor=actor, **data)
        shipment = self.get_queryset().prefetch_related("events").get(pk=shipment.pk)
        return Response(ShipmentDetailSerializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Post a courier event (pickup, in transit, delivered)",
        description=(
            "The seal/bag number given at pickup is recorded; each later hand-over must repeat it "
            "(chain of custody). Delivery at the destination moves the ticket: mail-in arrival checks it in at the "
            "hub, a collection-point transfer is received at the hub, a return is delivered."
        ),
        request=ShipmentEventCreateSerializer,
        responses={
            201: ShipmentEventSerializer,
            400: problem(
                "validation_error: unknown event, time in the future or before the previous event, "
                "seal_no missing at a hand-over."
            ),
            404: NOT_FOUND,
            409: problem(
                "seal_mismatch: the seal/bag number differs from the recorded one; "
                "invalid_shipment_event (with `allowed_events`); tracking_mismatch."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def events(self, request, pk=None):
        body = ShipmentEventCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            shipment_id = int(pk)
        except (TypeError, ValueError):
            raise NotFound(_("No such shipment.")) from None
        row = services.shipment_event_record(
            shipment_id=shipment_id, actor=actor_from_request(request), **body.validated_data
        )
        return Response(ShipmentEventSerializer(row).data, status=status.HTTP_201_CREATED)


class TicketCustodyView(APIView):
    """The chain of custody of a ticket the caller may see (scope ``tickets:read``)."""

    required_scopes = {"GET": "tickets:read"}

    @extend_schema(
        summary="A ticket's chain of custody",
        description="Every shipment event of every leg, in time order, with the seal check at each hand-over.",
        responses={200: CustodyChainSerializer, 404: problem("not_found: no such ticket among the caller's centers.")},
    )
    def get(self, request, service_no: str):
        from repairs.selectors import ticket_for_actor

        ticket = ticket_for_actor(service_no=service_no, actor=actor_from_request(request))
        if ticket is None:
            raise NotFound(_("No such ticket."))
        data = {"service_no": ticket.service_no, "custody": selectors.custody_chain(ticket_id=ticket.pk)}
        return Response(CustodyChainSerializer(data).data)


class CourierPushView(APIView):
    """A courier provider's status push (no key: the provider's own signature is checked)."""

    public = True
    throttle_classes = [PublicAnonThrottle]
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        summary="Courier status push (provider callback)",
        description=(
            "Signed by the provider (`sandbox`: HMAC-SHA256 of the body in `X-Sandbox-Signature`; `sf_express`: "
            "SF's route push form with `msgData`, `timestamp`, `msgDigest`). Each status is recorded on the open "
            "shipment with that waybill number; a delivered return leg moves the ticket to delivered. A push "
            "delivered twice records nothing twice. The answer is the body the provider expects."
        ),
        request=None,
        responses={
            200: dict,
            400: problem("invalid_signature: not signed by this provider, or older than 15 minutes."),
            404: problem("not_found: no such provider."),
        },
    )
    def post(self, request, provider: str):
        result = services.courier_push_receive(provider_name=provider, body=request.body, headers=request.headers)
        return Response(result["ack"])
