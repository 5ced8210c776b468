"""Shapes of the fapiao API. Input serializers validate types only; rules live in accounting.services."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import BuyerType, FapiaoStatus, RequestedVia
from ..models import FapiaoRequest


class FapiaoRequestInSerializer(serializers.Serializer):
    buyer_type = serializers.ChoiceField(choices=BuyerType.choices)
    title = serializers.CharField(max_length=100, help_text="The name on the fapiao (person or company).")
    tax_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="统一社会信用代码 (18 characters), required for a company; checked with python-stdnum.",
    )
    email = serializers.EmailField(required=False, allow_blank=True)


class FapiaoSerializer(serializers.ModelSerializer):
    service_no = serializers.CharField(source="ticket.service_no", read_only=True)
    status = serializers.ChoiceField(choices=FapiaoStatus.choices, read_only=True)
    buyer_type = serializers.ChoiceField(choices=BuyerType.choices, read_only=True)
    requested_via = serializers.ChoiceField(choices=RequestedVia.choices, read_only=True)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    pdf_url = serializers.CharField(read_only=True, help_text="Link to the issued document (empty until issued).")

    class Meta:
        model = FapiaoRequest
        fields = [
            "service_no",
            "status",
            "buyer_type",
            "title",
            "tax_number",
            "email",
            "amount",
            "invoice_number",
            "pdf_url",
            "issued_at",
            "failure_reason",
            "requested_via",
            "created_at",
        ]
        read_only_fields = fields
