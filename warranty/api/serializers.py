"""Shapes of the warranty API (see docs/api-contract.md). No rules here: services decide."""

from rest_framework import serializers

from servicehub.money import money
from warranty.choices import PurchaseChannel, SaleChannel
from warranty.identity import DEVICE_ID_REQUIRED, device_id_given
from warranty.models import Device, DeviceModel, PlanPurchase, validate_imei
from warranty.selectors import normalize_imei


class DeviceModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceModel
        fields = ["code", "name", "category", "tier", "release_date"]


class StatutoryDatesSerializer(serializers.Serializer):
    return_until = serializers.DateField(allow_null=True, help_text="Last day to return (local date, inclusive).")
    exchange_until = serializers.DateField(allow_null=True, help_text="Last day to exchange (inclusive).")
    repair_until = serializers.DateField(
        allow_null=True, help_text="Last day of free repair of the main unit (inclusive)."
    )


class PlanCoverageSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    valid_until = serializers.DateField(help_text="Local date, inclusive.")
    claims_remaining = serializers.IntegerField(allow_null=True, help_text="null = unlimited (extended warranty).")
    fee_per_claim = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class CoverageSerializer(serializers.Serializer):
    """The public coverage answer: no owner data (no customer, no retailer, no repair history)."""

    imei = serializers.CharField()
    model = serializers.CharField(help_text="Device model code.")
    model_name = serializers.CharField()
    category = serializers.CharField()
    in_warranty = serializers.BooleanField()
    free_repair = serializers.BooleanField(
        help_text="For the `fault` asked (default: a main-unit fault, no exclusion)."
    )
    excluded_reason = serializers.CharField(allow_null=True)
    statutory = StatutoryDatesSerializer()
    extended_until = serializers.DateField(allow_null=True)
    plans = PlanCoverageSerializer(many=True)
    reasons = serializers.ListField(child=serializers.CharField())


def coverage_payload(device, coverage) -> dict:
    return {
        "imei": device.imei,
        "model": device.model.code,
        "model_name": device.model.name,
        "category": device.model.category,
        "in_warranty": coverage.in_warranty,
        "free_repair": coverage.free_repair,
        "excluded_reason": coverage.excluded_reason,
        "statutory": {
            "return_until": coverage.return_until,
            "exchange_until": coverage.exchange_until,
            "repair_until": coverage.repair_until,
        },
        "extended_until": coverage.extended_until,
        "plans": [
            {
                "code": p.code,
                "kind": p.kind,
                "valid_until": p.valid_until,
                "claims_remaining": p.claims_remaining,
                "fee_per_claim": p.fee_per_claim,
            }
            for p in coverage.plans
        ],
        "reasons": list(coverage.reasons),
    }


class PlanOnSaleSerializer(serializers.Serializer):
    code = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="For the `model`'s tier; null without `model`."
    )
    prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=10, decimal_places=2), help_text="By tier."
    )
    term_months = serializers.IntegerField()
    claims = serializers.IntegerField(allow_null=True, help_text="Claims allowed; null = unlimited.")
    fee_per_claim = serializers.DecimalField(max_digits=10, decimal_places=2)
    screen_fee_per_claim = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    purchase_window_days = serializers.IntegerField(help_text="0 = only with the new device; else days after the sale.")
    cooling_off_days = serializers.IntegerField()


def plan_on_sale_payload(product, *, tier: str | None) -> dict:
    prices = {p.tier: money(p.price) for p in product.prices.all()}
    return {
        "code": product.code,
        "kind": product.kind,
        "name": product.name,
        "description": product.description,
        "price": prices.get(tier) if tier else None,
        "prices": prices,
        "term_months": product.term_months,
        "claims": product.claims_allowed,
        "fee_per_claim": money(product.fee_per_claim),
        "screen_fee_per_claim": money(product.screen_fee_per_claim)
        if product.screen_fee_per_claim is not None
        else None,
        "purchase_window_days": product.purchase_window_days,
        "cooling_off_days": product.cooling_off_days,
    }


class ImeiField(serializers.CharField):
    """15 digits with a valid Luhn check digit; spaces and dashes are ignored."""

    def to_internal_value(self, data):
        value = normalize_imei(super().to_internal_value(data))
        try:
            validate_imei(value)
        except Exception as exc:  # django ValidationError -> DRF ValidationError with the same message
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)])) from None
        return value


class DeviceCreateSerializer(serializers.Serializer):
    imei = ImeiField(required=False, allow_null=True, max_length=32)
    serial = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    model = serializers.CharField(max_length=32, help_text="Device model code (GET /api/v1/catalog/models/).")
    sold_at = serializers.DateTimeField(
        help_text="Sale time (ISO 8601 with offset), from 2000-01-01 up to now (400 otherwise). "
        "Statutory warranty starts here."
    )
    retailer = serializers.IntegerField(
        required=False, allow_null=True, help_text="Partner id; partner keys may only give their own (default)."
    )
    channel = serializers.ChoiceField(choices=SaleChannel.choices, required=False, default=SaleChannel.RETAIL)
    region = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text="Adcode of the region of sale."
    )

    def validate(self, attrs):
        if not device_id_given(attrs.get("imei"), attrs.get("serial")):
            raise serializers.ValidationError({"imei": [DEVICE_ID_REQUIRED]})
        return attrs


class DeviceSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.code")
    model_name = serializers.CharField(source="model.name")
    retailer = serializers.CharField(source="retailer.name", allow_null=True, default=None)
    region = serializers.CharField(source="region.adcode", allow_null=True, default=None)

    class Meta:
        model = Device
        fields = [
            "id",
            "imei",
            "serial",
            "model",
            "model_name",
            "sold_at",
            "retailer",
            "channel",
            "region",
            "created_at",
        ]


class PlanPurchaseCreateSerializer(serializers.Serializer):
    imei = ImeiField(required=False, allow_null=True, max_length=32)
    serial = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)
    plan = serializers.CharField(max_length=32, help_text="Plan product code (GET /api/v1/plans/).")
    purchased_at = serializers.DateTimeField(help_text="Not in the future, not before the device's sale.")
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, help_text="Price paid (CNY).")
    channel = serializers.ChoiceField(
        choices=PurchaseChannel.choices, required=False, help_text="Staff only; partner keys always sell as `partner`."
    )

    def validate(self, attrs):
        if not device_id_given(attrs.get("imei"), attrs.get("serial")):
            raise serializers.ValidationError({"imei": [DEVICE_ID_REQUIRED]})
        return attrs


class PlanPurchaseSerializer(serializers.ModelSerializer):
    imei = serializers.CharField(source="device.imei", allow_null=True)
    serial = serializers.CharField(source="device.serial", allow_null=True)
    model = serializers.CharField(source="device.model.code")
    plan = serializers.CharField(source="product.code")
    kind = serializers.CharField(source="product.kind")
    price = serializers.DecimalField(source="price_paid", max_digits=10, decimal_places=2)
    partner = serializers.CharField(source="partner.name", allow_null=True, default=None)
    claims_remaining = serializers.IntegerField(allow_null=True)

    class Meta:
        model = PlanPurchase
        fields = [
            "id",
            "imei",
            "serial",
            "model",
            "plan",
            "kind",
            "purchased_at",
            "starts_on",
            "ends_on",
            "price",
            "channel",
            "partner",
            "status",
            "claims_allowed",
            "claims_used",
            "claims_remaining",
            "refunded_amount",
        ]
        read_only_fields = fields
