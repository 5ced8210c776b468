"""The tracking answer cached per ticket, under a version read in the lookup query itself (issue #17).

The tracking API and page answer a service number plus the phone's last 4 digits. The ticket row
(with its center, customer and device) is read on every request -- the digits are checked against
it, the lookup lock and its counters stay exact -- and the same query reads, as extra columns, a
*version* of everything else the answer shows (``track_version_annotations``): the timeline, the
current quote, the loan, the courier legs, the appointment (and its center) and whether a survey
exists. What those rows show is cached under ``(ticket, version, language)``; any change of one of
them changes the version, so the next request misses and rebuilds: a change shows at once.

Why it is safe to fill the cache without a lock: the version is read before the parts are, so a
write that commits in between can only put *newer* parts under the *older* version (the next
request reads the new version and rebuilds). The ticket's own fields are never cached.

This module is an interface module (it reads repairs, loaners, logistics and booking), used by the
tracking API (``repairs.api.views.TrackView``) and page (``repairs.views.track_detail``).
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models import CharField, Count, Exists, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import get_language

TRACK_CACHE_SECONDS = 600  # a safety net only: every change that shows gives a new version
_SCHEMA = "5"  # bump when the cached shape changes
_PREFIX = "tv_"


def _agg(qs, **aggregate):
    """One aggregate of ``qs``'s rows of the outer ticket, as a subquery column."""
    ((name, expr),) = aggregate.items()
    return Subquery(
        qs.filter(ticket_id=OuterRef("pk")).order_by().values("ticket_id").annotate(**{name: expr}).values(name)[:1]
    )


def _text(expr):
    return Cast(expr, output_field=CharField())


def track_version_annotations() -> dict:
    """The version columns, for ``verification.track_lookup(annotate=...)``: one subquery each,
    every one an index look-up by ticket. Append-only rows (timeline events) are versioned by
    count and newest id; rows that change in place by count and newest ``updated_at`` (their
    writes all bump it, ``Loan`` updates included); quotes, whose status changes by UPDATE without
    a timestamp, by the id and status of the quote shown (lines are written once with it)."""
    from accounting.models import FapiaoRequest
    from booking.models import Appointment, Survey
    from loaners.models import Loan
    from logistics.models import Shipment
    from outreach.models import SignLanguageSession
    from payments.models import LedgerEntry, Payment
    from repairs.models import Quote, TicketEvent
    from repairs.selectors import SHOWN_QUOTE_STATUSES

    shown_quote = Quote.objects.filter(ticket_id=OuterRef("pk"), status__in=SHOWN_QUOTE_STATUSES).order_by("-version")
    appointment = Appointment.objects.filter(ticket_id=OuterRef("pk"))
    return {
        _PREFIX + "events": _agg(
            TicketEvent.objects, v=Concat(_text(Count("pk")), Value(":"), _text(Max("pk")), output_field=CharField())
        ),
        _PREFIX + "quote": Subquery(
            shown_quote.annotate(v=Concat(_text(F("pk")), Value(":"), F("status"), output_field=CharField())).values(
                "v"
            )[:1]
        ),
        _PREFIX + "loans": _agg(
            Loan.objects, v=Concat(_text(Count("pk")), Value(":"), _text(Max("updated_at")), output_field=CharField())
        ),
        _PREFIX + "shipments": _agg(
            Shipment.objects,
            v=Concat(_text(Count("pk")), Value(":"), _text(Max("updated_at")), output_field=CharField()),
        ),
        _PREFIX + "appointment": Subquery(
            appointment.annotate(
                v=Concat(_text(F("updated_at")), Value(":"), _text(F("center__updated_at")), output_field=CharField())
            ).values("v")[:1]
        ),
        # The sign-language session is created after the booking commits (from its event): its own version.
        _PREFIX + "sign": Subquery(
            SignLanguageSession.objects.filter(appointment__ticket_id=OuterRef("pk"))
            .annotate(v=Concat(F("status"), Value(":"), _text(F("updated_at")), output_field=CharField()))
            .values("v")[:1]
        ),
        _PREFIX + "survey": Exists(Survey.objects.filter(ticket_id=OuterRef("pk"))),
        # Money: the ledger is append-only (count and newest id); a payment also changes in place
        # (pending -> cancelled/failed without a ledger row), so newest id and how many are pending.
        _PREFIX + "money": _agg(
            LedgerEntry.objects, v=Concat(_text(Count("pk")), Value(":"), _text(Max("pk")), output_field=CharField())
        ),
        _PREFIX + "payments": _agg(
            Payment.objects,
            v=Concat(
                _text(Max("pk")),
                Value(":"),
                _text(Count("pk", filter=Q(status="pending"))),
                output_field=CharField(),
            ),
        ),
        # The fapiao's status itself (read on every request, never cached): the page shows it as is.
        _PREFIX + "fapiao": Subquery(
            FapiaoRequest.objects.filter(ticket_id=OuterRef("pk")).order_by("-created_at", "-pk").values("status")[:1]
        ),
    }


def track_version(ticket) -> str | None:
    """The version read with ``ticket`` (None when it was read without the columns)."""
    names = sorted(track_version_annotations_names())
    if not all(hasattr(ticket, n) for n in names):
        return None
    raw = "|".join(f"{getattr(ticket, n)}" for n in names)
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def track_absent(ticket) -> frozenset:
    """The parts ``ticket`` has no rows of, by its version columns (nothing known without them)."""
    if track_version(ticket) is None:
        return frozenset()
    names = {
        "quote": "quote",
        "loans": "loan",
        "shipments": "shipments",
        "appointment": "appointment",
        "money": "money",
    }
    return frozenset(part for col, part in names.items() if getattr(ticket, _PREFIX + col) is None)


def track_version_annotations_names() -> tuple[str, ...]:
    return tuple(
        _PREFIX + n
        for n in (
            "events",
            "quote",
            "loans",
            "shipments",
            "appointment",
            "sign",
            "survey",
            "money",
            "payments",
            "fapiao",
        )
    )


def track_cache_key(kind: str, ticket, version: str) -> str:
    return f"track:{kind}:{_SCHEMA}:{ticket.pk}:{version}:{get_language() or '-'}"


def cached_parts(kind: str, ticket, build):
    """``build()`` once per (ticket, version, language); uncached when ``ticket`` has no version."""
    return cached_parts_with(kind, ticket, build, also=())[0]


def cached_parts_with(kind: str, ticket, build, *, also: list[str] | tuple[str, ...]) -> tuple[dict, dict]:
    """``(cached_parts(...), found)``: ``found`` holds those of the cache keys ``also`` that exist, read in the
    same round trip as the parts (the tracking page reads its center's cache version so)."""
    version = track_version(ticket)
    if version is None:
        return build(), cache.get_many(list(also)) if also else {}
    key = track_cache_key(kind, ticket, version)
    if also:
        found = cache.get_many([key, *also])
        parts = found.pop(key, None)
    else:
        found, parts = {}, cache.get(key)
    if parts is None:
        parts = build()
        cache.set(key, parts, TRACK_CACHE_SECONDS)
    return parts, found
