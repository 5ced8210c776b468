"""The domain events of outreach's community events (announced here, acted on by notifications)."""

from __future__ import annotations

from servicehub.events import emit

EVENT_TYPES = {
    "event.registered": "Someone signed up for a community event or class (the SMS with the door code follows).",
    "event.reminder_due": "A registration for tomorrow's event is to be reminded (marked reminded in the same "
    "transaction, once per registration).",
}


def _payload(registration) -> dict:
    return {
        "registration_id": registration.pk,
        "event_id": registration.event_id,
        "kind": registration.event.kind,
        "starts_at": registration.event.starts_at.isoformat(),
    }


def event_registered(*, registration) -> None:
    emit("event.registered", _payload(registration), center_id=registration.event.center_id)


def event_reminder_due(*, registration) -> None:
    emit("event.reminder_due", _payload(registration), center_id=registration.event.center_id)
