"""The outbox: enqueue in the caller's transaction, send at most once, retry, sweep, resend."""

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.choices import NotificationStatus
from notifications.models import Notification
from servicehub.errors import DomainError
from servicehub.sms import PermanentSMSError, SMSError
from tests.sms import MemorySMSBackend

CTX = {
    "service_no": "SH123",
    "customer_name": "王小明",
    "center_name": "Center A",
    "center_address": "Road 1",
    "center_phone": "021-1",
    "device_model": "Phone 60",
    "link": "http://x/track/SH123/",
}


def enqueue(customer, **kwargs):
    kwargs.setdefault("kind", "ticket_received")
    kwargs.setdefault("context", CTX)
    return services.notification_enqueue(customer=customer, **kwargs)


# --- enqueue ------------------------------------------------------------------


def test_enqueue_writes_a_pending_row_with_rendered_text_and_sends_after_commit(
    customer, sms_outbox, django_capture_on_commit_callbacks
):
    # given a customer who agrees to be contacted
    # when a notification is enqueued and the transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (row,) = enqueue(customer)
        # then before the commit nothing was sent
        assert sms_outbox == []
        assert row.status == NotificationStatus.PENDING
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.recipient == "+8613812345678"
    assert row.language == "zh-hans"
    assert len(sms_outbox) == 1
    assert sms_outbox[0]["to"] == "+8613812345678"
    assert sms_outbox[0]["key"] == str(row.uuid)
    assert "SH123" in sms_outbox[0]["text"] and "http://x/track/SH123/" in sms_outbox[0]["text"]
    assert row.provider_message_id == "mem-1"


