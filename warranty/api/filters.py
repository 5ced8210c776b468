import django_filters

from centers.choices import DeviceCategory
from warranty.choices import PurchaseStatus
from warranty.models import DeviceModel, PlanPurchase


class DeviceModelFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=DeviceCategory.choices)

    class Meta:
        model = DeviceModel
        fields = ["category"]


class PlanPurchaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PurchaseStatus.choices)
    plan = django_filters.CharFilter(field_name="product__code", help_text="Plan product code.")
    imei = django_filters.CharFilter(field_name="device__imei")
    purchased_after = django_filters.IsoDateTimeFilter(field_name="purchased_at", lookup_expr="gte")
    purchased_before = django_filters.IsoDateTimeFilter(field_name="purchased_at", lookup_expr="lt")

    class Meta:
        model = PlanPurchase
        fields = ["status", "plan", "imei", "purchased_after", "purchased_before"]
