"""Outreach API routes (issue #22), included under /api/v1/."""

from django.urls import path

from .views import EventListView, RegistrationCreateView
from .visits import VisitCreateView, VisitSummaryView

app_name = "outreach-api"

urlpatterns = [
    path("visits/", VisitCreateView.as_view(), name="visit-create"),
    path("visits/summary/", VisitSummaryView.as_view(), name="visit-summary"),
    path("events/", EventListView.as_view(), name="events"),
    path("events/<int:pk>/registrations/", RegistrationCreateView.as_view(), name="event-registrations"),
]
