import django_filters
from django.db.models import Q
from django.utils import timezone

from ..choices import LoanStatus
from ..models import Loan


class LoanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LoanStatus.choices)
    center = django_filters.CharFilter(field_name="center__code", help_text="Center code.")
    ticket = django_filters.CharFilter(field_name="ticket__service_no", help_text="Service number.")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        help_text="true: marked overdue, or still out past due_at (before the job marks it); false: the others.",
    )

    class Meta:
        model = Loan
        fields = ["status", "center", "ticket", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = Q(status=LoanStatus.OVERDUE) | Q(status=LoanStatus.OUT, due_at__lt=timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)
