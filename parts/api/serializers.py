from rest_framework import serializers


class StockRowSerializer(serializers.Serializer):
    part = serializers.CharField(source="part.part_number", help_text="Part number.")
    name = serializers.CharField(source="part.name", help_text="Part name in the request's language.")
    model = serializers.SerializerMethodField(help_text="Device model codes the part fits, comma-separated.")
    grade = serializers.CharField(source="part.grade", help_text="`new` or `refurbished`.")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField(source="available_count")

    def get_model(self, obj) -> str:
        return ",".join(sorted(m.code for m in obj.part.device_models.all()))


class TicketPartSerializer(serializers.Serializer):
    part = serializers.CharField(help_text="Part number.")
    status = serializers.ChoiceField(choices=["reserved", "awaiting", "consumed"])
