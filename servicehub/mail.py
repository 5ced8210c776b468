"""The console e-mail backend, without bearer links outside DEBUG.

``EMAIL_URL=consolemail://`` (the default) prints every message to stdout. A
quote-approval e-mail carries a signed link (``?t=...``) that approves the quote
for whoever holds it, and stdout ends up in log files; so, unless ``DEBUG`` is
on, this backend prints a copy of the message whose subject, text and HTML
parts have the tokens redacted and phone numbers masked
(``servicehub.logging.scrub``). Real backends (SMTP) are not affected.
"""

import copy

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend

from servicehub.logging import scrub


class RedactingConsoleEmailBackend(ConsoleEmailBackend):
    def write_message(self, message):
        shown = copy.copy(message)
        # Scrubbed before MIME encoding: quoted-printable would otherwise split a token ("=3D", soft breaks).
        shown.subject = scrub(str(message.subject))
        shown.body = scrub(str(message.body))
        if getattr(message, "alternatives", None):  # EmailAlternative(content, mimetype) in Django 5.2
            shown.alternatives = [type(alt)(scrub(str(alt[0])), alt[1]) for alt in message.alternatives]
        return super().write_message(shown)
