from django.urls import path  # noqa: F401

app_name = "loaners-api"
urlpatterns: list = []
