from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partners and API keys")

    def ready(self) -> None:
        from . import subscribers
        from .job_subscribers import subscribe_job_webhooks

        subscribers.register()
        subscribe_job_webhooks()
        # The API plumbing asks partners who a key is; the core imports no app (servicehub.api.keys, .actors).
        from servicehub.actors import credential_actor_register
        from servicehub.api.keys import key_verifier_register

        from .authentication import actor_for_api_key, key_verify

        key_verifier_register(key_verify)
        credential_actor_register(actor_for_api_key)
