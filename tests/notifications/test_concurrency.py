"""Races against PostgreSQL: many tasks for one notification send it once (job runs: tests/servicehub).

Each test has a control run with the compare-and-set taken out, showing the harness catches a double send.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from tests.concurrency import race as _race
from tests.sms import SENT_SMS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
CTX = {
    "service_no": "SH1",
    "customer_name": "王",
    "center_name": "C",
    "center_address": "R",
    "center_phone": "",
    "device_model": "P",
    "link": "http://x/",
}


def race(target, n=THREADS):
    return _race(target, n)


def unsafe_claim(*, notification_id, now=None):
    """The bug the CAS prevents: read the status, then claim without re-checking it in the UPDATE."""
    row = Notification.objects.get(pk=notification_id)
    if row.status != "pending":
        return None
    import time

    time.sleep(0.05)  # widen the window between the read and the write
    token = uuid.uuid4()
    Notification.objects.filter(pk=notification_id).update(
        status="sending", claim_token=token, lease_until=timezone.now() + timedelta(minutes=2)
    )
    return Notification.objects.get(pk=notification_id), token


@pytest.fixture
def row(customer, sms_outbox, monkeypatch):
    # Autocommit would dispatch (and, eagerly, send) at once: keep the row pending for the race.
    with monkeypatch.context() as patch:
        patch.setattr(services, "notifications_dispatch", lambda **kw: 0)
        (row,) = services.notification_enqueue(kind="ticket_received", customer=customer, context=CTX)
    assert Notification.objects.get(pk=row.pk).status == "pending"
    return row


def test_eight_tasks_for_one_notification_send_one_sms(row):
    outcomes = race(lambda: services.notification_send(notification_id=row.pk).status)
    assert sorted(outcomes) == ["not_claimed"] * (THREADS - 1) + ["sent"]
    assert len(SENT_SMS) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)


def test_control_without_compare_and_set_the_race_sends_twice(row, monkeypatch):
    monkeypatch.setattr(services, "notification_claim", unsafe_claim)
    race(lambda: services.notification_send(notification_id=row.pk).status)
    assert len(SENT_SMS) > 1  # the harness does catch a double send


def test_eight_enqueues_with_one_dedupe_key_write_one_row(customer, sms_outbox, monkeypatch):
    monkeypatch.setattr(services, "notifications_dispatch", lambda **kw: 0)

    def enqueue():
        return services.notification_enqueue(
            kind="ticket_received", customer=customer, context=CTX, dedupe_key="ticket:1:received"
        )[0].pk

    ids = race(enqueue)
    assert len(set(ids)) == 1
    assert Notification.objects.count() == 1
