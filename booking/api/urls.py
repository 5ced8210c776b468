from django.urls import path

from .views import AppointmentCreateView, CenterSlotsView, MailInRequestCreateView

app_name = "booking-api"
urlpatterns = [
    path("centers/<str:code>/slots/", CenterSlotsView.as_view(), name="center-slots"),
    path("appointments/", AppointmentCreateView.as_view(), name="appointment-create"),
    path("mail-in-requests/", MailInRequestCreateView.as_view(), name="mail-in-request-create"),
]
