"""Service that finds people (issue #22): quick non-repair visits and Service-Day perks at the desk, community
events and classes with places and sign-ups, and the public's reports of unofficial stores.

Layer: above booking (events reuse its capacity locking), below notifications (which send its reminders).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("Outreach")

    def ready(self):
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES as EVENTS_EVENT_TYPES

        event_types_register(EVENTS_EVENT_TYPES)

        # Sign-language sessions follow their bookings through booking's and repairs' events (docs/outreach.md).
        from .signlang import register as signlang_register

        signlang_register()
