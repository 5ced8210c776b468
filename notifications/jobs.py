"""Scheduled jobs (run by Celery beat, see ``setup_schedules``).

Each job is claimed per period through a ``JobRun`` row (unique per job and
period), so two beats, a duplicate delivery or a manual run next to the
scheduled one do the work once; a run that crashed is taken over after its
lease. The work inside is idempotent too (unique Service Days, notification
dedupe keys, one ``SlaBreach`` per stage), so a re-run after a crash half-way
finishes the job without doing anything twice.

The jobs orchestrate other apps' services; they hold no rules of their own
beyond "what to notify, once".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from servicehub.errors import DomainError

from .choices import NotificationChannel, NotificationKind
from .selectors import public_url, ticket_link
from .services import job_run_claim, job_run_finish, notification_enqueue, notification_enqueue_for_ticket

logger = logging.getLogger("notifications.jobs")


def run_job(job: str, period: str, work: Callable[[], dict]) -> dict | None:
    """Run ``work`` once for (job, period); ``None`` when another runner has (or had) it."""
    run = job_run_claim(job=job, period=period)
    if run is None:
        logger.info("job %s %s: already done or running elsewhere; skipped", job, period)
        return None
    try:
        result = work()
    except Exception as exc:
        job_run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
        logger.exception("job %s %s failed", job, period)
        raise
    job_run_finish(run=run, result=result)
    logger.info("job %s %s done: %s", job, period, result)
    return result


def _local_now(now: datetime | None = None) -> datetime:
    return timezone.localtime(now or timezone.now())


def _customer_channels(customer) -> list[str]:
    return [NotificationChannel.SMS] + ([NotificationChannel.EMAIL] if getattr(customer, "email", "") else [])


# --------------------------------------------------------------------------- Service Days


def next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def job_service_days_generate(*, now: datetime | None = None) -> dict | None:
    """Create next month's Service Days for every active center (centers.services.service_days_generate)."""
    from centers.services import service_days_generate

    year, month = next_month(_local_now(now).date())

    def work() -> dict:
        return {"year": year, "month": month, "created": service_days_generate(year=year, month=month)}

    return run_job("service_days_generate", f"{year:04d}-{month:02d}", work)


def job_service_day_reminders(*, now: datetime | None = None) -> dict | None:
    """Remind recent customers of a center of its Service Day, a few days before it starts.

    Who: customers whose device that center handed back in the last
    ``JOBS_SERVICE_DAY_AUDIENCE_DAYS`` days. Once per customer per Service Day
    weekend (dedupe key), whatever number of centers they visited.
    """
    from centers.choices import ServiceDayPerk
    from centers.models import ServiceDay
    from repairs.models import Customer, RepairTicket

    local_now = _local_now(now)
    target = local_now.date() + timedelta(days=settings.JOBS_SERVICE_DAY_REMINDER_DAYS_BEFORE)

    def work() -> dict:
        days = {
            sd.center_id: sd
            for sd in ServiceDay.objects.filter(date=target, active=True, center__active=True).select_related("center")
        }
        # Only the first day of a Service Day weekend triggers the reminder.
        first_days = set(
            ServiceDay.objects.filter(center_id__in=list(days), date=target - timedelta(days=1)).values_list(
                "center_id", flat=True
            )
        )
        centers = {cid: sd for cid, sd in days.items() if cid not in first_days}
        since = local_now - timedelta(days=settings.JOBS_SERVICE_DAY_AUDIENCE_DAYS)
        pairs = (
            RepairTicket.objects.filter(center_id__in=list(centers), delivered_at__gte=since)
            .order_by("customer_id", "center_id")
            .values_list("customer_id", "center_id")
            .distinct()
        )
        chosen: dict[int, int] = {}
        for customer_id, center_id in pairs:
            chosen.setdefault(customer_id, center_id)
        customers = Customer.objects.in_bulk(list(chosen))
        perk_labels = dict(ServiceDayPerk.choices)  # lazy: translated when rendered in each customer's language
        for customer_id, center_id in chosen.items():
            sd = centers[center_id]
            with transaction.atomic():
                notification_enqueue(
                    kind=NotificationKind.SERVICE_DAY_REMINDER,
                    customer=customers[customer_id],
                    context={
                        "center_name": sd.center.name,
                        "center_address": sd.center.address,
                        "date": sd.date.isoformat(),
                        "perks": [perk_labels.get(p, p) for p in sd.perks],
                        "link": public_url(f"/centers/{sd.center.code}/"),
                    },
                    channels=_customer_channels(customers[customer_id]),
                    dedupe_key=f"service_day:{target:%Y-%m}:customer:{customer_id}",
                )
        return {"date": target.isoformat(), "centers": len(centers), "customers": len(chosen)}

    return run_job("service_day_reminders", target.isoformat(), work)


