from rest_framework.routers import SimpleRouter

from .views import ShipmentViewSet

app_name = "logistics-api"

router = SimpleRouter()
router.register("shipments", ShipmentViewSet, basename="shipment")

urlpatterns = [*router.urls]
