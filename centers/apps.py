from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentersConfig(AppConfig):
    name = "centers"
    verbose_name = _("Service network")

    def ready(self) -> None:
        # servicehub.actors.actor_for_user asks centers for a user's memberships (the core imports no app).
        from servicehub.actors import staff_roles_register

        from .selectors import staff_roles

        staff_roles_register(staff_roles)

        from servicehub.events import event_types_register

        from .events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
