"""Messages of outreach's community events and classes (issue #22): the sign-up's SMS with the door code and the
reminder the day before. Subscribed in ``NotificationsConfig.ready()``; one message per registration and kind
(dedupe keys), so a replayed event or a re-run job never sends twice. The SMS goes to the phone given at sign-up,
in the language of the page it was made on.
"""

from __future__ import annotations

from django.utils import timezone

from outreach.models import Registration
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationChannel, NotificationKind
from .models import Notification
from .selectors import public_url
from .services import notification_enqueue


def register() -> None:
    subscribe("event.registered", event_registered)
    subscribe("event.reminder_due", event_reminder)


def _send(event: OutboxEvent, kind: str, suffix: str) -> list[Notification]:
    registration = Registration.objects.select_related("event").get(pk=event.payload["registration_id"])
    outreach_event = registration.event
    language = registration.language or "zh-hans"
    zh = language.lower().startswith("zh")
    return notification_enqueue(
        kind=kind,
        to_phone=registration.phone,
        language=language,
        context={
            "event_title": outreach_event.title_zh if zh else (outreach_event.title_en or outreach_event.title_zh),
            "venue_name": outreach_event.venue_name,
            "venue_address": outreach_event.venue_address,
            "start": timezone.localtime(outreach_event.starts_at),
            "code": registration.code,
            "link": public_url(f"/events/{outreach_event.pk}/"),
        },
        channels=(NotificationChannel.SMS,),
        dedupe_key=f"event_registration:{registration.pk}:{suffix}",
    )


def event_registered(event: OutboxEvent) -> list[Notification]:
    """``event.registered``: the confirmation with the time, the place and the door code."""
    return _send(event, NotificationKind.EVENT_REGISTERED, "registered")


def event_reminder(event: OutboxEvent) -> list[Notification]:
    """``event.reminder_due``: tomorrow's event, with the door code again."""
    return _send(event, NotificationKind.EVENT_REMINDER, "reminder")
