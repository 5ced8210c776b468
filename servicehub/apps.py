from django.apps import AppConfig


class ServiceHubConfig(AppConfig):
    name = "servicehub"
    verbose_name = "ServiceHub"
