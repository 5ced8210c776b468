from django.urls import path

from .views import PaymentRefundView, TicketPaymentsView

app_name = "payments-api"

urlpatterns = [
    path("tickets/<str:service_no>/payments/", TicketPaymentsView.as_view(), name="ticket-payments"),
    path("payments/<int:pk>/refund/", PaymentRefundView.as_view(), name="payment-refund"),
]
