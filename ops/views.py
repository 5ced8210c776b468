"""The public repair board. The admin dashboards are in ``ops/dashboards.py``."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import selectors

# Seconds between two refreshes of the board body (htmx) and of the whole page (no JS).
BOARD_POLL_SECONDS = 10
BOARD_FALLBACK_REFRESH_SECONDS = 60


def _board_context(code: str) -> dict:
    center = selectors.board_center(code=code)
    if center is None:
        raise Http404("No such center")
    return {
        "center": center,
        "columns": selectors.board_columns(center_id=center.pk),
        "updated_at": timezone.localtime(),
        "poll_seconds": BOARD_POLL_SECONDS,
        "fallback_refresh_seconds": BOARD_FALLBACK_REFRESH_SECONDS,
    }


@require_safe
@never_cache
def board(request, code: str):
    """Full-screen board for the waiting-room TV: public, no login, masked data only."""
    return render(request, "ops/board.html", _board_context(code))


@require_safe
@never_cache
def board_body(request, code: str):
    """Just the board body, swapped in place by htmx every ``BOARD_POLL_SECONDS``.

    The rendered HTML is cached by what it shows (columns, minute, language): 2,400 TVs polling
    mostly get an unchanged board, which then costs the one counts query and a cache read.
    """
    import hashlib

    from django.core.cache import cache
    from django.http import HttpResponse
    from django.template.loader import render_to_string
    from django.utils.translation import get_language

    context = _board_context(code)
    digest = hashlib.blake2b(
        repr((context["columns"], f"{context['updated_at']:%H:%M}", get_language())).encode(), digest_size=16
    ).hexdigest()
    key = f"ops:board-html:{digest}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("ops/_board_body.html", context, request=request)
        cache.set(key, html, selectors.BOARD_CACHE_SECONDS)
    return HttpResponse(html)
