"""Shapes of the events API (docs/api-contract.md, "Additions being built")."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..choices import EventKind
from ..models import Event, Registration

MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"


class EventListParams(serializers.Serializer):
    center = serializers.CharField(required=False, max_length=32, help_text="A center code.")
    month = serializers.RegexField(
        MONTH_PATTERN, required=False, error_messages={"invalid": _("Expected YYYY-MM, e.g. 2026-12.")}
    )
    kind = serializers.ChoiceField(required=False, choices=[k for k in EventKind.values if k != "staff_training"])


class EventSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.code", help_text="The center running the event.")
    center_name = serializers.CharField(source="center.name")
    title = serializers.CharField(help_text="In the request's language (Accept-Language), zh-Hans by default.")
    places_left = serializers.IntegerField(help_text="Places still free (capacity minus registrations).")

    class Meta:
        model = Event
        fields = [
            "id",
            "kind",
            "title",
            "title_zh",
            "title_en",
            "center",
            "center_name",
            "venue_name",
            "venue_address",
            "starts_at",
            "ends_at",
            "capacity",
            "places_left",
            "sign_language",
            "status",
        ]


class RegistrationInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32, help_text="A mobile number (the door code goes by SMS).")


class RegistrationOutSerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id")
    phone_last4 = serializers.CharField()

    class Meta:
        model = Registration
        fields = ["id", "event", "name", "phone_last4", "code", "status", "created_at"]
