"""Celery tasks: thin, idempotent, call a service."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def plan_purchases_expire() -> int:
    """Daily (beat, after local midnight): mark purchases whose term ended as ``expired``."""
    return services.plan_purchases_expire()
