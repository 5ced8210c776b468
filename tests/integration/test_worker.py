"""A real Celery worker against real Redis and PostgreSQL, on the event path.

A status change writes an outbox event (``servicehub.events``); the worker dispatches it to the
notification subscriber, which writes the SMS row; the worker sends it.

- a status change produces exactly one SMS (and running the task again sends nothing);
- Redis down during a status change: the change commits, the SMS goes out after Redis is back (the sweep);
- a worker SIGKILLed in the middle of a send: the customer gets the message exactly once.
"""

import datetime as dt
import os

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from repairs.models import RepairTicket
from repairs.services import ticket_book, ticket_transition
from servicehub import events
from servicehub.actors import SYSTEM
from servicehub.models import OutboxEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory

from .backends import calls, delivered
from .stack import RedisServer, Worker, reset_broker_pools, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SMS_BACKEND = "tests.integration.backends.FileRecordingSMSBackend"


@pytest.fixture
def sms_file(tmp_path, settings):
    path = tmp_path / "sms.jsonl"
    # The worker sends; this process only enqueues. Same backend here in case the sweep runs eagerly.
    settings.SMS_BACKEND = SMS_BACKEND
    os.environ["SMS_RECORD_FILE"] = str(path)
    yield path
    os.environ.pop("SMS_RECORD_FILE", None)


@pytest.fixture
def booked_ticket(db):
    center = ServiceCenterFactory()
    customer = CustomerFactory(phone="+8613812345678", name="王小明")
    return ticket_book(center=center, customer=customer, device=DeviceFactory(), fault_category="screen")


@pytest.fixture
def publish_to(celery_app, settings, queue_name):
    """``publish_to(url)``: this process publishes to ``url`` on the test's queue."""

    def point(url):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue_name
        settings.CELERY_BROKER_URL = url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        reset_broker_pools(celery_app)

    yield point
    reset_broker_pools(celery_app)


