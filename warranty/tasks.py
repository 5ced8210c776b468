"""Celery tasks: thin, idempotent, call a service."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def plan_purchases_expire() -> int:
    """Daily (beat, after local midnight): mark purchases whose term ended as ``expired``."""
    return services.plan_purchases_expire()


def schedules() -> list[dict]:
    """This app's beat entries (collected by ``servicehub.schedules``)."""
    return [
        {
            "name": "warranty: expire plan purchases",
            "task": "warranty.tasks.plan_purchases_expire",
            "crontab": {"minute": "10", "hour": "0"},
            "description": "Marks plan purchases whose term ended as expired.",
        },
    ]
