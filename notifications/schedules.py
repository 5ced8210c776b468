"""The beat schedule, as data. ``manage.py setup_schedules`` writes it into django-celery-beat's tables.

Times are Asia/Shanghai (``CELERY_TIMEZONE``). Staff edit the rows in the admin
(Periodic tasks); ``setup_schedules`` creates missing rows and leaves edited ones
alone unless ``--reset`` is given.
"""

from __future__ import annotations

from django.conf import settings


def schedule_definitions() -> list[dict]:
    """``[{"name", "task", "every_seconds" | "crontab": {...}, "description"}]``."""
    return [
        {
            "name": "events: sweep the domain-event outbox",
            "task": "servicehub.outbox_sweep",
            "every_seconds": 60,
            "description": "Dispatches domain events whose after-commit dispatch was lost (broker down, worker lost).",
        },
        {
            "name": "notifications: sweep the outbox",
            "task": "notifications.sweep",
            "every_seconds": 60,
            "description": "Re-dispatch notifications still pending (broker down at commit) or stuck in sending.",
        },
        {
            "name": "jobs: generate next month's Service Days",
            "task": "jobs.service_days_generate",
            "crontab": {"minute": "30", "hour": "2", "day_of_month": str(settings.JOBS_SERVICE_DAYS_DAY_OF_MONTH)},
            "description": "Creates next month's Service Day rows for every active center (idempotent).",
        },
        {
            "name": "jobs: Service Day reminders",
            "task": "jobs.service_day_reminders",
            "crontab": {"minute": "0", "hour": "10"},
            "description": "Reminds recent customers of a center's Service Day a few days before it starts.",
        },
        {
            "name": "jobs: SLA watch",
            "task": "jobs.sla_watch",
            "every_seconds": settings.JOBS_SLA_WATCH_MINUTES * 60,
            "description": "Flags overdue ticket stages, e-mails the center managers, emits ticket.sla_breached.",
        },
        {
            "name": "jobs: loaners due tomorrow",
            "task": "jobs.loaners_due_tomorrow",
            "crontab": {"minute": "0", "hour": "18"},
            "description": "Reminds customers whose loaner phone is due back tomorrow.",
        },
        {
            "name": "jobs: loaners overdue",
            "task": "jobs.loaners_overdue",
            "crontab": {"minute": "5"},
            "description": "Marks overdue loans (late fees accrue) and tells each customer once.",
        },
        {
            "name": "jobs: appointment reminders",
            "task": "jobs.appointment_reminders",
            "crontab": {"minute": "0", "hour": "17"},
            "description": "Reminds customers of tomorrow's appointments.",
        },
        {
            "name": "jobs: appointment no-shows",
            "task": "jobs.appointment_no_shows",
            "every_seconds": 15 * 60,
            "description": "Marks appointments whose slot ended without a check-in as no-shows.",
        },
        {
            "name": "jobs: survey invitations",
            "task": "jobs.survey_invitations",
            "crontab": {"minute": "20"},
            "description": "Invites customers to the satisfaction survey a day after hand-back.",
        },
        {
            "name": "jobs: auto-close delivered tickets",
            "task": "jobs.tickets_auto_close",
            "crontab": {"minute": "40", "hour": "3"},
            "description": "Closes tickets delivered N days ago whose loan is settled (system actor).",
        },
        # Other apps' periodic tasks: one schedule for the whole project lives here.
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
        {
            "name": "warranty: expire plan purchases",
            "task": "warranty.tasks.plan_purchases_expire",
            "crontab": {"minute": "10", "hour": "0"},
            "description": "Marks plan purchases whose term ended as expired.",
        },
    ]
