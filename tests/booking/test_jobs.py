"""Booking's scheduled jobs: appointment reminders and no-shows, survey invitations -- each once."""

import datetime as dt

import pytest
from django.utils import timezone

from booking import jobs
from notifications.models import Notification
from repairs.models import RepairTicket
from repairs.services import ticket_book
from servicehub.models import JobRun, OutboxEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory


@pytest.fixture
def center(db):
    return ServiceCenterFactory(name="上海南京东路授权服务中心", address="南京东路 1 号", phone="021-60000001")


@pytest.fixture
def customer(db):
    return CustomerFactory(phone="+8613812345678", name="王小明", email="", language="zh-hans")


@pytest.fixture
def ticket(center, customer):
    device = DeviceFactory(model=DeviceModelFactory(code="P60", name="Phone 60"))
    return ticket_book(center=center, customer=customer, device=device, fault_category="screen")


# --- surveys ------------------------------------------------------------------


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


def test_the_next_hours_do_not_announce_an_invited_ticket_again(ticket):
    RepairTicket.objects.filter(pk=ticket.pk).update(
        status="delivered", delivered_at=timezone.now() - dt.timedelta(hours=30)
    )
    now = timezone.now()
    assert jobs.job_survey_invitations(now=now) == {"invited": 1}
    for hour in (1, 2, 24):
        assert jobs.job_survey_invitations(now=now + dt.timedelta(hours=hour)) == {"invited": 0}
    assert OutboxEvent.objects.filter(type="survey.invitation_due").count() == 1


def test_no_survey_before_a_day_has_passed(ticket):
    RepairTicket.objects.filter(pk=ticket.pk).update(status="delivered", delivered_at=timezone.now())
    assert jobs.job_survey_invitations() == {"invited": 0}


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


def test_an_appointment_is_not_marked_reminded_without_its_event(db, monkeypatch):
    from booking.services import appointment_book
    from tests.factories.booking import booking_input, local, open_center, tomorrow

    appointment = appointment_book(center=open_center(), start=local(tomorrow(), 10), **booking_input())
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "emit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("outbox down")))
        with pytest.raises(RuntimeError):
            jobs.job_appointment_reminders()
    appointment.refresh_from_db()
    assert appointment.reminded_at is None  # rolled back: the retry reminds it
    assert jobs.job_appointment_reminders()["reminded"] == 1


def test_no_show_job_delegates_to_booking(db, monkeypatch):
    import booking.services

    seen = []
    monkeypatch.setattr(booking.services, "appointments_mark_no_shows", lambda *, now: seen.append(now) or 3)
    assert jobs.job_appointment_no_shows() == {"no_shows": 3}
    assert len(seen) == 1
    assert jobs.job_appointment_no_shows(now=seen[0]) is None  # same 5-minute period
