"""The domain events of repairs: what a ticket change announces, and nothing about who listens.

Every repairs service that changes a ticket calls ``ticket_changed`` inside its transaction, after
writing the ``TicketEvent``. It writes one outbox row (``servicehub.events.emit``) that commits or
rolls back with the change; after commit the subscribers react: the customer's SMS/e-mail
(``notifications.subscribers``) and the partners' webhooks (``partners.subscribers``). This module
imports neither.

Payloads hold ids, codes and the values describing the change (from/to status), never personal data:
a subscriber loads the ticket and its customer by id when it runs.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from servicehub.events import emit

EVENT_TYPES = {
    "ticket.changed": "A ticket's timeline got a row (a status change or a recorded step).",
    "ticket.quote_ready": "A ticket entered awaiting_approval: a quote waits for the customer's decision.",
    "verification.code_issued": "A one-time code was issued to a phone (the SMS carries it).",
    "ticket.lookup_locked": "Digit lookups of a ticket's tracking page were locked after repeated wrong answers.",
    "ticket.promise_slipped": "A move left more work than the promised time allows: promised_at moved later.",
}

_json = DjangoJSONEncoder()


def _at(value) -> str:
    # The same text the webhook bodies always carried (DjangoJSONEncoder: ms precision, "Z" for UTC).
    return _json.default(value)


def ticket_changed(*, ticket, event) -> None:
    """Announce ``event`` (a saved ``TicketEvent``) of ``ticket``, in the caller's transaction."""
    payload = {
        "ticket_id": ticket.pk,
        "service_no": ticket.service_no,
        "ticket_event_id": event.pk,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "action": event.action,
        "at": _at(event.at),
        "center_id": ticket.center_id,
        "origin_center_id": ticket.origin_center_id,
    }
    emit("ticket.changed", payload, center_id=ticket.center_id)
    if event.to_status == "awaiting_approval":
        emit(
            "ticket.quote_ready",
            {
                "ticket_id": ticket.pk,
                "service_no": ticket.service_no,
                "ticket_event_id": event.pk,
                "at": payload["at"],
                "center_id": ticket.center_id,
                "origin_center_id": ticket.origin_center_id,
            },
            center_id=ticket.center_id,
        )


def promise_slipped(*, ticket, previous, action: str, from_status: str) -> None:
    """Announce that ``ticket.promised_at`` moved past ``previous``, in the move's transaction (once per slip:
    each slip is a new outbox row, and the SMS dedupes by it)."""
    emit(
        "ticket.promise_slipped",
        {
            "ticket_id": ticket.pk,
            "service_no": ticket.service_no,
            "previous_promised_at": timezone.localtime(previous).isoformat(),
            "promised_at": timezone.localtime(ticket.promised_at).isoformat(),
            "action": action,
            "from_status": from_status,
            "to_status": ticket.status,
            "express": ticket.express,
            "center_id": ticket.center_id,
        },
        center_id=ticket.center_id,
    )


# --- customer verification -------------------------------------------------------------------


def verification_code_issued(*, verification, code: str, minutes: int, language: str | None) -> None:
    """Announce a one-time code, in the caller's transaction (``repairs.verification``).

    The code is the one secret a payload carries (nothing else can render the SMS); the subscriber
    that writes the SMS blanks it in the outbox row in the same transaction, as the sent SMS blanks
    its own body. Sent to the phone that asked, customer or not, consent or not: the person asked.
    """
    emit(
        "verification.code_issued",
        {"verification_id": verification.pk, "code": code, "minutes": minutes, "language": language or ""},
        center_id=None,
    )


def tracking_locked(*, ticket, lock_id: str) -> None:
    """Announce that digit lookups of ``ticket`` are locked (once per lock: ``lock_id``)."""
    emit(
        "ticket.lookup_locked",
        {
            "ticket_id": ticket.pk,
            "service_no": ticket.service_no,
            "lock_id": lock_id,
        },
        center_id=ticket.center_id,
    )
