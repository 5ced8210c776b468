from django.urls import path

from .views import DecisionView, InspectionView

app_name = "returns-api"

urlpatterns = [
    path("tickets/<str:service_no>/inspection/", InspectionView.as_view(), name="ticket-inspection"),
    path("tickets/<str:service_no>/return-decision/", DecisionView.as_view(), name="ticket-return-decision"),
]
