from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoanersConfig(AppConfig):
    name = "loaners"
    verbose_name = _("Loaners and deposits")

    def ready(self) -> None:
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES
        from .jobs import register as register_jobs

        event_types_register(EVENT_TYPES)
        register_jobs()
        # Loaners stands above repairs: it adds its rule to the ticket workflow instead of repairs importing it.
        from repairs.choices import Action
        from repairs.workflow import transition_guard_register

        from .selectors import ticket_close_refusal

        transition_guard_register(Action.CLOSE, ticket_close_refusal)
