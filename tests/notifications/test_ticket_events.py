"""A ticket status change writes its customer notification in the same transaction (repairs.events)."""

from notifications.models import Notification
from repairs.services import ticket_transition
from servicehub.actors import SYSTEM
from tests.factories.repairs import pay_due


def kinds(ticket):
    return list(Notification.objects.filter(ticket=ticket).order_by("pk").values_list("kind", "channel", "status"))


def test_booking_notifies_nothing(ticket):
    assert kinds(ticket) == []


def test_check_in_writes_one_received_sms(ticket, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    assert kinds(ticket) == [("ticket_received", "sms", "sent")]
    assert len(sms_outbox) == 1
    assert ticket.service_no in sms_outbox[0]["text"]
    assert sms_outbox[0]["to"] == "+8613812345678"


def test_customer_with_email_gets_sms_and_email(
    ticket, customer, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    customer.email = "wang@example.com"
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    assert kinds(ticket) == [("ticket_received", "sms", "sent"), ("ticket_received", "email", "sent")]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].alternatives[0][1] == "text/html"


def test_no_consent_gives_a_skipped_row_and_no_sms(ticket, customer, sms_outbox, django_capture_on_commit_callbacks):
    customer.contact_consent = False
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(ticket_id=ticket.pk, action="check_in", actor=SYSTEM)
    assert kinds(ticket) == [("ticket_received", "sms", "skipped")]
    assert sms_outbox == []


def test_a_refused_transition_writes_no_notification(ticket):
    import pytest

    from servicehub.errors import DomainError

    with pytest.raises(DomainError):
        ticket_transition(ticket_id=ticket.pk, action="hand_over", actor=SYSTEM)
    assert kinds(ticket) == []


def test_every_customer_facing_step_sends_one_message_with_the_signed_quote_link(
    ticket, center, device, sms_outbox, django_capture_on_commit_callbacks
):
    import datetime as dt
    from urllib.parse import parse_qs, urlparse

    from django.utils import timezone

    from repairs.tracking import quote_decision_check
    from servicehub.actors import actor_for_user
    from tests.factories.repairs import catalog, staff
    from tests.factories.warranty import StatutoryPolicyFactory

    StatutoryPolicyFactory(category="phone")
    catalog(device.model)
    device.sold_at = timezone.now() - dt.timedelta(days=730)  # out of warranty: the customer must approve
    device.save()
    eng = actor_for_user(staff(center, "engineer", certified=True))
    qc = actor_for_user(staff(center, "engineer", certified=True))
    desk = actor_for_user(staff(center, "front_desk"))
    steps = [
        ("check_in", desk, {}),
        ("start_diagnosis", eng, {}),
        ("send_quote", eng, {"lines": [{"repair": "screen"}]}),
        ("approve", desk, {}),
        ("start_repair", eng, {}),
        ("await_parts", eng, {}),
        ("parts_arrived", eng, {}),
        ("finish", eng, {}),
        ("qc_pass", qc, {}),
        ("pay", desk, {}),
        ("hand_over", desk, {}),
    ]
    for action, actor, params in steps:
        with django_capture_on_commit_callbacks(execute=True):
            if action == "pay":  # the counter takes the amount due before the hand-over (issue #19)
                pay_due(ticket, actor)
                continue
            ticket_transition(ticket_id=ticket.pk, action=action, actor=actor, **params)
    sent_kinds = list(Notification.objects.filter(ticket=ticket).order_by("pk").values_list("kind", flat=True))
    assert sent_kinds == [
        "ticket_received",
        "quote_ready",
        "parts_awaited",
        "repair_ready",
        "payment_received",  # the receipt link (notifications.payments)
        "delivered",
    ]
    assert len(sms_outbox) == 6
    quote_sms = sms_outbox[1]["text"]
    link = next(word for word in quote_sms.split() if word.startswith("http"))
    token = parse_qs(urlparse(link).query)["t"][0]
    assert quote_decision_check(token=token, service_no=ticket.service_no) == ticket.quotes.get().pk
    assert "?phone_last4=5678" in sms_outbox[0]["text"]
