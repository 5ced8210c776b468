"""Shapes of the repairs API. Input serializers validate types only; rules live in repairs.services."""

from __future__ import annotations

from django.core.validators import MinLengthValidator
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from logistics.api.serializers import CustodyEntrySerializer
from parts.api.serializers import TicketPartSerializer
from payments.api.serializers import TicketPaymentSerializer
from servicehub.masking import mask_name, mask_phone
from warranty.identity import DEVICE_ID_REQUIRED, device_id_given

from ..choices import Action, Channel, FaultCategory, PartGrade, TicketStatus
from ..models import Quote, QuoteLine, RepairOperation, RepairTicket, TicketEvent

# --- input --------------------------------------------------------------------------


class TicketCustomerInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["zh-hans", "en"], required=False)


class TicketDeviceInSerializer(serializers.Serializer):
    imei = serializers.CharField(max_length=32, required=False, allow_blank=True)
    serial = serializers.CharField(max_length=64, required=False, allow_blank=True)
    model = serializers.CharField(max_length=32, required=False, allow_blank=True, help_text="Device model code.")
    sold_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Proof-of-purchase date, from 2000-01-01 up to now."
    )
    proof_note = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def validate(self, attrs):
        if not device_id_given(attrs.get("imei"), attrs.get("serial")):
            raise serializers.ValidationError({"imei": [DEVICE_ID_REQUIRED]})
        return attrs


class TicketFaultInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=FaultCategory.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TicketCreateSerializer(serializers.Serializer):
    """Check-in: a walk-in (customer + device + fault) or a booked ticket (``service_no``)."""

    center = serializers.CharField(max_length=32, required=False, help_text="Center code (walk-in).")
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.WALK_IN)
    service_no = serializers.CharField(max_length=16, required=False, help_text="Check in this booked ticket.")
    customer = TicketCustomerInSerializer(required=False)
    device = TicketDeviceInSerializer(required=False)
    fault = TicketFaultInSerializer(required=False)
    accessories = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=30)
    appearance_notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    repair_mode_enabled = serializers.BooleanField(required=False, default=False)
    data_backup_consent = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def validate(self, attrs):
        if not attrs.get("service_no"):
            missing = [f for f in ("center", "customer", "device", "fault") if f not in attrs]
            if missing:
                raise serializers.ValidationError({f: ["This field is required for a walk-in."] for f in missing})
        return attrs


class QuoteLineInSerializer(serializers.Serializer):
    repair = serializers.CharField(max_length=20, help_text="Repair operation code (see the catalog).")
    grade = serializers.ChoiceField(choices=PartGrade.choices, required=False)


class QuoteCreateSerializer(serializers.Serializer):
    lines = QuoteLineInSerializer(many=True, allow_empty=False, validators=[MinLengthValidator(1)])
    exclusions = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Warranty exclusions found at diagnosis: accidental_damage, liquid_damage, "
        "unauthorized_disassembly, cosmetic_wear.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    # check_in
    accessories = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=30)
    appearance_notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    repair_mode_enabled = serializers.BooleanField(required=False)
    data_backup_consent = serializers.BooleanField(required=False)
    # send_quote
    lines = QuoteLineInSerializer(many=True, required=False)
    exclusions = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    # approve / decline
    quote_id = serializers.IntegerField(required=False, help_text="Guard: the quote version being decided.")


class QuoteDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    quote_id = serializers.IntegerField(required=False)


# --- output -------------------------------------------------------------------------


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()


class QuoteLineSerializer(serializers.ModelSerializer):
    repair = serializers.CharField(source="operation.code", read_only=True)
    # Reasons in the request's language (stored as codes + parameters, repairs.pricing.rule_reason).
    rules = RuleSerializer(source="rules_display", many=True, read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "repair",
            "description",
            "grade",
            "list_part_price",
            "list_labor",
            "part_price",
            "labor",
            "amount",
            "rules",
        ]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = ["id", "version", "status", "total", "exclusions", "lines", "created_at", "decided_at"]
        read_only_fields = fields

    @cached_property
    def _lines(self):
        # Built once per serializer: a ModelSerializer builds its fields from the model on every new instance,
        # which was most of the cost of a quote's representation.
        return QuoteLineSerializer(many=True, context=self.context)

    @extend_schema_field(QuoteLineSerializer(many=True))
    def get_lines(self, quote):
        lines = getattr(quote, "current_lines", None)
        if lines is None:
            lines = list(quote.lines.select_related("operation").order_by("position"))
        return self._lines.to_representation(lines)


class TimelineSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="to_status")
    status_display = serializers.SerializerMethodField()
    by = serializers.CharField(source="actor_label")

    class Meta:
        model = TicketEvent
        fields = ["action", "from_status", "status", "status_display", "at", "note", "by"]
        read_only_fields = fields

    def get_status_display(self, ev) -> str:
        return str(TicketStatus(ev.to_status).label) if ev.to_status in TicketStatus.values else ev.to_status


class LoanSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    tier = serializers.CharField()
    model = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    deposit = serializers.DecimalField(max_digits=10, decimal_places=2)


class ShipmentLegSerializer(serializers.Serializer):
    leg = serializers.CharField(help_text="pickup, return, or a transfer leg's name.")
    carrier = serializers.CharField(help_text="The courier as stored (e.g. sf_express).")
    carrier_display = serializers.CharField(help_text="The courier's name in the request's language.")
    tracking_no = serializers.CharField(help_text="Empty until the courier has given the waybill number.")
    status = serializers.CharField()


class TicketSerializer(serializers.ModelSerializer):
    """A ticket for staff and partners. Every field is read-only: state moves through the action endpoints."""

    center = serializers.CharField(source="center.code", read_only=True)
    origin_center = serializers.CharField(source="origin_center.code", read_only=True, allow_null=True, default=None)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    customer = serializers.SerializerMethodField()
    device = serializers.SerializerMethodField()
    fault = serializers.SerializerMethodField()
    engineer = serializers.CharField(source="engineer.username", read_only=True, allow_null=True, default=None)
    sla_breached = serializers.SerializerMethodField()

    class Meta:
        model = RepairTicket
        fields = [
            "service_no",
            "status",
            "status_display",
            "channel",
            "center",
            "origin_center",
            "customer",
            "device",
            "fault",
            "accessories",
            "appearance_notes",
            "repair_mode_enabled",
            "data_backup_consent",
            "engineer",
            "created_at",
            "received_at",
            "stage_started_at",
            "stage_due_at",
            "sla_breached",
            "promised_at",
            "express",
            "paused_customer_minutes",
            "paused_parts_minutes",
            "delivered_at",
            "closed_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}})
    def get_customer(self, t):
        masked = self.context.get("mask_customer", False)
        c = t.customer
        return {
            "name": mask_name(c.name) if masked else c.name,
            "phone": mask_phone(c.phone) if masked else c.phone,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "imei": {"type": "string", "nullable": True},
                "serial": {"type": "string", "nullable": True},
                "model": {"type": "string"},
            },
        }
    )
    def get_device(self, t):
        return {"imei": t.device.imei, "serial": t.device.serial, "model": t.device.model.code}

    @extend_schema_field(
        {"type": "object", "properties": {"category": {"type": "string"}, "description": {"type": "string"}}}
    )
    def get_fault(self, t):
        return {"category": t.fault_category, "description": t.fault_description}

    def get_sla_breached(self, t) -> bool:
        return t.is_sla_breached(self.context.get("now"))


