from django.urls import path

from . import views

app_name = "accounting"

urlpatterns = [
    path("track/<str:service_no>/fapiao/", views.track_fapiao, name="track-fapiao"),
    path("fapiao/<str:token>/", views.fapiao_document, name="fapiao-document"),
]
