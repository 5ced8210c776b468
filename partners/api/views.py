"""Webhook subscriptions and their deliveries (scope ``webhooks:manage``). A partner sees only its own."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from servicehub.actors import actor_from_request
from servicehub.api.schema import problem
from servicehub.errors import DomainError, NotFound

from .. import selectors, services
from ..models import WebhookAttempt
from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookSecretSerializer,
)

SCOPE = "webhooks:manage"
NOT_FOUND = problem("not_found: no such webhook endpoint among yours.")


@extend_schema_view(
    list=extend_schema(summary="Your webhook endpoints", responses={200: WebhookEndpointSerializer(many=True)}),
    retrieve=extend_schema(summary="A webhook endpoint", responses={200: WebhookEndpointSerializer, 404: NOT_FOUND}),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    required_scopes = {"*": SCOPE}
    lookup_value_regex = r"[0-9]+"
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        return selectors.webhooks_for_actor(actor=actor_from_request(self.request)).order_by("pk")

    @extend_schema(
        summary="Subscribe an endpoint to events",
        description=(
            "Deliveries follow Standard Webhooks: headers `webhook-id`, `webhook-timestamp`, "
            "`webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`. The secret is returned once."
        ),
        request=WebhookEndpointCreateSerializer,
        responses={
            201: WebhookSecretSerializer,
            400: problem(
                "validation_error: unknown event; invalid_webhook_url: not https, credentials in the URL, or the "
                "host is/resolves to a private, loopback or link-local address."
            ),
            403: problem("permission_denied: the key lacks webhooks:manage, or the caller is not a partner."),
        },
    )
    def create(self, request):
        body = WebhookEndpointCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = actor_from_request(request)
        if actor.partner is None:
            raise DomainError("permission_denied", _("Webhooks belong to a partner: use a partner key."), status=403)
        endpoint, secret = services.webhook_endpoint_create(partner=actor.partner, **body.validated_data)
        return Response({"id": endpoint.pk, "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete an endpoint",
        description=(
            "Stops deliveries and cancels pending ones. From then on the endpoint answers 404 (GET, DELETE, "
            "rotate-secret, deliveries, redeliver) and leaves the list; the row and its delivery history are "
            "kept for support. An endpoint disabled by its own `410 Gone` stays visible with `active: false`."
        ),
        responses={204: None, 404: NOT_FOUND},
    )
    def destroy(self, request, pk=None):
        endpoint = self.get_object()
        services.webhook_endpoint_delete(endpoint_id=endpoint.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Rotate the signing secret",
        description="Returns the new secret once. The old secret keeps signing (a second `v1,` signature) for 24 h.",
        request=None,
        responses={201: WebhookSecretSerializer, 404: NOT_FOUND, 409: problem("endpoint_disabled")},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
        return Response({"id": endpoint.pk, "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Deliveries to this endpoint, newest first, with every attempt",
        responses={200: WebhookDeliverySerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        qs = endpoint.deliveries.order_by("-created_at", "-pk").prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("at", "pk"))
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookRedeliverView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        summary="Send a delivery again now",
        description=(
            "Same `webhook-id` (receivers can dedupe). Runs one more attempt after the backoff is exhausted too."
        ),
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            404: problem("not_found: no such delivery among yours."),
            409: problem("endpoint_disabled; delivery_in_progress"),
        },
    )
    def post(self, request, pk: int):
        actor = actor_from_request(request)
        if not selectors.deliveries_for_actor(actor=actor).filter(pk=pk).exists():
            raise NotFound(_("No such delivery."))
        services.webhook_delivery_redeliver(delivery_id=pk)
        delivery = selectors.deliveries_for_actor(actor=actor).prefetch_related("attempts").get(pk=pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
