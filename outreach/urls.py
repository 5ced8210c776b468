"""Public outreach pages (issue #22)."""

from django.urls import path

from . import views

app_name = "outreach"
urlpatterns: list = [
    path("events/", views.events_list, name="events"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("events/<int:pk>/signed-up/<int:registration_id>/", views.event_signed_up, name="event_signed_up"),
]
