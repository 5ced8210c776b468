"""The tracking page warmed when its link is sent (issue #17: the SMS wave).

A status change the customer is told of (``notifications.selectors.KIND_FOR_STATUS``: received, quote ready,
ready for pickup, ...) sends an SMS with the link to ``/track/<no>/``; on a Service-Day Saturday tens of thousands
of them go out within minutes and most customers open the link once, so without this every view would build the
page's parts cold (the timeline, the quote, the loan, the courier legs and their HTML; and the center's hours
table for the first customer of each center). Subscribed to ``ticket.changed`` (``WebConfig.ready``), this builds
them once in the dispatching worker, after the dispatch commits, in the language the message is written in, under
the same ticket version the page will read, so the customer's first view finds them. A change after that gives a
new version and the page builds it itself: the cache is never trusted beyond its version (``web.tracking``).

A warm that fails is logged (``on_commit(robust=True)``) and costs nothing but the warm: the page builds its parts.
"""

from __future__ import annotations

from django.db import transaction

from notifications.selectors import KIND_FOR_STATUS
from servicehub.models import OutboxEvent


def track_page_warm_on_change(event: OutboxEvent) -> None:
    """``ticket.changed`` to a status the customer hears of: warm the page after the dispatch commits."""
    p = event.payload
    if p.get("to_status") not in KIND_FOR_STATUS or p.get("from_status") == p.get("to_status"):
        return
    transaction.on_commit(_warm(p["ticket_id"]), robust=True)


def _warm(ticket_id: int):
    # A named function, not a partial: Django logs a failing robust callback by its __qualname__.
    def track_page_warm_after_commit() -> None:
        from repairs.views import track_page_warm

        track_page_warm(ticket_id=ticket_id)

    return track_page_warm_after_commit
