from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "logistics"
    verbose_name = _("Logistics")

    def ready(self):
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