# --------------------------------------------------------------------------- SLA watch


def _sla_period(local_now: datetime) -> str:
    minutes = settings.JOBS_SLA_WATCH_MINUTES
    floored = local_now.replace(minute=local_now.minute - local_now.minute % minutes, second=0, microsecond=0)
    return floored.strftime("%Y-%m-%dT%H:%M")


def job_sla_watch(*, now: datetime | None = None) -> dict | None:
    """Flag tickets whose stage is overdue; tell the center's managers and partners once per breach."""
    local_now = _local_now(now)

    def work() -> dict:
        return {"new_breaches": sla_breaches_record(now=local_now)}

    return run_job("sla_watch", _sla_period(local_now), work)


def sla_breaches_record(*, now: datetime) -> int:
    """One ``SlaBreach`` per overdue stage; its notifications and webhook in the same transaction."""
    from centers.models import StaffMembership
    from partners.webhooks import webhook_event_emit
    from repairs.selectors import tickets_overdue

    from .models import SlaBreach

    new = 0
    for ticket in tickets_overdue(now=now).select_related("center").order_by("pk").iterator(chunk_size=500):
        try:
            with transaction.atomic():
                breach = SlaBreach.objects.create(ticket=ticket, status=ticket.status, stage_due_at=ticket.stage_due_at)
                context = {
                    "service_no": ticket.service_no,
                    "center_name": ticket.center.name,
                    "status": ticket.status,
                    "stage_due_at": ticket.stage_due_at,
                    "link": public_url(f"/admin/repairs/repairticket/{ticket.pk}/change/"),
                }
                managers = (
                    StaffMembership.objects.filter(center_id=ticket.center_id, role="manager", active=True)
                    .select_related("user")
                    .order_by("user_id")
                )
                for membership in managers:
                    if membership.user.email:
                        notification_enqueue(
                            kind=NotificationKind.SLA_BREACHED,
                            to_email=membership.user.email,
                            language="zh-hans",
                            context=context,
                            channels=(NotificationChannel.EMAIL,),
                            dedupe_key=f"sla:{breach.pk}:user:{membership.user_id}",
                            ticket=ticket,
                        )
                webhook_event_emit(
                    event_type="ticket.sla_breached",
                    payload={
                        "service_no": ticket.service_no,
                        "center": ticket.center.code,
                        "status": ticket.status,
                        "stage_due_at": timezone.localtime(ticket.stage_due_at).isoformat(),
                    },
                    center_id=ticket.center_id,
                )
        except IntegrityError:
            continue  # this stage's breach is already recorded (and was notified then)
        new += 1
    return new


# --------------------------------------------------------------------------- loaners


def job_loaners_due_tomorrow(*, now: datetime | None = None) -> dict | None:
    """Remind customers whose loaner is due back tomorrow (loaners.services.loans_due_tomorrow)."""
    from loaners.services import loans_due_tomorrow

    local_now = _local_now(now)

    def work() -> dict:
        count = 0
        for loan in loans_due_tomorrow(now=local_now):
            _loan_notify(loan, NotificationKind.LOANER_DUE_TOMORROW, f"loan:{loan.pk}:due:{loan.due_at:%Y-%m-%d}")
            count += 1
        return {"reminded": count}

    return run_job("loaners_due_tomorrow", local_now.date().isoformat(), work)


def job_loaners_overdue(*, now: datetime | None = None) -> dict | None:
    """Mark overdue loans (loaners.services.loans_mark_overdue) and tell each customer once."""
    from loaners.choices import LoanStatus
    from loaners.models import Loan
    from loaners.services import loans_mark_overdue

    local_now = _local_now(now)

    def work() -> dict:
        marked = loans_mark_overdue(now=local_now)
        notified = 0
        overdue = Loan.objects.filter(status=LoanStatus.OVERDUE).select_related(
            "customer", "ticket", "center", "loaner__model"
        )
        for loan in overdue.order_by("pk").iterator(chunk_size=500):
            _loan_notify(loan, NotificationKind.LOANER_OVERDUE, f"loan:{loan.pk}:overdue")
            notified += 1
        return {"marked": marked, "overdue": notified}

    return run_job("loaners_overdue", local_now.strftime("%Y-%m-%dT%H"), work)


def _loan_notify(loan, kind: str, dedupe_key: str) -> None:
    ticket, center = loan.ticket, loan.center
    model = loan.loaner.model
    with transaction.atomic():
        notification_enqueue_for_ticket(
            kind=kind,
            context={
                "service_no": ticket.service_no,
                "center_name": center.name,
                "center_phone": center.phone,
                "due_at": timezone.localtime(loan.due_at),
                "loaner_model": model.name,
                "link": ticket_link(ticket),
            },
            dedupe_key=dedupe_key,
            ticket=ticket,
        )


