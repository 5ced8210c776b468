"""Webhook endpoints and deliveries. Allow-listed fields only: never a secret or a key hash."""

from rest_framework import serializers

from ..choices import WebhookEvent
from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="https URL; private/loopback/link-local hosts are refused.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=len(WebhookEvent.values)
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class WebhookSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField(help_text="`whsec_<base64>`: shown once; store it to verify signatures.")


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    previous_secret_valid_until = serializers.DateTimeField(
        source="previous_secret_expires_at",
        allow_null=True,
        help_text="During a rotation the old secret also signs until then.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "description",
            "active",
            "disabled_reason",
            "disabled_at",
            "created_at",
            "previous_secret_valid_until",
        ]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "latency_ms", "success", "error", "response_body"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "msg_id",
            "event_type",
            "payload",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "delivered_at",
            "created_at",
            "attempts",
        ]
        read_only_fields = fields
