"""The cross-app contracts of repairs (contracts.md) with their exact signatures."""

import datetime as dt
import inspect

import pytest
from django.utils import timezone

from repairs import events, selectors, services
from repairs.models import RepairTicket, TicketEvent
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError

pytestmark = pytest.mark.django_db


def test_signatures_are_keyword_only():
    for fn in (
        services.customer_get_or_create,
        services.ticket_book,
        services.ticket_transition,
        events.ticket_changed,
        selectors.tickets_overdue,
    ):
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind != p.VAR_KEYWORD]
        assert all(p.kind == p.KEYWORD_ONLY for p in params), fn.__name__


def test_customer_get_or_create_normalises_phone_and_reuses_customer():
    a = services.customer_get_or_create(name="李雷", phone="138 1234 5678")
    b = services.customer_get_or_create(name="Someone else", phone="+86 13812345678", email="li@example.com")
    assert a.phone == "+8613812345678"
    assert b.pk == a.pk
    b.refresh_from_db()
    assert b.name == "李雷"
    assert b.email == "li@example.com"


@pytest.mark.parametrize("phone", ["12345", "1381234567", "not a phone", ""])
def test_customer_get_or_create_refuses_invalid_phone(phone):
    with pytest.raises(DomainError) as exc:
        services.customer_get_or_create(name="李雷", phone=phone)
    assert exc.value.code == "validation_error"
    assert exc.value.field == "phone"


def test_ticket_book_creates_booked_ticket_with_event(center, customer, old_device, monkeypatch):
    seen = []
    monkeypatch.setattr(events, "ticket_changed", lambda *, ticket, event: seen.append((ticket.pk, event.action)))
    ticket = services.ticket_book(
        center=center, customer=customer, device=old_device, fault_category="screen", needs={"sign_language": True}
    )
    assert ticket.status == "booked"
    assert ticket.channel == "appointment"
    assert len(ticket.service_no) == 10
    assert set(ticket.service_no) <= set(services.SERVICE_NO_ALPHABET)
    assert list(ticket.events.values_list("action", "from_status", "to_status")) == [("book", "", "booked")]
    assert seen == [(ticket.pk, "book")]


def test_service_no_retries_on_collision(center, customer, old_device, monkeypatch):
    first = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="screen")
    numbers = iter([first.service_no, first.service_no, "ABCDEFGHJK"])
    monkeypatch.setattr(services, "service_no_generate", lambda: next(numbers))
    second = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="battery")
    assert second.service_no == "ABCDEFGHJK"
    assert RepairTicket.objects.count() == 2


def test_service_no_alphabet_has_no_ambiguous_characters_and_40_bits():
    import math

    assert not set("01OIL") & set(services.SERVICE_NO_ALPHABET)
    assert len(set(services.SERVICE_NO_ALPHABET)) == 31
    assert services.SERVICE_NO_LENGTH * math.log2(31) >= 40


def test_ticket_transition_check_in_writes_event_and_sla(center, customer, old_device, people):
    ticket = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="screen")
    before = timezone.now()
    ticket = services.ticket_transition(ticket_id=ticket.pk, action="check_in", actor=people["desk"], note="scratched")
    assert ticket.status == "received"
    assert ticket.received_at >= before
    assert ticket.stage_due_at == ticket.stage_started_at + dt.timedelta(minutes=60)
    ev = TicketEvent.objects.filter(ticket=ticket).last()
    assert (ev.action, ev.from_status, ev.to_status, ev.note) == ("check_in", "booked", "received", "scratched")
    assert ev.actor == people["desk"].user


def test_tickets_overdue_lists_open_tickets_past_due(center, customer, old_device):
    t = services.ticket_book(center=center, customer=customer, device=old_device, fault_category="screen")
    t = services.ticket_transition(ticket_id=t.pk, action="check_in", actor=SYSTEM)
    assert list(selectors.tickets_overdue()) == []
    later = timezone.now() + dt.timedelta(minutes=61)
    assert list(selectors.tickets_overdue(now=later)) == [t]
