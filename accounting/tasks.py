"""Celery tasks of accounting: thin, idempotent, by id (docs/architecture.md)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="accounting.fapiao_issue", acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5
)
def fapiao_issue_task(fapiao_id: int) -> str:
    """Issue a requested fapiao; a repeated task finds it issued and does nothing."""
    return services.fapiao_issue(fapiao_id=fapiao_id).status
