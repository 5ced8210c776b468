"""The one path from a state change to an SMS and a webhook: emit -> outbox row -> dispatch -> subscribers.

Given/when/then, with the side effects that must NOT happen asserted as exactly as those that must.
"""

import json

import pytest
from django.db import transaction
from django.urls import reverse
from kombu.exceptions import OperationalError

from notifications.models import Notification
from partners.models import WebhookDelivery
from partners.webhooks import delivery_body
from repairs.services import ticket_transition
from servicehub import events
from servicehub.actors import SYSTEM
from servicehub.models import OutboxEvent
from servicehub.tasks import outbox_dispatch_task
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
from tests.factories.users import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(center):
    partner = PartnerFactory()
    partner.centers.add(center)
    return WebhookEndpointFactory(partner=partner, events=["ticket.status_changed", "quote.ready"])


def received_rows(ticket):
    return list(Notification.objects.filter(ticket=ticket, kind="ticket_received").values_list("channel", "status"))


def test_a_check_in_becomes_one_event_one_sms_and_one_webhook(
    ticket, endpoint, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)

    (event,) = OutboxEvent.objects.filter(type="ticket.changed", payload__ticket_event_id__isnull=False).exclude(
        payload__to_status="booked"
    )
    assert event.dispatched_at is not None and event.attempts == 1
    assert {k: event.payload[k] for k in ("ticket_id", "from_status", "to_status", "action")} == {
        "ticket_id": ticket.pk,
        "from_status": "booked",
        "to_status": "received",
        "action": "check_in",
    }
    assert "phone" not in json.dumps(event.payload) and "13812345678" not in json.dumps(event.payload)
    assert received_rows(ticket) == [("sms", "sent")]
    assert len(sms_outbox) == 1
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint, payload__status="received")
    assert delivery.msg_id == f"msg_{event.pk}_{endpoint.pk}"
    assert json.loads(delivery_body(delivery))["data"] == {
        "service_no": ticket.service_no,
        "status": "received",
        "previous_status": "booked",
        "action": "check_in",
        "at": event.payload["at"],
    }


def test_an_event_in_a_transaction_that_rolls_back_sends_nothing(
    ticket, endpoint, sms_outbox, django_capture_on_commit_callbacks
):
    before = OutboxEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
            raise RuntimeError("the caller fails after the change")

    assert OutboxEvent.objects.count() == before
    assert received_rows(ticket) == []
    assert sms_outbox == []
    assert not WebhookDelivery.objects.filter(endpoint=endpoint, payload__status="received").exists()


