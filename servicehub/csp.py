"""Content-Security-Policy per part of the site (django-csp 4).

Public pages (``/``, ``/book/``, ``/track/``, ``/board/``...) and the API get the strict
policy of ``settings.CONTENT_SECURITY_POLICY``: scripts and styles only from our own origin,
no inline script, no inline style, no eval, no plugins, no framing, forms post only
to us. An injected ``<script>`` or ``onerror=`` on a customer page does not run.

Two staff areas get a looser policy, because code we do not own needs it:

- ``/admin/``: django-celery-beat's periodic-task form has an inline ``<script>``,
  Django's admin and our admin templates use inline ``style`` attributes and
  ``<style>`` blocks, and the receipts use ``onclick="window.print()"``;
  scripts and styles may be inline there (still only from our origin otherwise).
  Staff only, behind login.
- ``/api/docs/`` (Swagger UI, served by the split view so its setup script is a
  separate request): Swagger's template has an inline ``<style>`` and the UI
  sets style attributes; styles may be inline, scripts may not.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts

# Prefix -> directives replacing the strict ones there.
LOOSER = {
    "/admin/": {"script-src": [SELF, UNSAFE_INLINE], "style-src": [SELF, UNSAFE_INLINE]},
    "/api/docs/": {"style-src": [SELF, UNSAFE_INLINE]},
}


def looser_directives_for(path: str) -> dict | None:
    for prefix, replace in LOOSER.items():
        if path.startswith(prefix):
            return replace
    return None


class ServiceHubCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with the per-path replacements of ``LOOSER``."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        replace = looser_directives_for(request.path_info)
        if replace and not report_only and parts.replace is None:
            parts.replace = dict(replace)
        return parts
