"""Scheduled jobs: once per period (JobRun), safe after a crash, each with its effect and no duplicate."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications import jobs, services
from notifications.models import JobRun, Notification, SlaBreach
from repairs.models import RepairTicket
from servicehub.celery import app as celery_app
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.factories.warranty import shanghai

# --- JobRun -----------------------------------------------------------------


def test_a_second_runner_for_the_same_period_gets_nothing(db):
    first = services.job_run_claim(job="j", period="2026-12")
    assert first is not None
    assert services.job_run_claim(job="j", period="2026-12") is None
    assert services.job_run_claim(job="j", period="2027-01") is not None


def test_a_finished_run_is_not_run_again(db):
    run = services.job_run_claim(job="j", period="p")
    assert services.job_run_finish(run=run, result={"n": 1})
    assert services.job_run_claim(job="j", period="p") is None
    run.refresh_from_db()
    assert (run.status, run.result) == ("succeeded", {"n": 1})


def test_a_crashed_run_is_taken_over_after_its_lease(db, settings):
    settings.JOBS_RUN_LEASE_SECONDS = 60
    t0 = timezone.now()
    crashed = services.job_run_claim(job="j", period="p", now=t0)
    assert services.job_run_claim(job="j", period="p", now=t0 + dt.timedelta(seconds=59)) is None
    again = services.job_run_claim(job="j", period="p", now=t0 + dt.timedelta(seconds=61))
    assert again is not None and again.pk == crashed.pk
    assert again.attempts == 2
    # the crashed runner, coming back to life, cannot record its outcome over the new owner's
    assert services.job_run_finish(run=crashed, result={"late": True}) is False
    assert services.job_run_finish(run=again, result={"ok": True}) is True


def test_a_failed_run_records_the_error_and_may_run_again(db):
    def boom():
        raise ValueError("centers service down")

    with pytest.raises(ValueError):
        jobs.run_job("j", "p", boom)
    run = JobRun.objects.get(job="j", period="p")
    assert run.status == "failed"
    assert run.error == "ValueError: centers service down"
    assert jobs.run_job("j", "p", lambda: {"ok": 1}) == {"ok": 1}
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("succeeded", 2, "")


# --- schedules ----------------------------------------------------------------


def test_setup_schedules_is_idempotent_and_keeps_admin_edits(db):
    call_command("setup_schedules")
    count = PeriodicTask.objects.count()
    assert count == len(jobs_schedule_names())
    sla = PeriodicTask.objects.get(name="jobs: SLA watch")
    sla.enabled = False
    sla.save()
    call_command("setup_schedules")
    assert PeriodicTask.objects.count() == count
    assert PeriodicTask.objects.get(name="jobs: SLA watch").enabled is False
    call_command("setup_schedules", "--reset")
    assert PeriodicTask.objects.get(name="jobs: SLA watch").enabled is True
    sd = PeriodicTask.objects.get(name="jobs: generate next month's Service Days")
    assert (sd.crontab.day_of_month, sd.crontab.hour, str(sd.crontab.timezone)) == ("20", "2", "Asia/Shanghai")


def jobs_schedule_names():
    from notifications.schedules import schedule_definitions

    return [s["name"] for s in schedule_definitions()]


def test_every_scheduled_task_is_registered_with_celery():
    from notifications.schedules import schedule_definitions

    celery_app.loader.import_default_modules()
    missing = [s["task"] for s in schedule_definitions() if s["task"] not in celery_app.tasks]
    assert missing == []


# --- Service Days -------------------------------------------------------------


def test_service_days_job_creates_next_month_once(db):
    ServiceCenterFactory(kind="service_center")
    ServiceCenterFactory(kind="flagship")
    ServiceCenterFactory(kind="service_center", active=False)
    now = shanghai(2026, 11, 20, 2, 30)
    result = jobs.job_service_days_generate(now=now)
    # first Friday of December 2026 is the 4th: Fri, Sat, Sun at each of the two active centers
    assert result == {"year": 2026, "month": 12, "created": 6}
    assert jobs.job_service_days_generate(now=now) is None  # same period: skipped
    run = JobRun.objects.get(job="service_days_generate")
    assert (run.period, run.status) == ("2026-12", "succeeded")


def test_december_generates_january(db):
    assert jobs.next_month(dt.date(2026, 12, 20)) == (2027, 1)


def test_service_day_reminders_go_to_recent_customers_once(ticket, customer, center, sms_outbox):
    from centers.models import ServiceDay

    RepairTicket.objects.filter(pk=ticket.pk).update(status="delivered", delivered_at=timezone.now())
    friday = timezone.localdate() + dt.timedelta(days=2)
    for offset in range(3):
        ServiceDay.objects.create(
            center=center, date=friday + dt.timedelta(days=offset), perks=["free_screen_film", "cleaning"]
        )
    result = jobs.job_service_day_reminders()
    assert result == {"date": friday.isoformat(), "centers": 1, "customers": 1}
    (row,) = Notification.objects.filter(kind="service_day_reminder")
    assert row.recipient == customer.phone
    assert "Free screen film" in row.body or "免费" in row.body
    # a manual re-run on the same day finds the JobRun; a forced new period still dedupes
    assert jobs.job_service_day_reminders() is None
    JobRun.objects.all().delete()
    jobs.job_service_day_reminders()
    assert Notification.objects.filter(kind="service_day_reminder").count() == 1


# --- SLA watch ----------------------------------------------------------------


def overdue(ticket, minutes=10):
    RepairTicket.objects.filter(pk=ticket.pk).update(
        status="repairing", stage_due_at=timezone.now() - dt.timedelta(minutes=minutes)
    )


def test_sla_watch_flags_and_notifies_each_manager_once_per_breach(ticket, center, settings):
    from partners.models import WebhookDelivery

    manager = staff(center, "manager")
    manager.email = "boss@example.com"
    manager.save()
    staff(center, "front_desk")  # not a manager: not told
    overdue(ticket)
    t0 = timezone.now()
    assert jobs.job_sla_watch(now=t0) == {"new_breaches": 1}
    breach = SlaBreach.objects.get()
    assert (breach.ticket_id, breach.status) == (ticket.pk, "repairing")
    (mail,) = Notification.objects.filter(kind="sla_breached")
    assert (mail.channel, mail.recipient) == ("email", "boss@example.com")
    assert ticket.service_no in mail.subject
    # the next runs (next periods) see the same breach: nothing new
    later = t0 + dt.timedelta(minutes=settings.JOBS_SLA_WATCH_MINUTES)
    assert jobs.job_sla_watch(now=later) == {"new_breaches": 0}
    assert Notification.objects.filter(kind="sla_breached").count() == 1
    # a new stage that runs late again is a new breach
    overdue(ticket, minutes=1)
    assert jobs.job_sla_watch(now=later + dt.timedelta(minutes=settings.JOBS_SLA_WATCH_MINUTES)) == {"new_breaches": 1}
    assert WebhookDelivery.objects.filter(event_type="ticket.sla_breached").count() == 0  # no subscriber


def test_sla_watch_emits_the_webhook_to_subscribers(ticket, center):
    from partners.models import Partner, WebhookDelivery, WebhookEndpoint

    partner = Partner.objects.create(name="Operator")
    partner.centers.add(center)
    WebhookEndpoint.objects.create(
        partner=partner,
        url="https://hooks.example/x",
        events=["ticket.sla_breached"],
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    overdue(ticket)
    jobs.job_sla_watch()
    (delivery,) = WebhookDelivery.objects.filter(event_type="ticket.sla_breached")
    assert delivery.payload["service_no"] == ticket.service_no


# --- surveys and auto-close ---------------------------------------------------


def test_survey_invitation_a_day_after_hand_back_once(ticket, customer):
    RepairTicket.objects.filter(pk=ticket.pk).update(
        status="delivered", delivered_at=timezone.now() - dt.timedelta(hours=30)
    )
    fresh = RepairTicket.objects.get(pk=ticket.pk)
    assert jobs.job_survey_invitations() == {"invited": 1}
    (row,) = Notification.objects.filter(kind="survey_invitation")
    assert row.ticket_id == fresh.pk and f"/survey/{fresh.service_no}/?phone_last4=5678" in row.body
    JobRun.objects.all().delete()  # the next hour's run
    jobs.job_survey_invitations()
    assert Notification.objects.filter(kind="survey_invitation").count() == 1


def test_no_survey_before_a_day_has_passed(ticket):
    RepairTicket.objects.filter(pk=ticket.pk).update(status="delivered", delivered_at=timezone.now())
    assert jobs.job_survey_invitations() == {"invited": 0}


def test_auto_close_closes_settled_tickets_with_the_system_actor(ticket, settings, monkeypatch):
    settings.TICKET_AUTO_CLOSE_DAYS = 7
    RepairTicket.objects.filter(pk=ticket.pk).update(
        status="delivered", delivered_at=timezone.now() - dt.timedelta(days=8)
    )
    assert jobs.job_tickets_auto_close() == {"closed": 1, "open_loan": 0, "refused": 0}
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert ticket.events.last().actor_label == "system"


def test_auto_close_keeps_tickets_with_an_open_loan_or_delivered_recently(
    ticket, center, customer, device, monkeypatch
):
    import loaners.selectors
    from repairs.services import ticket_book

    recent = ticket_book(center=center, customer=customer, device=device, fault_category="battery")
    RepairTicket.objects.filter(pk=ticket.pk).update(
        status="delivered", delivered_at=timezone.now() - dt.timedelta(days=8)
    )
    RepairTicket.objects.filter(pk=recent.pk).update(
        status="delivered", delivered_at=timezone.now() - dt.timedelta(days=2)
    )
    monkeypatch.setattr(loaners.selectors, "ticket_has_open_loan", lambda *, ticket_id: ticket_id == ticket.pk)
    assert jobs.job_tickets_auto_close() == {"closed": 0, "open_loan": 1, "refused": 0}
    assert set(RepairTicket.objects.values_list("status", flat=True)) == {"delivered"}


# --- loaners ------------------------------------------------------------------


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


# --- appointments -------------------------------------------------------------


def test_appointment_reminder_the_day_before_once_and_marked_reminded(db, sms_outbox):
    from booking.services import appointment_book
    from tests.factories.booking import booking_input, local, open_center, tomorrow

    center = open_center()
    appointment = appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    assert jobs.job_appointment_reminders() == {"day": tomorrow().isoformat(), "reminded": 1}
    (row,) = Notification.objects.filter(kind="appointment_reminder")
    assert "10:00" in row.body
    appointment.refresh_from_db()
    assert appointment.reminded_at is not None
    JobRun.objects.all().delete()
    assert jobs.job_appointment_reminders() == {"day": tomorrow().isoformat(), "reminded": 0}
    assert Notification.objects.filter(kind="appointment_reminder").count() == 1


def test_no_show_job_delegates_to_booking(db, monkeypatch):
    import booking.services

    seen = []
    monkeypatch.setattr(booking.services, "appointments_mark_no_shows", lambda *, now: seen.append(now) or 3)
    assert jobs.job_appointment_no_shows() == {"no_shows": 3}
    assert len(seen) == 1
    assert jobs.job_appointment_no_shows(now=seen[0]) is None  # same 5-minute period