def test_a_lost_after_commit_dispatch_is_sent_by_the_sweep_exactly_once(
    ticket, endpoint, sms_outbox, settings, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis: Connection refused.")

    # given the broker is down when the change commits
    monkeypatch.setattr(outbox_dispatch_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    (event,) = OutboxEvent.objects.filter(payload__to_status="received")
    assert (event.dispatched_at, event.attempts) == (None, 0)
    assert received_rows(ticket) == [] and sms_outbox == []

    # when the sweep runs (every minute under beat)
    monkeypatch.undo()
    settings.OUTBOX_SWEEP_AFTER = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert events.outbox_sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert events.outbox_sweep() == 0  # and again: nothing left

    # then exactly one SMS and one webhook delivery
    assert received_rows(ticket) == [("sms", "sent")]
    assert len(sms_outbox) == 1
    assert WebhookDelivery.objects.filter(endpoint=endpoint, payload__status="received").count() == 1


def test_a_replayed_event_writes_no_second_sms_or_webhook(
    endpoint, ticket, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    deliveries = WebhookDelivery.objects.count()
    notifications = Notification.objects.count()
    assert (deliveries, notifications) == (2, 1)  # booked and received to the partner; received to the customer

    # when every event is dispatched once more (a claim undone by hand: the worst replay)
    OutboxEvent.objects.update(dispatched_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        for event_id in OutboxEvent.objects.order_by("pk").values_list("pk", flat=True):
            assert events.outbox_dispatch(event_id=event_id) is True

    # then nothing was written twice
    assert (WebhookDelivery.objects.count(), Notification.objects.count()) == (deliveries, notifications)
    assert len(sms_outbox) == 1


def test_sending_a_quote_becomes_a_quote_ready_webhook_with_its_own_id(
    ticket, center, device, endpoint, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from servicehub.actors import actor_for_user
    from tests.factories.repairs import catalog, staff
    from tests.factories.warranty import StatutoryPolicyFactory

    StatutoryPolicyFactory(category="phone")
    catalog(device.model)
    device.sold_at = timezone.now() - dt.timedelta(days=730)  # out of warranty: the customer must approve
    device.save()
    eng = actor_for_user(staff(center, "engineer", certified=True))
    desk = actor_for_user(staff(center, "front_desk"))
    steps = [
        ("check_in", desk, {}),
        ("start_diagnosis", eng, {}),
        ("send_quote", eng, {"lines": [{"repair": "screen"}]}),
    ]
    for action, actor, params in steps:
        with django_capture_on_commit_callbacks(execute=True):
            ticket_transition(ticket_id=ticket.pk, action=action, actor=actor, **params)

    (quote_event,) = OutboxEvent.objects.filter(type="ticket.quote_ready")
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint, event_type="quote.ready")
    assert delivery.msg_id == f"msg_{quote_event.pk}_{endpoint.pk}"
    assert json.loads(delivery_body(delivery))["data"] == {
        "service_no": ticket.service_no,
        "at": quote_event.payload["at"],
    }
    status_ids = set(
        WebhookDelivery.objects.filter(event_type="ticket.status_changed").values_list("msg_id", flat=True)
    )
    assert delivery.msg_id not in status_ids


def test_the_verification_code_leaves_the_outbox_once_the_sms_is_written(
    sms_outbox, django_capture_on_commit_callbacks
):
    from repairs.verification import verification_code_send

    with django_capture_on_commit_callbacks(execute=True):
        verification_code_send(phone="+8613812345678", address="198.51.100.7")
    (event,) = OutboxEvent.objects.filter(type="verification.code_issued")
    assert event.payload["code"] == ""
    (sms,) = sms_outbox
    assert sms["to"] == "+8613812345678"
    (row,) = Notification.objects.filter(kind="verification_code")
    assert (row.status, row.dedupe_key) == ("sent", f"event:{event.pk}")


def test_the_outbox_sweep_is_scheduled_every_minute():
    from servicehub.schedules import schedule_definitions

    (row,) = [d for d in schedule_definitions() if d["task"] == "servicehub.outbox_sweep"]
    assert row["every_seconds"] == 60


def _failed_event():
    with transaction.atomic():
        event = events.emit("ticket.lookup_locked", {"ticket_id": 0, "service_no": "X", "lock_id": "l"}, center_id=None)
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None, failed_at="2026-01-01T00:00:00Z", attempts=10)
    return event


def test_the_admin_lists_events_and_dispatches_failed_ones_again(client, monkeypatch):
    queued = []
    monkeypatch.setattr(outbox_dispatch_task, "apply_async", lambda args, **kw: queued.append(args[0]))
    failed = _failed_event()
    with transaction.atomic():
        done = events.emit("ticket.lookup_locked", {"ticket_id": 0, "service_no": "Y", "lock_id": "m"}, center_id=None)
    OutboxEvent.objects.filter(pk=done.pk).update(dispatched_at="2026-01-01T00:00:00Z")
    queued.clear()
    user = StaffUserFactory(is_superuser=True)
    user.save()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")

    url = reverse("admin:servicehub_outboxevent_changelist")
    body = client.get(url).content.decode()
    assert f"/admin/servicehub/outboxevent/{failed.pk}/change/" in body
    response = client.post(url, {"action": "dispatch_again", "_selected_action": [failed.pk, done.pk]})

    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.failed_at, failed.attempts, failed.last_error) == (None, 0, "")
    assert queued == [failed.pk]  # the dispatched one is never announced twice
    assert client.get(reverse("admin:servicehub_outboxevent_add")).status_code == 403


def test_the_outbox_admin_is_not_for_center_staff(client, center):
    from tests.factories.repairs import staff

    user = staff(center, "manager")
    user.save()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("admin:servicehub_outboxevent_changelist")).status_code == 403
