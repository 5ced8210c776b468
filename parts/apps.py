"""Part catalog, stock ledger per center and hub, reservations for tickets, replenishment and defective parts
back to the maker (issue #20).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartsConfig(AppConfig):
    name = "parts"
    verbose_name = _("Parts and stock")

    def ready(self) -> None:
        from repairs.choices import Action
        from repairs.workflow import transition_effect_register, transition_guard_register
        from servicehub.events import event_types_register

        from . import services
        from .events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
        # Parts stands above repairs: it joins the ticket's moves instead of repairs importing it.
        transition_effect_register(Action.APPROVE, services.effect_reserve)
        transition_effect_register(Action.SEND_QUOTE, services.effect_reserve)  # a free quote goes to repair
        for action in (Action.CANCEL, Action.NO_SHOW, Action.DECLINE):
            transition_effect_register(action, services.effect_release)
        transition_effect_register(Action.FINISH, services.effect_consume)
        transition_guard_register(Action.PARTS_ARRIVED, services.guard_parts_arrived)
