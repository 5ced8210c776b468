from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CatalogRepairsView, TicketViewSet, TrackView, VerificationCodeView

app_name = "repairs-api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = [
    path("catalog/repairs/", CatalogRepairsView.as_view(), name="catalog-repairs"),
    path("track/<str:service_no>/", TrackView.as_view(), name="track"),
    path("verification-codes/", VerificationCodeView.as_view(), name="verification-codes"),
    *router.urls,
]
