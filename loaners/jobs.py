"""Scheduled jobs of loaners: reminders of loans due tomorrow, marking overdue loans, the one SMS reminder of an
overdue amenity (umbrella, power bank...).

Run by the tasks in ``loaners/tasks.py``, once per period (``servicehub.jobs.run_job``). The overdue marking
is a loan state change through ``loaners.services.loans_mark_overdue`` (which emits ``loan.overdue`` in the
same transaction); the customer's messages are written by ``notifications.reminders`` from the events.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from repairs.jobs import auto_close_hold_register
from servicehub.events import emit, event_types_register
from servicehub.jobs import local_now, run_job

from . import selectors
from .choices import LoanStatus
from .models import Loan
from .services import amenity_loan_mark_reminded, loans_due_tomorrow, loans_mark_overdue

EVENT_TYPES = {
    "loan.due_tomorrow": "a loaner is due back tomorrow (the daily reminder; once per loan and due date)",
    # loan.overdue is declared with the loan services' events (loaners/events.py).
    "amenity_loan.overdue_reminder_due": "an amenity is still out past its due time: its borrower is reminded "
    "once by SMS (marked reminded in the same transaction)",
}


def register() -> None:
    """Called from ``LoanersConfig.ready()``: this app's event types, and its hold on the tickets' auto-close."""
    event_types_register(EVENT_TYPES)
    auto_close_hold_register("open_loan", _ticket_has_open_loan)


def _ticket_has_open_loan(*, ticket_id: int) -> bool:
    # Looked up at call time (the selector is the contract; tests replace it).
    return selectors.ticket_has_open_loan(ticket_id=ticket_id)


def job_loaners_due_tomorrow(*, now: datetime | None = None) -> dict | None:
    """Announce every loan due back tomorrow (``loans_due_tomorrow``): one ``loan.due_tomorrow`` each, daily."""
    now = local_now(now)

    def work() -> dict:
        count = 0
        for loan in loans_due_tomorrow(now=now):
            with transaction.atomic():
                emit(
                    "loan.due_tomorrow",
                    {
                        "loan_id": loan.pk,
                        "ticket_id": loan.ticket_id,
                        "due_at": timezone.localtime(loan.due_at).isoformat(),
                    },
                    center_id=loan.center_id,
                )
            count += 1
        return {"reminded": count}

    return run_job("loaners_due_tomorrow", now.date().isoformat(), work)


def job_loaners_overdue(*, now: datetime | None = None) -> dict | None:
    """Mark overdue loans (``loans_mark_overdue``: each emits ``loan.overdue``, so each customer is told once).

    Result: ``marked`` this run, ``overdue`` loans out past their due time now (whoever marked them).
    """
    now = local_now(now)

    def work() -> dict:
        marked = loans_mark_overdue(now=now)
        return {"marked": marked, "overdue": Loan.objects.filter(status=LoanStatus.OVERDUE).count()}

    return run_job("loaners_overdue", now.strftime("%Y-%m-%dT%H"), work)


def job_amenity_overdue_reminders(*, now: datetime | None = None) -> dict | None:
    """Remind each borrower of an overdue amenity once, by SMS: the loan is marked reminded (compare-and-set,
    ``amenity_loan_mark_reminded``) and its ``amenity_loan.overdue_reminder_due`` emitted in one transaction;
    notifications writes the SMS from the event. Only Chinese mobile numbers get one (a landline cannot receive
    it: ``skipped``, and it stays unmarked). Daily; a re-run finds nothing left to remind."""
    from servicehub.phones import is_cn_mobile

    now = local_now(now)

    def work() -> dict:
        reminded = skipped = 0
        for loan in selectors.amenity_loans_to_remind(now=now).only("pk", "center_id", "borrower_phone", "due_back_at"):
            if not is_cn_mobile(loan.borrower_phone):
                skipped += 1
                continue
            with transaction.atomic():
                if not amenity_loan_mark_reminded(loan_id=loan.pk, now=now):
                    continue  # returned, lost or reminded meanwhile
                emit(
                    "amenity_loan.overdue_reminder_due",
                    {"amenity_loan_id": loan.pk, "due_back_at": timezone.localtime(loan.due_back_at).isoformat()},
                    center_id=loan.center_id,
                )
            reminded += 1
        return {"reminded": reminded, "skipped_not_mobile": skipped}

    return run_job("amenity_overdue_reminders", now.date().isoformat(), work)
