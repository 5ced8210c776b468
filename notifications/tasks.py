"""Celery tasks: thin, idempotent, take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from . import services

logger = logging.getLogger("notifications")


@shared_task(bind=True, name="notifications.send", acks_late=True, reject_on_worker_lost=True, max_retries=None)
def notification_send_task(self, notification_id: int) -> str:
    """Send one notification; on a transient error retry with the backoff the service chose.

    ``max_retries`` is bounded by the row (``NOTIFICATIONS_MAX_ATTEMPTS``), not
    here: a re-dispatch by the sweep and a Celery retry count alike.
    """
    outcome = services.notification_send(notification_id=notification_id)
    if outcome.status == "retry" and not self.request.is_eager:
        # Eager mode (no broker): the row stays pending and the sweep sends it when due.
        raise self.retry(countdown=outcome.retry_in, max_retries=settings.NOTIFICATIONS_MAX_ATTEMPTS + 1)
    return outcome.status


@shared_task(name="notifications.sweep", acks_late=True)
def notifications_sweep_task() -> int:
    return services.notifications_sweep()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``); the scheduled jobs live in their apps."""
    return [
        {
            "name": "notifications: sweep the outbox",
            "task": "notifications.sweep",
            "every_seconds": 60,
            "description": "Re-dispatch notifications still pending (broker down at commit) or stuck in sending.",
        },
    ]
