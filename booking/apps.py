from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Customer self-service")

    def ready(self):
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES
        from .jobs import EVENT_TYPES as JOB_EVENT_TYPES

        event_types_register(EVENT_TYPES)
        event_types_register(JOB_EVENT_TYPES)

        # Store reports (centers) are filed by region: centers asks the address parser, which lives here.
        from centers.services import address_region_resolver_register

        from .addresses import address_region

        address_region_resolver_register(address_region)