@pytest.fixture
def workers():
    started = []

    def start(**kwargs):
        worker = Worker(**kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def sent(notification_id):
    return Notification.objects.filter(pk=notification_id, status="sent").exists()


def the_notification(ticket, timeout=30):
    """The SMS row, once the worker has dispatched the status change's event to the subscriber."""
    rows = Notification.objects.filter(ticket=ticket, kind="ticket_received")
    wait_for(rows.exists, timeout=timeout, what="the event to be dispatched (the SMS row written)")
    (row,) = rows
    return row


def the_event(ticket):
    return OutboxEvent.objects.get(type="ticket.changed", payload__ticket_id=ticket.pk, payload__to_status="received")


def test_a_status_change_sends_exactly_one_sms(booked_ticket, sms_file, publish_to, workers, queue_name, tmp_path):
    broker = os.environ["REDIS_URL"]
    publish_to(broker)
    worker = workers(
        broker_url=broker,
        queue=queue_name,
        log_dir=tmp_path,
        env={"SMS_BACKEND": SMS_BACKEND, "SMS_RECORD_FILE": str(sms_file)},
    )

    # when the ticket is checked in (commit -> dispatch -> worker)
    ticket_transition(ticket_id=booked_ticket.pk, action="check_in", actor=SYSTEM)
    row = the_notification(booked_ticket)
    wait_for(lambda: sent(row.pk), timeout=30, what="the SMS to be sent")

    # then exactly one SMS, to the customer, about this ticket
    (call,) = calls(sms_file)
    assert call["to"] == "+8613812345678"
    assert booked_ticket.service_no in call["text"]
    assert call["key"] == str(row.uuid)
    assert call["pid"] == worker.process.pid  # sent by the worker, not by this process

    # and the same task delivered twice more (a redelivery, a sweep) sends nothing more
    services.notifications_dispatch(notification_ids=[row.pk, row.pk])
    wait_for(lambda: worker.output().count("'not_claimed'") >= 2, timeout=30, what="the duplicate tasks to run")
    assert len(calls(sms_file)) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    # the worker's log never shows the full phone number
    assert "13812345678" not in worker.output()


def test_redis_down_during_a_status_change_loses_nothing(
    booked_ticket, sms_file, publish_to, workers, queue_name, tmp_path, settings
):
    redis = RedisServer(tmp_path).start()
    try:
        publish_to(redis.url)
        workers(
            broker_url=redis.url,
            queue=queue_name,
            log_dir=tmp_path,
            env={"SMS_BACKEND": SMS_BACKEND, "SMS_RECORD_FILE": str(sms_file)},
        )

        # given the broker is down
        redis.stop()
        # when the ticket is checked in
        ticket = ticket_transition(ticket_id=booked_ticket.pk, action="check_in", actor=SYSTEM)
        # then the change committed and its event waits in the outbox, undispatched
        assert RepairTicket.objects.get(pk=ticket.pk).status == "received"
        event = the_event(booked_ticket)
        assert (event.dispatched_at, event.attempts) == (None, 0)
        assert not Notification.objects.filter(ticket=booked_ticket, kind="ticket_received").exists()
        assert calls(sms_file) == []

        # when Redis is back and the sweeps run (every minute under beat; here, with no waiting period):
        # the outbox sweep dispatches the event (the SMS row is written), the SMS goes to the worker
        redis.start()
        settings.OUTBOX_SWEEP_AFTER = 0
        settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
        assert events.outbox_sweep() == 1
        row = the_notification(booked_ticket)
        wait_for(
            lambda: sent(row.pk) or (services.notifications_sweep() >= 1 and False),
            timeout=60,
            interval=0.5,
            what="the SMS after Redis came back",
        )
        assert events.outbox_sweep() == 0  # dispatched once: a second sweep finds nothing

        # then exactly one SMS
        assert [c["key"] for c in calls(sms_file)] == [str(row.uuid)]
    finally:
        redis.stop()


@pytest.mark.parametrize("moment", ["BEFORE", "AFTER"])
def test_worker_killed_mid_send_delivers_exactly_once(
    moment, booked_ticket, sms_file, publish_to, workers, queue_name, tmp_path, settings
):
    """BEFORE: killed before the provider took the message. AFTER: the provider took it, the worker died
    before recording it -- the resend carries the same client reference and the provider keeps one."""
    broker = os.environ["REDIS_URL"]
    publish_to(broker)
    lease = 3
    common = {
        "SMS_BACKEND": SMS_BACKEND,
        "SMS_RECORD_FILE": str(sms_file),
        "NOTIFICATIONS_SEND_LEASE_SECONDS": str(lease),
    }
    first = workers(
        broker_url=broker, queue=queue_name, log_dir=tmp_path, env={**common, f"SMS_RECORD_PAUSE_{moment}": "120"}
    )

    ticket_transition(ticket_id=booked_ticket.pk, action="check_in", actor=SYSTEM)
    row = the_notification(booked_ticket)
    paused = sms_file.with_name(sms_file.name + ".paused")
    wait_for(paused.exists, timeout=30, what="the worker to be in the middle of the send")

    # when the worker is killed in the middle of the send
    first.kill()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sending", 1)
    assert len(calls(sms_file)) == (1 if moment == "AFTER" else 0)

    # and a new worker takes over; the sweep re-dispatches the row once its lease is over
    workers(broker_url=broker, queue=queue_name, log_dir=tmp_path, env=common)
    wait_for(
        lambda: Notification.objects.filter(pk=row.pk, lease_until__lt=timezone.now()).exists(),
        timeout=lease + 10,
        what="the claim lease to expire",
    )
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
    assert services.notifications_sweep() == 1
    wait_for(lambda: sent(row.pk), timeout=30, what="the resend")

    # then the customer got the message exactly once
    assert list(delivered(sms_file)) == [str(row.uuid)]
    assert {c["key"] for c in calls(sms_file)} == {str(row.uuid)}
    assert len(calls(sms_file)) == (2 if moment == "AFTER" else 1)  # provider requests, not messages
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert row.sent_at > row.created_at - dt.timedelta(seconds=1)


def test_a_transient_provider_error_is_retried_by_the_worker_with_backoff(
    booked_ticket, sms_file, publish_to, workers, queue_name, tmp_path
):
    broker = os.environ["REDIS_URL"]
    publish_to(broker)
    worker = workers(
        broker_url=broker,
        queue=queue_name,
        log_dir=tmp_path,
        env={
            "SMS_BACKEND": SMS_BACKEND,
            "SMS_RECORD_FILE": str(sms_file),
            "SMS_RECORD_FAIL_FIRST": "1",
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
        },
    )

    ticket_transition(ticket_id=booked_ticket.pk, action="check_in", actor=SYSTEM)
    row = the_notification(booked_ticket)
    wait_for(lambda: sent(row.pk), timeout=60, what="the retried SMS")

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert [c["key"] for c in calls(sms_file)] == [str(row.uuid)]
    assert "Retry in 1s" in worker.output()  # Celery's own retry with the service's countdown, not the sweep
