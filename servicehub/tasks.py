"""Celery tasks of the shared plumbing: the outbox dispatch and its sweep."""

from __future__ import annotations

from celery import shared_task

from .events import outbox_dispatch, outbox_sweep


@shared_task(name="servicehub.outbox_dispatch", acks_late=True)
def outbox_dispatch_task(event_id: int) -> bool:
    """Run the subscribers of one outbox event (a no-op when it was dispatched already)."""
    return outbox_dispatch(event_id=event_id)


@shared_task(name="servicehub.outbox_sweep")
def outbox_sweep_task() -> int:
    """Dispatch what the after-commit path lost (scheduled every minute, ``setup_schedules``)."""
    return outbox_sweep()


def schedules() -> list[dict]:
    """The plumbing's beat entries (``servicehub.schedules`` collects every app's)."""
    return [
        {
            "name": "servicehub: sweep the domain-event outbox",
            "task": "servicehub.outbox_sweep",
            "every_seconds": 60,
            "description": "Dispatches domain events whose after-commit dispatch was lost (broker down, worker died).",
        },
    ]
