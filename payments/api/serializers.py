from __future__ import annotations

from rest_framework import serializers

from ..choices import Method
from ..models import Payment, Refund


class PaymentCreateSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Method.choices)
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, help_text="Default: everything payable now."
    )
    reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Card terminal reference (required for card)."
    )


class PaymentSerializer(serializers.ModelSerializer):
    at = serializers.SerializerMethodField()
    qr = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = ["id", "method", "amount", "refunded", "status", "order_no", "receipt_no", "at", "qr"]
        read_only_fields = fields

    def get_at(self, p: Payment) -> str | None:
        when = p.succeeded_at or p.created_at
        return serializers.DateTimeField().to_representation(when) if when else None

    def get_qr(self, p: Payment) -> str | None:
        """What the customer scans while the payment is pending (WeChat code_url / Alipay qr_code)."""
        return p.qr_payload or None


class RefundCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, help_text="Default: all that is left of the payment."
    )
    reason = serializers.CharField(max_length=2000)
    keep_due = serializers.BooleanField(
        required=False, default=False, help_text="A payment taken by mistake: the amount stays due."
    )


class RefundSerializer(serializers.ModelSerializer):
    payment = serializers.IntegerField(source="payment_id", read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "payment", "amount", "status", "refund_no", "reason", "succeeded_at"]
        read_only_fields = fields


class TicketPaymentSerializer(serializers.Serializer):
    """The ticket API's ``payments`` list."""

    id = serializers.IntegerField()
    method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=10, decimal_places=2)
    status = serializers.CharField()
    at = serializers.DateTimeField()


def ticket_payments_data(payments: list[Payment]) -> list[dict]:
    return [
        {
            "id": p.pk,
            "method": p.method,
            "amount": str(p.amount),
            "refunded": str(p.refunded),
            "status": p.status,
            "at": serializers.DateTimeField().to_representation(p.succeeded_at or p.created_at),
        }
        for p in payments
    ]
