from rest_framework import serializers

from booking.choices import NEED_KEYS
from repairs.choices import FaultCategory
from servicehub.api.schema import ProblemSerializer
from warranty.identity import DEVICE_ID_REQUIRED, device_id_given


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    available = serializers.IntegerField()


class SlotQuerySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Local date, YYYY-MM-DD.")


class CustomerInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=["zh-hans", "en"], required=False)


class DeviceInSerializer(serializers.Serializer):
    imei = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    serial = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    model = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        default="",
        help_text="Device model code (needed for a device never registered).",
    )

    def validate(self, attrs):
        if not device_id_given(attrs.get("imei"), attrs.get("serial")):
            raise serializers.ValidationError({"imei": [DEVICE_ID_REQUIRED]})
        return attrs


class NeedsSerializer(serializers.Serializer):
    sign_language = serializers.BooleanField(required=False, default=False)
    wheelchair = serializers.BooleanField(required=False, default=False)
    elderly_assistance = serializers.BooleanField(required=False, default=False)


class AppointmentInSerializer(serializers.Serializer):
    center = serializers.CharField(max_length=32, help_text="Center code.")
    start = serializers.DateTimeField(help_text="Slot start, ISO 8601 with offset (from the slots endpoint).")
    customer = CustomerInSerializer()
    device = DeviceInSerializer()
    issue = serializers.CharField(max_length=2000)
    fault_category = serializers.ChoiceField(choices=FaultCategory.choices, required=False, default="other")
    needs = NeedsSerializer(required=False)


class AppointmentOutSerializer(serializers.Serializer):
    service_no = serializers.CharField(source="ticket.service_no")
    status = serializers.CharField(source="ticket.status")
    center = serializers.CharField(source="center.code")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    needs = serializers.DictField(child=serializers.BooleanField())


class MailInInSerializer(serializers.Serializer):
    customer = CustomerInSerializer()
    device = DeviceInSerializer()
    issue = serializers.CharField(max_length=2000)
    fault_category = serializers.ChoiceField(choices=FaultCategory.choices, required=False, default="other")
    pickup_address = serializers.CharField(max_length=300, help_text="Full Chinese address, province first.")


class ShipmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    leg = serializers.CharField()
    courier = serializers.CharField()
    tracking_no = serializers.CharField()
    status = serializers.CharField()
    address = serializers.CharField()


class MailInOutSerializer(serializers.Serializer):
    service_no = serializers.CharField(source="ticket.service_no")
    status = serializers.CharField(source="ticket.status")
    hub = serializers.CharField(source="hub.code")
    province = serializers.CharField()
    city = serializers.CharField()
    county = serializers.CharField()
    pickup = ShipmentOutSerializer(source="shipment")


class AlternativeSlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    available = serializers.IntegerField()


class SlotFullProblemSerializer(ProblemSerializer):
    alternatives = AlternativeSlotSerializer(many=True, help_text="The nearest free slots (same day first).")

    class Meta:
        ref_name = "SlotFullProblem"


__all__ = ["NEED_KEYS"]
