"""三包 return / exchange decisions inside the statutory windows and the devices sent back to the maker (issue
#23).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self) -> None:
        from loaners.selectors import ticket_close_refusal
        from repairs.choices import Action
        from repairs.workflow import transition_guard_register
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES
        from .services import exchange_guard, return_guard

        event_types_register(EVENT_TYPES)
        # Only a 三包 decision applies these moves; a return ends the ticket, so no loaner may be out (as close).
        transition_guard_register(Action.EXCHANGE, exchange_guard)
        transition_guard_register(Action.STATUTORY_RETURN, return_guard)
        transition_guard_register(Action.STATUTORY_RETURN, ticket_close_refusal)
        # The device given back goes into the center's maker return batch (parts), with the decision.
        from .handlers import maker_return_to_batch
        from .services import maker_return_register

        maker_return_register(maker_return_to_batch)
