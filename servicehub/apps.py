from django.apps import AppConfig


class ServiceHubConfig(AppConfig):
    name = "servicehub"
    verbose_name = "ServiceHub"

    def ready(self):
        # System checks (servicehub.E001: throttles counted per process) register on import.
        from . import checks, fragments  # noqa: F401  (fragments: clears its cache when settings change)
        from .dates import install_datetime_input_guards
        from .money import install_decimal_input_guards

        install_decimal_input_guards()
        install_datetime_input_guards()
