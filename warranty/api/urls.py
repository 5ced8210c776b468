from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "warranty-api"

router = SimpleRouter()
router.register("plan-purchases", views.PlanPurchaseViewSet, basename="plan-purchase")

urlpatterns = [
    path("devices/", views.DeviceCreateView.as_view(), name="device-create"),
    path("devices/<str:imei>/coverage/", views.DeviceCoverageView.as_view(), name="device-coverage"),
    path("catalog/models/", views.DeviceModelListView.as_view(), name="catalog-models"),
    path("plans/", views.PlansOnSaleView.as_view(), name="plans-on-sale"),
    *router.urls,
]
