from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarrantyConfig(AppConfig):
    name = "warranty"
    verbose_name = _("Devices, warranty and plans")

    def ready(self):
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
