"""SMS backends. The notifications work plugs a real provider in behind this interface."""

import logging

logger = logging.getLogger("servicehub.sms")


class BaseSMSBackend:
    def send(self, *, to: str, text: str) -> str:
        """Send one message; return the provider's message id. Raise on failure."""
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Default backend: writes the message to the log (phone numbers masked there)."""

    def send(self, *, to: str, text: str) -> str:
        logger.info("SMS to %s: %s", to, text)
        return "console"


def get_sms_backend() -> BaseSMSBackend:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.SMS_BACKEND)()
