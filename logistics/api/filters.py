import django_filters

from ..choices import Leg, ShipmentStatus
from ..models import Shipment


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices)
    leg = django_filters.ChoiceFilter(choices=Leg.choices)
    tracking_no = django_filters.CharFilter()
    ticket = django_filters.CharFilter(field_name="ticket__service_no", label="Service number")

    class Meta:
        model = Shipment
        fields = ["status", "leg", "tracking_no", "ticket"]
