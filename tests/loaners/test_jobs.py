"""Loaners' scheduled jobs: due-tomorrow reminders, overdue marking -- each customer told once."""

import datetime as dt

import pytest
from django.utils import timezone

from loaners import jobs
from notifications.models import Notification
from servicehub.models import JobRun, OutboxEvent


@pytest.fixture
def loan(center, sms_outbox):
    from loaners.services import loan_checkout
    from servicehub.actors import SYSTEM
    from tests.factories.loaners import LoanerFactory
    from tests.factories.loaners import ticket as loan_ticket

    LoanerFactory(home_center=center)
    t = loan_ticket(center=center, status="repairing")
    return loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="wechat_pay", actor=SYSTEM)


def test_loaner_due_tomorrow_reminder_once(loan):
    from loaners.models import Loan

    due = timezone.localtime() + dt.timedelta(days=1)
    Loan.objects.filter(pk=loan.pk).update(due_at=due.replace(hour=18, minute=0))
    assert jobs.job_loaners_due_tomorrow() == {"reminded": 1}
    (row,) = Notification.objects.filter(kind="loaner_due_tomorrow")
    assert (row.recipient, row.ticket_id) == (loan.customer.phone, loan.ticket_id)
    assert "18:00" in row.body
    JobRun.objects.all().delete()
    jobs.job_loaners_due_tomorrow()
    assert Notification.objects.filter(kind="loaner_due_tomorrow").count() == 1


def test_loaners_overdue_marks_and_tells_the_customer_once(loan):
    from loaners.models import Loan

    Loan.objects.filter(pk=loan.pk).update(
        out_at=timezone.now() - dt.timedelta(days=3), due_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert jobs.job_loaners_overdue() == {"marked": 1, "overdue": 1}
    loan.refresh_from_db()
    assert loan.status == "overdue"
    assert Notification.objects.filter(kind="loaner_overdue", ticket_id=loan.ticket_id).count() == 1
    JobRun.objects.all().delete()  # next hour
    assert jobs.job_loaners_overdue() == {"marked": 0, "overdue": 1}
    assert Notification.objects.filter(kind="loaner_overdue").count() == 1


def test_the_overdue_message_comes_from_the_marking_event(loan):
    from loaners.models import Loan

    Loan.objects.filter(pk=loan.pk).update(
        out_at=timezone.now() - dt.timedelta(days=3), due_at=timezone.now() - dt.timedelta(hours=2)
    )
    jobs.job_loaners_overdue()
    (event,) = OutboxEvent.objects.filter(type="loan.overdue")
    assert (event.payload["loan_id"], event.payload["ticket_id"], event.payload["status"]) == (
        loan.pk,
        loan.ticket_id,
        "overdue",
    )
    assert event.dispatched_at is not None
    (row,) = Notification.objects.filter(kind="loaner_overdue")
    assert row.dedupe_key == f"loan:{loan.pk}:overdue"


def test_loaners_overdue_twice_in_one_hour_runs_once(loan):
    now = timezone.now()
    assert jobs.job_loaners_overdue(now=now) is not None
    assert jobs.job_loaners_overdue(now=now) is None
