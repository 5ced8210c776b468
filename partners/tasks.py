"""Celery tasks: thin, take ids, call a service, idempotent."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """One attempt of one delivery. A retry is scheduled by the service's ``next_attempt_at``:
    short waits are queued here with a countdown, long ones are picked up by the sweep."""
    delivery = services.webhook_delivery_attempt(delivery_id=delivery_id)
    if delivery is not None and delivery.status == "pending" and delivery.next_attempt_at is not None:
        from django.utils import timezone

        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if wait <= 3600:  # below the broker's visibility timeout; longer waits go to the sweep
            webhook_deliver.apply_async((delivery_id,), countdown=max(wait, 0))


@shared_task(ignore_result=True)
def webhook_deliveries_sweep() -> int:
    """Every minute (beat): queue deliveries that are due, e.g. after a broker outage or a long backoff."""
    ids = services.webhook_deliveries_due()
    for pk in ids:
        webhook_deliver.delay(pk)
    return len(ids)


@shared_task(ignore_result=True)
def idempotency_records_purge() -> int:
    """Hourly (beat): drop idempotency records past their 24 h+ expiry."""
    return services.idempotency_records_purge()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "partners: webhook deliveries sweep",
            "task": "partners.tasks.webhook_deliveries_sweep",
            "every_seconds": 60,
            "description": "Queues webhook deliveries that are due (after a broker outage or a long backoff).",
        },
        {
            "name": "partners: purge idempotency records",
            "task": "partners.tasks.idempotency_records_purge",
            "crontab": {"minute": "15"},
            "description": "Drops Idempotency-Key records past their expiry.",
        },
    ]
