"""Render a notification's texts from the templates of its kind and channel, in the recipient's language.

Templates live in ``notifications/templates/notifications/``:

- ``<kind>.sms.txt``            SMS text (also WeChat's, unless ``<kind>.wechat.txt`` exists)
- ``<kind>.subject.txt``        e-mail subject (one line)
- ``<kind>.email.txt``          e-mail text part
- ``<kind>.email.html``         e-mail HTML part (optional; otherwise ``_email.html`` wraps the text part)

Strings are English inside ``{% translate %}`` / ``{% blocktranslate %}`` and
are rendered under ``translation.override(language)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation

from .choices import NotificationChannel

_LANGS = {"zh-hans", "en"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html_body: str = ""


def _render_first(names: list[str], context: dict) -> str | None:
    for name in names:
        try:
            template = get_template(name)
        except TemplateDoesNotExist:
            continue
        return template.render(context)
    return None


def normalise_language(language: str | None) -> str:
    language = (language or "zh-hans").lower().replace("_", "-")
    if language in ("zh", "zh-cn", "zh-hans-cn"):
        language = "zh-hans"
    return language if language in _LANGS else "zh-hans"


def render_notification(*, kind: str, channel: str, language: str, context: dict) -> Rendered:
    """The subject, text and HTML of a ``kind`` message for ``channel``, in ``language``."""
    base = f"notifications/{kind}"
    language = normalise_language(language)
    with translation.override(language):
        if channel == NotificationChannel.EMAIL:
            subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
            text = render_to_string(f"{base}.email.txt", context).strip()
            html = _render_first([f"{base}.email.html"], context)
            if html is None:
                html = render_to_string(
                    "notifications/_email.html", {**context, "subject": subject, "text": text, "language": language}
                )
            return Rendered(subject=subject[:200], body=text, html_body=html.strip())
        names = [f"{base}.{channel}.txt", f"{base}.sms.txt"]
        body = _render_first(names, context)
        if body is None:
            raise TemplateDoesNotExist(names[-1])
        subject = ""
        if channel == NotificationChannel.WECHAT:  # a template message has a title line; an SMS does not
            subject = _render_first([f"{base}.subject.txt"], context) or ""
        return Rendered(subject=" ".join(subject.split())[:200], body=" ".join(body.split()))
