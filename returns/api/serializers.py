from rest_framework import serializers

from warranty.choices import Exclusion

from ..choices import DecisionKind
from ..models import Inspection, ReturnDecision


class InspectionCreateSerializer(serializers.Serializer):
    performance_fault = serializers.BooleanField()
    exclusion = serializers.ChoiceField(choices=Exclusion.choices, required=False, default="", allow_blank=True)
    findings = serializers.CharField(max_length=500)


class InspectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Inspection
        fields = ["id", "performance_fault", "exclusion", "findings", "actor_label", "at"]
        read_only_fields = fields


class DecisionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    reason = serializers.CharField(max_length=500)
    replacement_imei = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    refund_amount = serializers.RegexField(
        r"^\d{1,8}(\.\d{1,2})?$",
        max_length=11,
        required=False,
        default=None,
        allow_null=True,
        help_text='For a return: "3999.00".',
    )


class DecisionSerializer(serializers.ModelSerializer):
    service_no = serializers.CharField(source="ticket.service_no", read_only=True)
    imei = serializers.CharField(source="device.imei", read_only=True, allow_null=True)
    replacement_imei = serializers.CharField(source="replacement.imei", read_only=True, allow_null=True, default=None)

    class Meta:
        model = ReturnDecision
        fields = [
            "id",
            "service_no",
            "kind",
            "reason",
            "rule",
            "rule_text",
            "day",
            "window_days",
            "sold_at",
            "claimed_at",
            "imei",
            "replacement_imei",
            "refund_amount",
            "refund_status",
            "maker_status",
            "decided_at",
        ]
        read_only_fields = fields
