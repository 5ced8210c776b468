"""Messages the scheduled jobs announce: subscribers to the jobs' domain events.

The jobs live in the apps whose rule they apply (``repairs/jobs.py``, ``loaners/jobs.py``, ``booking/jobs.py``)
and only emit events; the messages are written here, after commit, in the dispatching transaction
(``servicehub.events``). Each handler loads what it needs by the ids in the payload. The dedupe keys are the
ones the jobs used before they moved (per loan and due date, per appointment, per ticket, per customer and
Service Day month, per breach and manager), so a job re-run for the same thing -- or a replayed event --
still writes one message.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from booking.models import Appointment
from centers.choices import ServiceDayPerk
from centers.models import ServiceDay
from centers.selectors import managers_on_shift
from loaners.models import AmenityLoan, Loan
from repairs.models import Customer, RepairTicket, SlaBreach
from servicehub.events import subscribe
from servicehub.models import OutboxEvent

from .choices import NotificationChannel, NotificationKind
from .selectors import public_url, ticket_link
from .services import notification_enqueue, notification_enqueue_for_ticket


def subscribe_reminders() -> None:
    """Called from ``NotificationsConfig.ready()``."""
    subscribe("service_day.reminder_due", service_day_reminder)
    subscribe("ticket.sla_breached", sla_breached_managers_mail)
    subscribe("loan.due_tomorrow", loan_due_tomorrow_reminder)
    subscribe("loan.overdue", loan_overdue_notice)
    subscribe("appointment.reminder_due", appointment_reminder)
    subscribe("survey.invitation_due", survey_invitation)
    subscribe("amenity_loan.overdue_reminder_due", amenity_overdue_reminder)


def service_day_reminder(event: OutboxEvent) -> None:
    """The customer's reminder of a center's coming Service Day: once per customer per Service Day month."""
    payload = event.payload
    sd = ServiceDay.objects.select_related("center").get(pk=payload["service_day_id"])
    customer = Customer.objects.get(pk=payload["customer_id"])
    target = date.fromisoformat(payload["date"])
    perk_labels = dict(ServiceDayPerk.choices)  # lazy: translated when rendered in the customer's language
    notification_enqueue(
        kind=NotificationKind.SERVICE_DAY_REMINDER,
        customer=customer,
        context={
            "center_name": sd.center.name,
            "center_address": sd.center.address,
            "date": sd.date.isoformat(),
            "perks": [perk_labels.get(p, p) for p in sd.perks],
            "link": public_url(f"/centers/{sd.center.code}/"),
        },
        channels=[NotificationChannel.SMS] + ([NotificationChannel.EMAIL] if customer.email else []),
        dedupe_key=f"service_day:{target:%Y-%m}:customer:{customer.pk}",
    )


def sla_breached_managers_mail(event: OutboxEvent) -> None:
    """E-mail the ticket's center's managers on shift about the breach (once per breach and manager); every
    active manager when the roster has nobody on shift (``centers.selectors.managers_on_shift``)."""
    payload = event.payload
    breach = SlaBreach.objects.select_related("ticket__center").get(pk=payload["breach_id"])
    ticket = breach.ticket
    context = {
        "service_no": ticket.service_no,
        "center_name": ticket.center.name,
        "status": breach.status,
        "stage_due_at": breach.stage_due_at,
        "link": public_url(f"/admin/repairs/repairticket/{ticket.pk}/change/"),
    }
    for manager in managers_on_shift(center_id=ticket.center_id, at=event.created_at):
        if manager.email:
            notification_enqueue(
                kind=NotificationKind.SLA_BREACHED,
                to_email=manager.email,
                language="zh-hans",
                context=context,
                channels=(NotificationChannel.EMAIL,),
                dedupe_key=f"sla:{breach.pk}:user:{manager.pk}",
                ticket=ticket,
            )


def _loan(event: OutboxEvent) -> Loan:
    return Loan.objects.select_related("ticket__customer", "center", "loaner__model").get(pk=event.payload["loan_id"])


def _loan_notify(loan: Loan, kind: str, dedupe_key: str) -> None:
    ticket, center = loan.ticket, loan.center
    notification_enqueue_for_ticket(
        kind=kind,
        context={
            "service_no": ticket.service_no,
            "center_name": center.name,
            "center_phone": center.phone,
            "due_at": timezone.localtime(loan.due_at),
            "loaner_model": loan.loaner.model.name,
            "link": ticket_link(ticket),
        },
        dedupe_key=dedupe_key,
        ticket=ticket,
    )


def loan_due_tomorrow_reminder(event: OutboxEvent) -> None:
    """The customer's reminder that the loaner is due back tomorrow (once per loan and due date)."""
    loan = _loan(event)
    _loan_notify(loan, NotificationKind.LOANER_DUE_TOMORROW, f"loan:{loan.pk}:due:{loan.due_at:%Y-%m-%d}")


def loan_overdue_notice(event: OutboxEvent) -> None:
    """The customer's "your loaner is overdue" message (once per loan)."""
    loan = _loan(event)
    _loan_notify(loan, NotificationKind.LOANER_OVERDUE, f"loan:{loan.pk}:overdue")


def appointment_reminder(event: OutboxEvent) -> None:
    """The customer's reminder of tomorrow's appointment (once per appointment)."""
    appointment = Appointment.objects.select_related("ticket__customer", "center").get(
        pk=event.payload["appointment_id"]
    )
    ticket, center = appointment.ticket, appointment.center
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


def survey_invitation(event: OutboxEvent) -> None:
    """The customer's invitation to the satisfaction survey (once per ticket)."""
    ticket = RepairTicket.objects.select_related("customer", "center").get(pk=event.payload["ticket_id"])
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


def amenity_overdue_reminder(event: OutboxEvent) -> None:
    """The borrower's one SMS about an overdue amenity: what it is, that any center takes it back, the deposit
    (given back on return). In Chinese: the desk took no language (once per loan: the dedupe key)."""
    loan = AmenityLoan.objects.select_related("amenity", "center").get(pk=event.payload["amenity_loan_id"])
    notification_enqueue(
        kind=NotificationKind.AMENITY_OVERDUE,
        to_phone=loan.borrower_phone,
        language="zh-hans",
        context={
            "borrower_name": loan.borrower_name,
            "amenity_name": loan.amenity.name_zh,
            "center_name": loan.center.name,
            "due_back_at": timezone.localtime(loan.due_back_at),
            "deposit": loan.deposit,
            "link": public_url("/centers/"),
        },
        channels=(NotificationChannel.SMS,),
        dedupe_key=f"amenity_loan:{loan.pk}:overdue",
    )
