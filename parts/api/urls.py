from django.urls import path

from .views import CenterStockView

app_name = "parts-api"

urlpatterns = [
    path("centers/<str:code>/stock/", CenterStockView.as_view(), name="center-stock"),
]
