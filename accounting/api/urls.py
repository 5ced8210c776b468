from django.urls import path

from .views import TicketFapiaoView

app_name = "accounting-api"

urlpatterns = [
    path("tickets/<str:service_no>/fapiao/", TicketFapiaoView.as_view(), name="ticket-fapiao"),
]