# --------------------------------------------------------------------------- appointments


def job_appointment_reminders(*, now: datetime | None = None) -> dict | None:
    """Remind customers of tomorrow's appointments (booking.selectors.appointments_for_reminder)."""
    from booking.selectors import appointments_for_reminder
    from booking.services import appointment_mark_reminded

    local_now = _local_now(now)
    tomorrow = local_now.date() + timedelta(days=1)

    def work() -> dict:
        count = 0
        for appointment in appointments_for_reminder(day=tomorrow):
            ticket, center = appointment.ticket, appointment.center
            with transaction.atomic():
                if not appointment_mark_reminded(appointment_id=appointment.pk, now=local_now):
                    continue  # reminded meanwhile (a manual run, or a crashed run's rows)
                notification_enqueue_for_ticket(
                    kind=NotificationKind.APPOINTMENT_REMINDER,
                    context={
                        "service_no": ticket.service_no,
                        "center_name": center.name,
                        "center_address": center.address,
                        "start": timezone.localtime(appointment.start),
                        "link": ticket_link(ticket),
                    },
                    dedupe_key=f"appointment:{appointment.pk}:reminder",
                    ticket=ticket,
                )
            count += 1
        return {"day": tomorrow.isoformat(), "reminded": count}

    return run_job("appointment_reminders", tomorrow.isoformat(), work)


def job_appointment_no_shows(*, now: datetime | None = None) -> dict | None:
    """Mark appointments whose slot ended without a check-in (booking.services.appointments_mark_no_shows)."""
    from booking.services import appointments_mark_no_shows

    local_now = _local_now(now)

    def work() -> dict:
        return {"no_shows": appointments_mark_no_shows(now=local_now)}

    return run_job("appointment_no_shows", _sla_period(local_now), work)


# --------------------------------------------------------------------------- surveys and auto-close


def job_survey_invitations(*, now: datetime | None = None) -> dict | None:
    """Invite customers to the satisfaction survey a day after hand-back (once per ticket)."""
    from repairs.choices import TicketStatus
    from repairs.models import RepairTicket

    local_now = _local_now(now)
    # A three-day window so a day with the worker down is caught up; the dedupe key keeps it once.
    until = local_now - timedelta(days=1)
    since = until - timedelta(days=3)

    def work() -> dict:
        tickets = (
            RepairTicket.objects.filter(
                status__in=[TicketStatus.DELIVERED, TicketStatus.CLOSED],
                delivered_at__gt=since,
                delivered_at__lte=until,
            )
            .select_related("customer", "center")
            .order_by("pk")
        )
        count = 0
        for ticket in tickets.iterator(chunk_size=500):
            with transaction.atomic():
                notification_enqueue_for_ticket(
                    kind=NotificationKind.SURVEY_INVITATION,
                    context={
                        "service_no": ticket.service_no,
                        "center_name": ticket.center.name,
                        "link": ticket_link(ticket, "survey"),
                    },
                    dedupe_key=f"ticket:{ticket.pk}:survey",
                    ticket=ticket,
                )
            count += 1
        return {"invited": count}

    return run_job("survey_invitations", local_now.strftime("%Y-%m-%dT%H"), work)


def job_tickets_auto_close(*, now: datetime | None = None) -> dict | None:
    """Close tickets delivered ``TICKET_AUTO_CLOSE_DAYS`` ago whose loan is settled (system actor)."""
    from loaners.selectors import ticket_has_open_loan
    from repairs.choices import TicketStatus
    from repairs.models import RepairTicket
    from repairs.services import ticket_transition
    from servicehub.actors import SYSTEM

    local_now = _local_now(now)
    cutoff = local_now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)

    def work() -> dict:
        closed = kept_open = refused = 0
        ids = list(
            RepairTicket.objects.filter(status=TicketStatus.DELIVERED, delivered_at__lte=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for ticket_id in ids:
            if ticket_has_open_loan(ticket_id=ticket_id):
                kept_open += 1
                continue
            try:
                ticket_transition(
                    ticket_id=ticket_id,
                    action="close",
                    actor=SYSTEM,
                    note=f"Closed automatically {settings.TICKET_AUTO_CLOSE_DAYS} days after delivery.",
                )
            except DomainError as exc:  # e.g. the loan is still out, or someone closed it meanwhile
                logger.info("auto-close of ticket %s refused: %s", ticket_id, exc.code)
                refused += 1
                continue
            closed += 1
        return {"closed": closed, "open_loan": kept_open, "refused": refused}

    return run_job("tickets_auto_close", local_now.date().isoformat(), work)