def test_enqueue_in_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(customer, sms_outbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(customer)
        raise RuntimeError("the business change failed")
    assert Notification.objects.count() == 0
    assert sms_outbox == []


def test_enqueue_without_consent_writes_a_skipped_row_with_the_reason(
    customer, sms_outbox, django_capture_on_commit_callbacks
):
    customer.contact_consent = False
    customer.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (row,) = enqueue(customer)
    assert row.status == NotificationStatus.SKIPPED
    assert row.skip_reason == "no_consent"
    assert row.body == ""
    assert callbacks == []
    assert sms_outbox == []


def test_enqueue_email_without_address_is_skipped_no_recipient(customer):
    sms, email = enqueue(customer, channels=("sms", "email"))
    assert sms.status == NotificationStatus.PENDING
    assert (email.status, email.skip_reason) == (NotificationStatus.SKIPPED, "no_recipient")


def test_enqueue_uses_the_customers_language_unless_given(customer):
    customer.language = "en"
    (en_row,) = enqueue(customer, dedupe_key="a")
    (zh_row,) = enqueue(customer, language="zh-hans", dedupe_key="b")
    assert en_row.language == "en"
    assert zh_row.language == "zh-hans"
    assert "We have received your Phone 60 at Center A" in en_row.body


def test_enqueue_with_the_same_dedupe_key_returns_the_existing_row(customer):
    (first,) = enqueue(customer, dedupe_key="ticket:1:received")
    (second,) = enqueue(customer, dedupe_key="ticket:1:received")
    assert second.pk == first.pk
    assert Notification.objects.count() == 1


def test_dedupe_key_is_per_channel(customer):
    customer.email = "wang@example.com"
    rows = enqueue(customer, channels=("sms", "email"), dedupe_key="k")
    assert {r.channel for r in rows} == {"sms", "email"}
    assert Notification.objects.count() == 2


def test_enqueue_refuses_an_unknown_kind_or_channel(customer):
    with pytest.raises(DomainError) as exc:
        enqueue(customer, kind="nope")
    assert exc.value.code == "validation_error"
    with pytest.raises(DomainError) as exc:
        enqueue(customer, channels=("fax",))
    assert exc.value.field == "channels"
    assert Notification.objects.count() == 0


def test_enqueue_to_a_staff_address_needs_no_customer_consent(db, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = services.notification_enqueue(
            kind="sla_breached",
            to_email="manager@example.com",
            channels=("email",),
            context={
                "service_no": "SH1",
                "center_name": "C",
                "status": "repairing",
                "stage_due_at": timezone.now(),
                "link": "http://x/admin/",
            },
        )
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["manager@example.com"]
    assert "SH1" in mailoutbox[0].subject


# --- send ---------------------------------------------------------------------


def pending_row(customer, **kwargs):
    (row,) = enqueue(customer, **kwargs)  # not committed in a django_db test: no dispatch
    return row


def test_send_twice_sends_once(customer, sms_outbox):
    row = pending_row(customer)
    assert services.notification_send(notification_id=row.pk).status == "sent"
    assert services.notification_send(notification_id=row.pk).status == "not_claimed"
    assert len(sms_outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)


def test_claim_is_compare_and_set(customer):
    row = pending_row(customer)
    first = services.notification_claim(notification_id=row.pk)
    second = services.notification_claim(notification_id=row.pk)
    assert first is not None
    assert second is None
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENDING
    assert row.claim_token == first[1]


def test_transient_error_puts_the_row_back_with_exponential_backoff(customer, sms_outbox, settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    row = pending_row(customer)
    MemorySMSBackend.fail_with = SMSError("provider 503")
    before = timezone.now()
    outcome = services.notification_send(notification_id=row.pk)
    assert outcome.status == "retry"
    assert 30 <= outcome.retry_in <= 33
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING
    assert row.last_error == "provider 503"
    assert row.available_at >= before + dt.timedelta(seconds=30)
    assert row.claim_token is None
    # not due yet: a duplicate task does nothing
    assert services.notification_send(notification_id=row.pk).status == "not_claimed"
    # second failure doubles the wait
    Notification.objects.filter(pk=row.pk).update(available_at=timezone.now())
    outcome = services.notification_send(notification_id=row.pk)
    assert 60 <= outcome.retry_in <= 66
    assert sms_outbox == []


def test_backoff_is_capped(settings):
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_MAX_SECONDS = 300
    assert 300 <= services._backoff_seconds(20) <= 330


def test_attempts_are_bounded_then_failed_with_the_reason(customer, sms_outbox, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    row = pending_row(customer)
    MemorySMSBackend.fail_with = SMSError("timeout")
    outcomes = []
    for _ in range(5):
        Notification.objects.filter(pk=row.pk).update(available_at=timezone.now())
        outcomes.append(services.notification_send(notification_id=row.pk).status)
    assert outcomes == ["retry", "retry", "failed", "not_claimed", "not_claimed"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.FAILED, 3, "timeout")


def test_permanent_error_fails_at_once(customer, sms_outbox):
    row = pending_row(customer)
    MemorySMSBackend.fail_with = PermanentSMSError("invalid number")
    assert services.notification_send(notification_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.FAILED, 1, "invalid number")


def test_a_worker_that_lost_its_claim_does_not_overwrite_the_new_owner(customer, sms_outbox):
    row = pending_row(customer)
    claim = services.notification_claim(notification_id=row.pk)
    # someone else took the row over (lease expired) and sent it
    Notification.objects.filter(pk=row.pk).update(claim_token=uuid.uuid4())
    assert services._finish(claim[0], claim[1], status=NotificationStatus.FAILED, last_error="late") is False
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENDING


def test_skipped_rows_are_never_sent(customer, sms_outbox):
    customer.contact_consent = False
    (row,) = enqueue(customer)
    assert services.notification_send(notification_id=row.pk).status == "not_claimed"
    assert sms_outbox == []


# --- sweep --------------------------------------------------------------------


def test_sweep_sends_rows_left_pending_and_leaves_fresh_ones(customer, sms_outbox, settings):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 180
    old = pending_row(customer, dedupe_key="old")
    fresh = pending_row(customer, dedupe_key="fresh")
    Notification.objects.filter(pk=old.pk).update(available_at=timezone.now() - dt.timedelta(minutes=5))
    assert services.notifications_sweep() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == NotificationStatus.SENT
    assert fresh.status == NotificationStatus.PENDING
    assert len(sms_outbox) == 1


def test_sweep_takes_over_a_row_stuck_in_sending_past_its_lease(customer, sms_outbox):
    row = pending_row(customer)
    services.notification_claim(notification_id=row.pk)  # the worker died after claiming
    assert services.notifications_sweep() == 0  # lease still running: hands off
    Notification.objects.filter(pk=row.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.notifications_sweep() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.SENT, 2)
    assert len(sms_outbox) == 1


def test_sweep_fails_a_stuck_row_with_no_attempts_left(customer, sms_outbox, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    row = pending_row(customer)
    services.notification_claim(notification_id=row.pk)
    Notification.objects.filter(pk=row.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.notifications_sweep() == 0
    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED
    assert "lease expired" in row.last_error
    assert sms_outbox == []


def test_dispatch_with_the_broker_down_keeps_the_row_pending(customer, monkeypatch):
    from kombu.exceptions import OperationalError

    from notifications.tasks import notification_send_task

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis")

    monkeypatch.setattr(notification_send_task, "apply_async", down)
    row = pending_row(customer)
    assert services.notifications_dispatch(notification_ids=[row.pk]) == 0
    row.refresh_from_db()
    assert row.status == NotificationStatus.PENDING


# --- resend -------------------------------------------------------------------


def test_resend_requeues_failed_rows_only(customer, sms_outbox, django_capture_on_commit_callbacks):
    failed = pending_row(customer, dedupe_key="f")
    sent = pending_row(customer, dedupe_key="s")
    Notification.objects.filter(pk=failed.pk).update(status="failed", attempts=6, last_error="boom")
    Notification.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now(), attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notifications_resend(notification_ids=[failed.pk, sent.pk]) == 1
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.SENT, 1)
    assert sent.status == NotificationStatus.SENT
    assert len(sms_outbox) == 1
