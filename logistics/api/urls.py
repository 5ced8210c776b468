from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CourierPushView, ShipmentViewSet, TicketCustodyView

app_name = "logistics-api"

router = SimpleRouter()
router.register("shipments", ShipmentViewSet, basename="shipment")

urlpatterns = [
    path("tickets/<str:service_no>/custody/", TicketCustodyView.as_view(), name="ticket-custody"),
    path("couriers/<slug:provider>/push/", CourierPushView.as_view(), name="courier-push"),
    *router.urls,
]
