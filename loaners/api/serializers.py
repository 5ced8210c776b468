"""Loan API shapes. ``status`` is read-only everywhere: loans move through the action endpoints."""

from decimal import Decimal

from django.utils.translation import gettext as _
from rest_framework import serializers

from servicehub.api.schema import BlankAsNullChoiceField
from servicehub.money import MONEY_MAX
from warranty.choices import Tier

from ..choices import DeductionKind, PaymentMethod, ReturnCondition
from ..models import DepositEntry, Loan

MONEY = {"max_digits": 10, "decimal_places": 2}


class LoanCreateSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=16, help_text="The ticket's service number.")
    tier = serializers.ChoiceField(choices=Tier.choices)
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="How the deposit is paid; may be omitted only when the deposit is waived (plan holder).",
    )
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="Payment reference (card slip, transaction id).",
    )
    terms_accepted = serializers.BooleanField(
        default=True, help_text="The customer accepted the loan terms at the counter (recorded with the time)."
    )


class LoanerBriefSerializer(serializers.Serializer):
    imei = serializers.CharField()
    model = serializers.CharField(source="model.name")
    tier = serializers.CharField(source="model.tier")


class LoanSerializer(serializers.ModelSerializer):
    loaner = LoanerBriefSerializer(read_only=True)
    ticket = serializers.CharField(source="ticket.service_no", read_only=True)
    center = serializers.CharField(source="center.code", read_only=True)
    payment_method = BlankAsNullChoiceField(
        choices=PaymentMethod.choices, help_text="How the deposit was paid; null when the deposit was waived."
    )

    class Meta:
        model = Loan
        fields = [
            "id",
            "ticket",
            "center",
            "loaner",
            "tier",
            "status",
            "deposit",
            "deposit_waived",
            "payment_method",
            "out_at",
            "due_at",
            "returned_at",
            "held",
            "refunded",
            "deducted",
            "balance_due",
        ]
        read_only_fields = fields


class DepositEntrySerializer(serializers.ModelSerializer):
    deduction_kind = BlankAsNullChoiceField(choices=DeductionKind.choices, help_text="Deductions only; else null.")
    payment_method = BlankAsNullChoiceField(choices=PaymentMethod.choices, help_text="null when nothing was paid.")

    class Meta:
        model = DepositEntry
        fields = [
            "seq",
            "kind",
            "amount",
            "from_deposit",
            "balance_after",
            "deduction_kind",
            "reason",
            "payment_method",
            "reference",
            "at",
        ]
        read_only_fields = fields


class LoanDetailSerializer(LoanSerializer):
    entries = DepositEntrySerializer(many=True, read_only=True)
    condition_out = serializers.CharField(read_only=True)
    condition_in = serializers.CharField(read_only=True)
    terms_accepted_at = serializers.DateTimeField(read_only=True)
    late_fee_per_day = serializers.DecimalField(**MONEY, read_only=True)

    class Meta(LoanSerializer.Meta):
        fields = [
            *LoanSerializer.Meta.fields,
            "condition_out",
            "condition_in",
            "terms_accepted_at",
            "late_fee_per_day",
            "entries",
        ]
        read_only_fields = fields


COUNTER_DEDUCTION_KINDS = [
    (DeductionKind.DAMAGE.value, "damage"),
    (DeductionKind.MISSING_ACCESSORY.value, "missing_accessory"),
]


class DeductionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="Required: why this is deducted.")
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    kind = serializers.ChoiceField(
        choices=COUNTER_DEDUCTION_KINDS,
        required=False,
        help_text="damage (default) or missing_accessory (default when condition is missing_accessories). "
        "Late fees and the loss value are computed by the server.",
    )


class LoanReturnSerializer(serializers.Serializer):
    condition = serializers.ChoiceField(choices=ReturnCondition.choices)
    deductions = DeductionSerializer(many=True, required=False, default=list)

    def validate_deductions(self, value):
        # Each amount fits max_digits; their sum must too (the service re-checks with late fees).
        total = sum((item["amount"] for item in value), Decimal("0"))
        if total > MONEY_MAX:
            raise serializers.ValidationError(
                _("These deductions add up to %(total)s; the most one return can deduct is %(max)s.")
                % {"total": total, "max": MONEY_MAX}
            )
        return value


class LoanReturnResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    refund = serializers.DecimalField(**MONEY, source="refunded")
    deducted = serializers.DecimalField(**MONEY)
    balance_due = serializers.DecimalField(**MONEY)
    returned_at = serializers.DateTimeField(allow_null=True)
    entries = DepositEntrySerializer(many=True)


class SettlementLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    reason = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    from_deposit = serializers.DecimalField(**MONEY)
    owed = serializers.DecimalField(**MONEY)


class ReturnPreviewSerializer(serializers.Serializer):
    condition = serializers.CharField()
    held = serializers.DecimalField(**MONEY)
    late_days = serializers.IntegerField()
    lines = SettlementLineSerializer(many=True)
    deducted = serializers.DecimalField(**MONEY)
    refund = serializers.DecimalField(**MONEY)
    balance_due = serializers.DecimalField(**MONEY)


class AvailabilitySerializer(serializers.Serializer):
    center = serializers.CharField()
    tiers = serializers.DictField(child=serializers.IntegerField(), help_text='{"flagship": n, "standard": m}')
