"""Logging filters: mobile numbers are masked, and signed links are redacted, wherever they appear.

Used by every handler of ``settings.LOGGING`` (the root console handler and
runserver's ``django.server`` access lines), by gunicorn's access and error
logs (``servicehub.gunicorn_logging.MaskingLogger``, set in ``gunicorn.conf.py``)
and by the console SMS / e-mail backends.

- Phones: ``13800138000`` -> ``138****8000`` always (an admin search
  ``/admin/...?q=13800138000`` writes the number into the access log).
- Signed links: the value of ``t=`` (and ``token=``, ``sig=``, ``signature=``)
  in a URL is a bearer credential -- whoever has a quote-approval link can
  approve the quote -- so it is replaced by ``[redacted]`` unless ``DEBUG`` is on
  (a developer on ``make run`` clicks the link printed by the console SMS backend).
"""

import logging
import re

# Chinese mobiles (11 digits starting with 1) and +86 forms.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# A token query parameter: ?t=..., &token=... (also percent-encoded &amp; in HTML e-mail).
_TOKEN = re.compile(r"([?&;](?:amp;)?(?:t|token|sig|signature)=)[^&\s\"'<>#]+", re.IGNORECASE)
REDACTED = "[redacted]"


def mask_phones_in(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def redact_tokens_in(text: str) -> str:
    """``/track/X/quote/?t=SIGNED&x=1`` -> ``/track/X/quote/?t=[redacted]&x=1``."""
    return _TOKEN.sub(lambda m: m.group(1) + REDACTED, text)


def _debug() -> bool:
    try:
        from django.conf import settings

        return bool(settings.configured and settings.DEBUG)
    except Exception:  # outside Django (a bare gunicorn import): be safe
        return False


def scrub(text: str, *, debug: bool | None = None) -> str:
    """Phones masked; tokens redacted unless ``debug`` (default: ``settings.DEBUG``)."""
    text = mask_phones_in(text)
    if not (_debug() if debug is None else debug):
        text = redact_tokens_in(text)
    return text


class MaskPhoneNumbersFilter(logging.Filter):
    """Masks phones and (outside DEBUG) redacts signed-link tokens in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
