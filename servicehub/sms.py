"""SMS backends behind one interface.

``SMS_BACKEND`` (a dotted path) picks the backend:

- ``servicehub.sms.ConsoleSMSBackend`` (default): writes the message to the log
  (phone numbers masked, signed-link tokens redacted unless DEBUG).
- ``servicehub.sms.HttpSMSBackend``: a generic HTTP provider adapter (JSON POST),
  configured by ``SMS_HTTP_URL``, ``SMS_HTTP_TOKEN``, ``SMS_HTTP_SENDER``,
  ``SMS_HTTP_TIMEOUT``.

A backend raises ``SMSError`` (retry later) or ``PermanentSMSError`` (do not
retry). ``idempotency_key`` is the notification's stable id: providers that
accept a client message reference de-duplicate on it, so a resend after a
crash between "provider accepted" and "we recorded it" is not delivered twice.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from servicehub.logging import scrub
from servicehub.masking import mask_phone

logger = logging.getLogger("servicehub.sms")


class SMSError(Exception):
    """Sending failed; trying again later may work."""


class PermanentSMSError(SMSError):
    """Sending failed for good (invalid number, rejected content, bad credentials)."""


class BaseSMSBackend:
    def send(self, *, to: str, text: str, idempotency_key: str = "") -> str:
        """Send one message; return the provider's message id. Raise ``SMSError`` on failure."""
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Default backend: writes the message to the log.

    Phone numbers are masked; signed links (``?t=...``: whoever holds one can approve
    a quote) are redacted unless DEBUG, where a developer needs to click them.
    """

    def send(self, *, to: str, text: str, idempotency_key: str = "") -> str:
        logger.info("SMS to %s: %s", mask_phone(to), scrub(text))
        return f"console:{idempotency_key}" if idempotency_key else "console"


class HttpSMSBackend(BaseSMSBackend):
    """A provider reached over HTTPS with a JSON body and a bearer token.

    Request: ``POST SMS_HTTP_URL`` with
    ``{"to": "+86...", "text": "...", "sender": SMS_HTTP_SENDER, "client_ref": idempotency_key}``,
    headers ``Authorization: Bearer SMS_HTTP_TOKEN`` and ``Idempotency-Key``.
    Answer: 2xx with JSON ``{"id": "..."}`` (or ``message_id``). 429 and 5xx and
    network errors are retried; other 4xx are permanent.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        token: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        from django.conf import settings

        self.url = url if url is not None else settings.SMS_HTTP_URL
        self.token = token if token is not None else settings.SMS_HTTP_TOKEN
        self.sender = sender if sender is not None else settings.SMS_HTTP_SENDER
        self.timeout = timeout if timeout is not None else settings.SMS_HTTP_TIMEOUT
        if not self.url.startswith(("http://", "https://")):
            raise PermanentSMSError("SMS_HTTP_URL must be an http(s) URL.")

    def send(self, *, to: str, text: str, idempotency_key: str = "") -> str:
        payload = json.dumps({"to": to, "text": text, "sender": self.sender, "client_ref": idempotency_key}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked)
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            message = f"SMS provider answered {exc.code}: {detail}"
            if exc.code == 429 or exc.code >= 500:
                raise SMSError(message) from exc
            raise PermanentSMSError(message) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SMSError(f"SMS provider unreachable: {exc}") from exc
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise SMSError("SMS provider answered with invalid JSON") from exc
        message_id = str(data.get("id") or data.get("message_id") or "")
        logger.info("SMS to %s accepted by provider as %s", mask_phone(to), message_id)
        return message_id


def get_sms_backend() -> BaseSMSBackend:
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.SMS_BACKEND)()
