"""Receipts' fapiao (electronic invoices) and the daily close of each center against the payments ledger (issue
#19).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting")

    def ready(self) -> None:
        from servicehub.events import event_types_register

        from .events import EVENT_TYPES

        event_types_register(EVENT_TYPES)
