from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import WebhookEndpointViewSet, WebhookRedeliverView

app_name = "partners-api"

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("webhook-deliveries/<int:pk>/redeliver/", WebhookRedeliverView.as_view(), name="webhook-redeliver"),
    *router.urls,
]
