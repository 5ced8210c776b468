from rest_framework import serializers

from ..choices import Leg, ShipmentEventKind
from ..models import Shipment, ShipmentEvent


class ShipmentEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShipmentEvent
        fields = ["id", "event", "at", "tracking_no", "seal_no", "seal_ok", "ticket_action", "actor_label", "note"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.service_no", read_only=True)
    origin_center = serializers.CharField(source="origin_center.code", read_only=True, allow_null=True, default=None)
    destination_center = serializers.CharField(
        source="destination_center.code", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Shipment
        fields = [
            "id",
            "ticket",
            "leg",
            "courier",
            "tracking_no",
            "seal_no",
            "status",
            "address",
            "origin_center",
            "destination_center",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class ShipmentDetailSerializer(ShipmentSerializer):
    events = ShipmentEventSerializer(many=True, read_only=True)

    class Meta(ShipmentSerializer.Meta):
        fields = [*ShipmentSerializer.Meta.fields, "events"]
        read_only_fields = fields


class ShipmentEventCreateSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=ShipmentEventKind.choices)
    at = serializers.DateTimeField(help_text="ISO 8601 with offset.")
    tracking_no = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    seal_no = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Seal/bag number: recorded at pickup, then required and checked at every hand-over.",
    )
    note = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class ShipmentCreateSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=32, help_text="The ticket's service number.")
    leg = serializers.ChoiceField(choices=Leg.choices)
    courier = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    tracking_no = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    seal_no = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class CustodyEntrySerializer(serializers.Serializer):
    shipment = serializers.IntegerField()
    leg = serializers.ChoiceField(choices=Leg.choices)
    event = serializers.ChoiceField(choices=ShipmentEventKind.choices)
    at = serializers.DateTimeField()
    seal_no = serializers.CharField()
    seal_ok = serializers.BooleanField(allow_null=True)
    tracking_no = serializers.CharField()
    courier = serializers.CharField()
    by = serializers.CharField()


class CustodyChainSerializer(serializers.Serializer):
    service_no = serializers.CharField()
    custody = CustodyEntrySerializer(many=True)
