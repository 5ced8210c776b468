from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("payments/notify/<slug:provider>/", views.notify, name="notify"),
    path("payments/sandbox/<str:order_no>/", views.sandbox_pay, name="sandbox-pay"),
    path("receipts/<str:token>/", views.receipt_verify, name="receipt-verify"),
    path("pay/<str:token>/", views.customer_pay, name="pay"),
]
