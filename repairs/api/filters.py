"""Ticket list filters (django-filter)."""

import django_filters

from ..choices import Channel, TicketStatus
from ..models import RepairTicket
from ..selectors import sla_breached_q


class TicketFilter(django_filters.FilterSet):
    center = django_filters.CharFilter(field_name="center__code", help_text="Repairing center code.")
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices, help_text="Repeat for several.")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    created_after = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="lt")
    sla_breached = django_filters.BooleanFilter(method="filter_sla", help_text="Current stage past its SLA target.")
    overdue = django_filters.BooleanFilter(method="filter_sla", help_text="Same as sla_breached.")
    engineer = django_filters.CharFilter(field_name="engineer__username", help_text="Assigned engineer's username.")

    class Meta:
        model = RepairTicket
        fields = ["center", "status", "channel", "created_after", "created_before", "sla_breached", "engineer"]

    def filter_sla(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(sla_breached_q(value))
