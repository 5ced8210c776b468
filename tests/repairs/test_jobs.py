"""Repairs' scheduled jobs: SLA watch, auto-close, Service Day reminders -- once per period, each effect once.

The jobs emit domain events; the messages (notifications.reminders) and webhooks (partners.job_subscribers)
are written by the subscribers after commit (the suite emulates the commit of the jobs' transactions).
"""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Notification
from repairs import jobs
from repairs.models import RepairTicket, SlaBreach
from repairs.services import ticket_book
from servicehub.models import JobRun, OutboxEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory, staff
from tests.factories.warranty import DeviceFactory, DeviceModelFactory


@pytest.fixture
def center(db):
    return ServiceCenterFactory(name="上海南京东路授权服务中心", address="南京东路 1 号", phone="021-60000001")


@pytest.fixture
def customer(db):
    return CustomerFactory(phone="+8613812345678", name="王小明", email="", language="zh-hans")


@pytest.fixture
def device(db):
    return DeviceFactory(model=DeviceModelFactory(code="P60", name="Phone 60"))


@pytest.fixture
def ticket(center, customer, device):
    return ticket_book(center=center, customer=customer, device=device, fault_category="screen")


# --- Service Day reminders ------------------------------------------------------


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


def test_service_day_reminder_event_carries_ids_not_personal_data(ticket, customer, center):
    from centers.models import ServiceDay

    RepairTicket.objects.filter(pk=ticket.pk).update(status="delivered", delivered_at=timezone.now())
    sd = ServiceDay.objects.create(center=center, date=timezone.localdate() + dt.timedelta(days=2), perks=[])
    jobs.job_service_day_reminders()
    (event,) = OutboxEvent.objects.filter(type="service_day.reminder_due")
    assert event.payload == {
        "customer_id": customer.pk,
        "center_id": center.pk,
        "service_day_id": sd.pk,
        "date": sd.date.isoformat(),
    }
    assert (event.center_id, event.dispatched_at is not None) == (center.pk, True)


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
    assert jobs.job_sla_watch(now=t0) == {"new_breaches": 1, "held": 0}
    breach = SlaBreach.objects.get()
    assert (breach.ticket_id, breach.status) == (ticket.pk, "repairing")
    (mail,) = Notification.objects.filter(kind="sla_breached")
    assert (mail.channel, mail.recipient) == ("email", "boss@example.com")
    assert ticket.service_no in mail.subject
    assert mail.dedupe_key == f"sla:{breach.pk}:user:{manager.pk}"
    # the next runs (next periods) see the same breach: nothing new
    later = t0 + dt.timedelta(minutes=settings.JOBS_SLA_WATCH_MINUTES)
    assert jobs.job_sla_watch(now=later) == {"new_breaches": 0, "held": 0}
    assert Notification.objects.filter(kind="sla_breached").count() == 1
    # a new stage that runs late again is a new breach
    overdue(ticket, minutes=1)
    assert jobs.job_sla_watch(now=later + dt.timedelta(minutes=settings.JOBS_SLA_WATCH_MINUTES)) == {
        "new_breaches": 1,
        "held": 0,
    }
    assert WebhookDelivery.objects.filter(event_type="ticket.sla_breached").count() == 0  # no subscriber


def test_sla_watch_twice_in_one_period_runs_once(ticket):
    overdue(ticket)
    t0 = timezone.now()
    assert jobs.job_sla_watch(now=t0) == {"new_breaches": 1, "held": 0}
    assert jobs.job_sla_watch(now=t0) is None
    assert OutboxEvent.objects.filter(type="ticket.sla_breached").count() == 1


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
    # the body partners receive is the one they received before the job moved
    ticket.refresh_from_db()
    assert delivery.payload == {
        "service_no": ticket.service_no,
        "center": center.code,
        "status": "repairing",
        "stage_due_at": timezone.localtime(ticket.stage_due_at).isoformat(),
    }


def test_a_breach_is_never_recorded_without_its_event(ticket, monkeypatch):
    overdue(ticket)
    t0 = timezone.now()
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "emit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("outbox down")))
        with pytest.raises(RuntimeError):
            jobs.job_sla_watch(now=t0)
    assert not SlaBreach.objects.exists()  # rolled back with the event
    assert JobRun.objects.get(job="sla_watch").status == "failed"
    # the retry of the failed period records and announces it, once
    assert jobs.job_sla_watch(now=t0) == {"new_breaches": 1, "held": 0}
    assert OutboxEvent.objects.filter(type="ticket.sla_breached").count() == 1


# --- auto-close ---------------------------------------------------------------


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


def test_the_open_loan_hold_is_registered_by_loaners_not_imported_by_repairs():
    import loaners.jobs

    assert jobs._auto_close_holds["open_loan"] is loaners.jobs._ticket_has_open_loan
