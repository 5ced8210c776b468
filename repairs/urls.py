from django.urls import path

from . import views

app_name = "repairs"

urlpatterns = [
    path("track/", views.track_form, name="track"),
    path("track/<str:service_no>/", views.track_detail, name="track-detail"),
    path("track/<str:service_no>/quote/", views.track_quote, name="track-quote"),
    path("track/<str:service_no>/quote/code/", views.track_quote_code, name="track-quote-code"),
]
