"""Outreach API routes (issue #22), included under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .sign_sessions import SignSessionViewSet
from .views import EventListView, RegistrationCreateView
from .visits import VisitCreateView, VisitSummaryView

app_name = "outreach-api"

router = SimpleRouter()
router.register("sign-sessions", SignSessionViewSet, basename="sign-session")

urlpatterns = [
    path("visits/", VisitCreateView.as_view(), name="visit-create"),
    path("visits/summary/", VisitSummaryView.as_view(), name="visit-summary"),
    path("events/", EventListView.as_view(), name="events"),
    path("events/<int:pk>/registrations/", RegistrationCreateView.as_view(), name="event-registrations"),
    *router.urls,
]
