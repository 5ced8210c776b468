from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoanersConfig(AppConfig):
    name = "loaners"
    verbose_name = _("Loaners and deposits")

    def ready(self):
        from .jobs import register as register_jobs

        register_jobs()
