from django.urls import path

from .views import (
    AppointmentCreateView,
    AppointmentDetailView,
    CallbackOutcomeView,
    CenterSlotsView,
    MailInRequestCreateView,
)

app_name = "booking-api"
urlpatterns = [
    path("centers/<str:code>/slots/", CenterSlotsView.as_view(), name="center-slots"),
    path("appointments/", AppointmentCreateView.as_view(), name="appointment-create"),
    path("appointments/<str:service_no>/", AppointmentDetailView.as_view(), name="appointment-detail"),
    path("callbacks/<int:pk>/outcome/", CallbackOutcomeView.as_view(), name="callback-outcome"),
    path("mail-in-requests/", MailInRequestCreateView.as_view(), name="mail-in-request-create"),
]
