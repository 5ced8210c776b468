"""Output serializers of the centers API and the validators of its query parameters."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from centers.choices import SERVICE_VALUES, CenterKind
from centers.models import OpeningException, OpeningHours, Region, ServiceCenter, ServiceDay
from servicehub.api.schema import WallClockTimeField
from servicehub.dates import MAX_YEAR, MIN_YEAR, parse_month

MAX_RADIUS_KM = 500.0
# What the query parameters accept, also declared in the schema (the range of LAT,LNG is checked by NearField).
NEAR_PATTERN = r"^ *-?[0-9]+(\.[0-9]+)? *, *-?[0-9]+(\.[0-9]+)? *$"
ADCODE_PATTERN = r"^[0-9]{6}([0-9]{6})?$"
# Service Days exist from 2000 on; year 0 or 9999-12 would make the month's bounds overflow (a 500).
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
DEFAULT_RADIUS_KM = 25.0


# --- output ---------------------------------------------------------------------


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["adcode", "name"]


class OpeningHoursSerializer(serializers.ModelSerializer):
    opens = WallClockTimeField()
    closes = WallClockTimeField()

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class OpeningExceptionSerializer(serializers.ModelSerializer):
    opens = WallClockTimeField(allow_null=True)
    closes = WallClockTimeField(allow_null=True)
    # The reason in the request's language (the typed note for "other"); reason_code for machines.
    reason = serializers.CharField(source="reason_display", read_only=True)

    class Meta:
        model = OpeningException
        fields = ["date", "closed", "opens", "closes", "reason", "reason_code"]


class UpcomingServiceDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceDay
        fields = ["date", "perks"]


class CenterSerializer(serializers.ModelSerializer):
    """A site as the public sees it (list items and verify matches)."""

    region = RegionRefSerializer(read_only=True)
    services = serializers.ListField(child=serializers.ChoiceField(choices=SERVICE_VALUES), read_only=True)
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)
    is_open_now = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField(
        help_text="Great-circle distance from `near`, km (3 decimals); null without `near`."
    )

    class Meta:
        model = ServiceCenter
        fields = [
            "code",
            "name",
            "kind",
            "official",
            "address",
            "region",
            "lat",
            "lng",
            "phone",
            "services",
            "opening_hours",
            "is_open_now",
            "distance_km",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_open_now(self, obj) -> bool:
        # Annotated by the selector in the same SQL query (no per-row queries).
        return bool(getattr(obj, "is_open_now", False))

    @extend_schema_field({"type": "number", "format": "double", "nullable": True})
    def get_distance_km(self, obj):
        d = getattr(obj, "distance_km", None)
        return None if d is None else round(d, 3)


class CenterDetailSerializer(CenterSerializer):
    """A center with its upcoming holiday hours and Service Days."""

    holiday_hours = OpeningExceptionSerializer(
        source="upcoming_exceptions", many=True, read_only=True, help_text="Upcoming dated exceptions (today on)."
    )
    service_days = UpcomingServiceDaySerializer(
        source="upcoming_service_days", many=True, read_only=True, help_text="Upcoming Service Days (today on)."
    )

    class Meta(CenterSerializer.Meta):
        fields = [f for f in CenterSerializer.Meta.fields if f != "distance_km"] + ["holiday_hours", "service_days"]
        read_only_fields = fields


class VerifyResultSerializer(serializers.Serializer):
    official = serializers.BooleanField(help_text="True only for an exact phone and/or name match.")
    matches = CenterSerializer(many=True, help_text="Official active centers matching exactly.")
    suggestions = CenterSerializer(many=True, help_text="Official centers whose name contains the query (not proof).")


class ServiceDayOutSerializer(serializers.ModelSerializer):
    center = serializers.CharField(source="center.code")
    center_name = serializers.CharField(source="center.name")

    class Meta:
        model = ServiceDay
        fields = ["center", "center_name", "date", "perks"]


class CoverageShareSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    covered = serializers.IntegerField()
    share = serializers.FloatField(help_text="covered / total, 4 decimals.")


class UncoveredRegionSerializer(serializers.Serializer):
    adcode = serializers.CharField()
    name = serializers.CharField()
    province = serializers.CharField()


class CoverageShareWithListSerializer(CoverageShareSerializer):
    uncovered = UncoveredRegionSerializer(many=True)


class ProvinceCoverageSerializer(serializers.Serializer):
    adcode = serializers.CharField()
    name = serializers.CharField()
    cities = CoverageShareSerializer()
    counties = CoverageShareSerializer()
    uncovered_cities = UncoveredRegionSerializer(many=True, source="cities.uncovered")
    uncovered_counties = UncoveredRegionSerializer(many=True, source="counties.uncovered")


class NetworkCoverageSerializer(serializers.Serializer):
    active_sites = serializers.IntegerField()
    cities = CoverageShareWithListSerializer()
    counties = CoverageShareWithListSerializer()
    provinces = ProvinceCoverageSerializer(many=True)


# --- query parameters -----------------------------------------------------------------


class NearField(serializers.Field):
    default_error_messages = {
        "invalid": _("Expected LAT,LNG in decimal degrees, e.g. 31.2304,121.4737."),
        "range": _("Latitude must be within -90..90 and longitude within -180..180."),
    }

    def to_internal_value(self, data):
        parts = str(data).split(",")
        if len(parts) != 2:
            self.fail("invalid")
        try:
            lat, lng = (float(p.strip()) for p in parts)
        except ValueError:
            self.fail("invalid")
        if lat != lat or lng != lng or not (-90 <= lat <= 90 and -180 <= lng <= 180):  # NaN included
            self.fail("range")
        return lat, lng


class CenterListParams(serializers.Serializer):
    near = NearField(required=False)
    radius_km = serializers.FloatField(required=False, min_value=0.001, max_value=MAX_RADIUS_KM)
    kind = serializers.ChoiceField(choices=CenterKind.values, required=False)
    service = serializers.ChoiceField(choices=SERVICE_VALUES, required=False)
    open_now = serializers.BooleanField(required=False, default=False)
    region = serializers.RegexField(ADCODE_PATTERN, required=False)

    def validate_radius_km(self, value):
        if value != value or value in (float("inf"), float("-inf")):
            raise serializers.ValidationError(_("Not a number."))
        return value

    def validate(self, attrs):
        if "radius_km" in attrs and "near" not in attrs:
            raise serializers.ValidationError({"radius_km": [_("radius_km needs near=LAT,LNG.")]})
        if "near" in attrs:
            attrs.setdefault("radius_km", DEFAULT_RADIUS_KM)
        return attrs


class VerifyParams(serializers.Serializer):
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    city = serializers.CharField(required=False, allow_blank=True, max_length=64)

    def validate(self, attrs):
        if not (attrs.get("phone") or "").strip() and not (attrs.get("name") or "").strip():
            raise serializers.ValidationError({"phone": [_("Give phone= or name=.")]})
        return attrs


class ServiceDayParams(serializers.Serializer):
    month = serializers.RegexField(
        MONTH_PATTERN,
        required=False,
        error_messages={"invalid": _("Expected YYYY-MM, e.g. 2026-12.")},
    )
    center = serializers.CharField(required=False, max_length=32)
    region = serializers.RegexField(r"^\d{6}(\d{6})?$", required=False)

    def validate_month(self, value):
        # The regex lets through years the calendar cannot hold (0000-01 has no first day,
        # 9999-12 no month after it); Service Days exist only within the supported years.
        if parse_month(value) is None:
            raise serializers.ValidationError(
                _("Expected a month between %(first)s and %(last)s.")
                % {"first": f"{MIN_YEAR}-01", "last": f"{MAX_YEAR}-12"}
            )
        return value


# --- store reports and the official-store feed (issue #22) -----------------------------------------------


class StoreReportCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text=_("The name on the store's sign."))
    address = serializers.CharField(max_length=300)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, help_text=_("What happened, what the store claims."))


class StoreReportCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class FeedParams(serializers.Serializer):
    since = serializers.DateTimeField(required=False, help_text=_("Only changes at or after this time (ISO 8601)."))


class FeedStoreSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=CenterKind.choices)
    address = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    phone = serializers.CharField(allow_blank=True)
    updated_at = serializers.DateTimeField()
    closed = serializers.BooleanField()


class OfficialStoreFeedSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    stores = FeedStoreSerializer(many=True)
