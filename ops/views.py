"""The public repair board. The admin dashboards are in ``ops/dashboards.py``."""

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import selectors

# Seconds between two refreshes of the board body (htmx) and of the whole page (no JS).
BOARD_POLL_SECONDS = 10
BOARD_FALLBACK_REFRESH_SECONDS = 60


def _board_center(code: str):
    center = selectors.board_center(code=code)
    if center is None:
        raise Http404("No such center")
    return center


def _board_body_html(request, center) -> str:
    """The board body's HTML, cached by what it shows: the center's counts and latest change per status, the
    minute and the language (``selectors.board_fingerprint_key``). 2,400 TVs polling mostly get an unchanged
    board, which then costs the one counts query (compiled once per process) and one cache read."""
    state = selectors.board_state(center_id=center.pk)
    now = timezone.localtime()
    key = selectors.board_fingerprint_key(
        center_id=center.pk, state=state, now=now, limit=selectors.BOARD_ROWS_PER_STAGE, kind="html"
    )
    html = cache.get(key)
    if html is None:
        context = {"columns": selectors.board_columns(center_id=center.pk, state=state), "updated_at": now}
        html = render_to_string("ops/_board_body.html", context, request=request)
        cache.set(key, html, selectors.BOARD_CACHE_SECONDS)
    return html  # a SafeString, from the template or from the cache (pickled as one)


@require_safe
@never_cache
def board(request, code: str):
    """Full-screen board for the waiting-room TV: public, no login, masked data only."""
    center = _board_center(code)
    context = {
        "center": center,
        "body_html": _board_body_html(request, center),
        "poll_seconds": BOARD_POLL_SECONDS,
        "fallback_refresh_seconds": BOARD_FALLBACK_REFRESH_SECONDS,
    }
    return render(request, "ops/board.html", context)


@require_safe
@never_cache
def board_body(request, code: str):
    """Just the board body, swapped in place by htmx every ``BOARD_POLL_SECONDS``."""
    return HttpResponse(_board_body_html(request, _board_center(code)))
