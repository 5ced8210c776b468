"""Celery tasks: thin, idempotent, take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from . import jobs, services

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


# Scheduled jobs: each is claimed per period in ``jobs.run_job`` so beat firing twice,
# two beats, or a manual run next to the scheduled one all do the work once.


@shared_task(name="jobs.service_days_generate", acks_late=True)
def service_days_generate_task() -> dict | None:
    return jobs.job_service_days_generate()


@shared_task(name="jobs.service_day_reminders", acks_late=True)
def service_day_reminders_task() -> dict | None:
    return jobs.job_service_day_reminders()


@shared_task(name="jobs.sla_watch", acks_late=True)
def sla_watch_task() -> dict | None:
    return jobs.job_sla_watch()


@shared_task(name="jobs.loaners_due_tomorrow", acks_late=True)
def loaners_due_tomorrow_task() -> dict | None:
    return jobs.job_loaners_due_tomorrow()


@shared_task(name="jobs.loaners_overdue", acks_late=True)
def loaners_overdue_task() -> dict | None:
    return jobs.job_loaners_overdue()


@shared_task(name="jobs.appointment_reminders", acks_late=True)
def appointment_reminders_task() -> dict | None:
    return jobs.job_appointment_reminders()


@shared_task(name="jobs.appointment_no_shows", acks_late=True)
def appointment_no_shows_task() -> dict | None:
    return jobs.job_appointment_no_shows()


@shared_task(name="jobs.survey_invitations", acks_late=True)
def survey_invitations_task() -> dict | None:
    return jobs.job_survey_invitations()


@shared_task(name="jobs.tickets_auto_close", acks_late=True)
def tickets_auto_close_task() -> dict | None:
    return jobs.job_tickets_auto_close()
