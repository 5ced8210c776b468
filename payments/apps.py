from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from repairs.choices import Action
        from repairs.workflow import transition_effect_register, transition_guard_register
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES
        from .services import ticket_handover_refusal, ticket_quote_charge, ticket_ship_back_refusal

        event_types_register(EVENT_TYPES)
        # Approving a quote makes its total due, in the approval's transaction.
        transition_effect_register(Action.APPROVE, ticket_quote_charge)
        # The device leaves us -- over the counter, or in a parcel to a mail-in customer -- only when
        # nothing is left to pay.
        # DELIVER is not guarded: it is the courier's report about a parcel already gone.
        transition_guard_register(Action.HAND_OVER, ticket_handover_refusal)
        transition_guard_register(Action.SHIP_BACK, ticket_ship_back_refusal)