class TicketDetailSerializer(TicketSerializer):
    timeline = serializers.SerializerMethodField()
    quote = serializers.SerializerMethodField()
    loan = serializers.SerializerMethodField()
    custody = serializers.SerializerMethodField()
    shipments = serializers.SerializerMethodField()
    parts = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    amount_due = serializers.SerializerMethodField()
    amount_paid = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = TicketSerializer.Meta.fields + [
            "timeline",
            "quote",
            "loan",
            "custody",
            "shipments",
            "allowed_actions",
            "amount_due",
            "amount_paid",
            "payments",
            "parts",
        ]
        read_only_fields = fields

    @extend_schema_field(TimelineSerializer(many=True))
    def get_timeline(self, t):
        return TimelineSerializer(t.events.all(), many=True).data

    @extend_schema_field(QuoteSerializer(allow_null=True))
    def get_quote(self, t):
        quote = self.context.get("quote")
        return QuoteSerializer(quote).data if quote is not None else None

    @extend_schema_field(LoanSummarySerializer(allow_null=True))
    def get_loan(self, t):
        return self.context.get("loan")

    @extend_schema_field(CustodyEntrySerializer(many=True))
    def get_custody(self, t):
        """The chain of custody: every shipment hand-over of the device, in time order."""
        return CustodyEntrySerializer(self.context.get("custody", []), many=True).data

    @extend_schema_field(ShipmentLegSerializer(many=True))
    def get_shipments(self, t):
        """The courier legs with their tracking numbers (shown as soon as a leg is booked)."""
        return ShipmentLegSerializer(self.context.get("shipments", []), many=True).data

    @extend_schema_field(TicketPartSerializer(many=True))
    def get_parts(self, t):
        """The parts reserved, awaited or fitted for this repair (``parts.selectors.ticket_parts``)."""
        return self.context.get("parts", [])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, t):
        return self.context.get("allowed_actions", [])

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=2))
    def get_amount_due(self, t):
        """What the customer still owes (payments app: due - waived - paid + refunded)."""
        balance = self.context.get("balance")
        return str(balance.amount_due) if balance is not None else "0.00"

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=2))
    def get_amount_paid(self, t):
        """Money received and kept (paid less refunded)."""
        balance = self.context.get("balance")
        return str(balance.amount_paid) if balance is not None else "0.00"

    @extend_schema_field(TicketPaymentSerializer(many=True))
    def get_payments(self, t):
        return self.context.get("payments", [])


class TrackTimelineSerializer(serializers.Serializer):
    status = serializers.CharField()
    status_display = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField()


class TrackWaitedSerializer(serializers.Serializer):
    customer_minutes = serializers.IntegerField()
    parts_minutes = serializers.IntegerField()


class TrackSerializer(serializers.Serializer):
    """The customer's view: no names or phones in clear, no staff identities."""

    service_no = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    status_text = serializers.CharField(help_text="The status in plain words.")
    center = serializers.DictField()
    customer = serializers.DictField()
    device = serializers.CharField()
    promised_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the repair is promised to be ready (center's local time, business hours counted); "
        "null before check-in and once it is ready. Moves only later (the customer is told by SMS).",
    )
    express = serializers.BooleanField(help_text="An express repair: the 1-hour promise.")
    waited = TrackWaitedSerializer(help_text="Business minutes the repair waited on the customer and on parts.")
    timeline = TrackTimelineSerializer(many=True)
    quote = QuoteSerializer(allow_null=True, required=False)
    loan = LoanSummarySerializer(allow_null=True, required=False)
    shipments = ShipmentLegSerializer(many=True, required=False)
    amount_due = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, help_text="What is still to pay (0.00: nothing)."
    )


class CatalogGradeSerializer(serializers.Serializer):
    grade = serializers.CharField()
    part_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    warranty_days = serializers.IntegerField()


class CatalogRepairSerializer(serializers.ModelSerializer):
    grades = serializers.SerializerMethodField()

    class Meta:
        model = RepairOperation
        fields = ["code", "name", "fault_category", "part_price", "labor", "fixed_price", "grades"]
        read_only_fields = fields

    @extend_schema_field(CatalogGradeSerializer(many=True))
    def get_grades(self, op):
        grades = [{"grade": PartGrade.NEW, "part_price": op.part_price, "warranty_days": 90}]
        if op.refurbished_price is not None:
            grades.append({"grade": PartGrade.REFURBISHED, "part_price": op.refurbished_price, "warranty_days": 90})
        return CatalogGradeSerializer(grades, many=True).data


class VerificationCodeRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="The phone to send the 6-digit code to (+86 optional).")


class VerificationCodeSentSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid (300).")
