from django.urls import path
from rest_framework.routers import SimpleRouter

from .amenities import AmenityLoanViewSet
from .views import LoanerAvailabilityView, LoanViewSet

app_name = "loaners-api"

router = SimpleRouter()
router.register("loans", LoanViewSet, basename="loan")
router.register("amenity-loans", AmenityLoanViewSet, basename="amenity-loan")

urlpatterns = [
    path("loaners/availability/", LoanerAvailabilityView.as_view(), name="loaner-availability"),
    *router.urls,
]
