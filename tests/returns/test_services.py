"""三包 decisions: the windows to the minute in Asia/Shanghai, each decision and each refusal code."""

import datetime as dt
from decimal import Decimal

import pytest

from partners.models import WebhookDelivery
from parts.models import MakerReturnLine
from repairs.models import RepairTicket, TicketEvent
from repairs.services import ticket_transition
from returns import services
from returns.models import ReturnDecision
from servicehub.errors import DomainError
from tests.factories.warranty import make_imei, shanghai
from warranty.models import Device

pytestmark = pytest.mark.django_db

SOLD = shanghai(2026, 3, 1, 23, 59)  # day 0 is 1 March, one minute before midnight in Shanghai


def inspect(shop, ticket, **kw):
    kw.setdefault("performance_fault", True)
    kw.setdefault("findings", "Restarts by itself; no damage, seals intact.")
    return services.inspection_record(ticket_id=ticket.pk, actor=shop["actors"]["eng"], **kw)


def decide(shop, ticket, kind, **kw):
    kw.setdefault("reason", "Customer asks for it.")
    return services.return_decide(ticket_id=ticket.pk, actor=shop["actors"]["desk"], kind=kind, **kw)


@pytest.mark.parametrize(
    ("raised", "kind", "day", "ok"),
    [
        (shanghai(2026, 3, 8, 23, 59), "return", 7, True),  # last minute of day 7
        (shanghai(2026, 3, 9, 0, 0), "return", 8, False),  # first minute of day 8
        (shanghai(2026, 3, 16, 23, 59), "exchange", 15, True),
        (shanghai(2026, 3, 17, 0, 0), "exchange", 16, False),
        (shanghai(2026, 3, 2, 0, 0), "return", 1, True),  # one minute after the sale: already day 1
    ],
)
def test_windows_to_the_minute_in_shanghai(shop, claim, raised, kind, day, ok):
    ticket = claim(sold=SOLD, raised=raised)
    inspect(shop, ticket)
    kw = {"refund_amount": "3999.00"} if kind == "return" else {"replacement_imei": make_imei()}
    if ok:
        decision = decide(shop, ticket, kind, **kw)
        assert (decision.kind, decision.day) == (kind, day)
        assert f"Day {day} of the" in decision.rule_text
    else:
        with pytest.raises(DomainError) as err:
            decide(shop, ticket, kind, **kw)
        assert (err.value.code, err.value.status, err.value.extra["day"]) == ("window_passed", 422, day)
        assert not ReturnDecision.objects.exists()
        assert Device.objects.count() == 1  # no replacement registered


def test_utc_midnight_is_not_the_boundary(shop, claim):
    # 8 March 23:59 Shanghai is 15:59 UTC, 9 March 00:30 Shanghai is 8 March 16:30 UTC: day 8 already.
    ticket = claim(sold=SOLD, raised=dt.datetime(2026, 3, 8, 16, 30, tzinfo=dt.UTC))
    inspect(shop, ticket)
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "return", refund_amount="100")
    assert err.value.code == "window_passed"


def test_exchange_registers_replacement_restarting_the_warranty_and_readies_the_ticket(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 6, 10, 0))
    inspect(shop, ticket)
    new_imei = make_imei()
    decision = decide(shop, ticket, "exchange", replacement_imei=" ".join([new_imei[:8], new_imei[8:]]))
    ticket.refresh_from_db()
    new = Device.objects.get(imei=new_imei)
    assert decision.replacement == new and new.replaces == decision
    assert (new.model_id, new.retailer_id) == (ticket.device.model_id, shop["retailer"].pk)
    assert abs((new.sold_at - decision.decided_at).total_seconds()) < 1  # 三包 restarts at the exchange
    assert (decision.day, decision.rule, decision.maker_status) == (5, "exchange_within_days", "in_batch")
    # the old device is a whole-device line of the center's open return batch to the maker (parts)
    line = MakerReturnLine.objects.select_related("batch").get(imei=ticket.device.imei)
    assert (line.batch.location_id, line.ticket_id, line.batch.code) == (
        ticket.center_id,
        ticket.pk,
        decision.maker_batch_reference,
    )
    assert ticket.status == "ready"
    row = TicketEvent.objects.filter(ticket=ticket, action="exchange").get()
    assert new_imei in row.note and "Day 5 of the 15-day exchange period" in row.note
    delivery = WebhookDelivery.objects.get(endpoint=shop["hook"])
    assert delivery.event_type == "ticket.exchanged"
    assert delivery.payload["replacement_imei"] == new_imei and delivery.payload["day"] == 5


def test_return_closes_the_ticket_with_refund_pending_and_tells_the_retailer(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 5, 9, 0))
    inspect(shop, ticket)
    decision = decide(shop, ticket, "return", refund_amount="3999")
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.closed_at is not None
    assert (decision.refund_amount, decision.refund_status) == (Decimal("3999.00"), "pending")
    assert decision.maker_status == "in_batch"
    assert MakerReturnLine.objects.filter(imei=ticket.device.imei, ticket=ticket).count() == 1
    delivery = WebhookDelivery.objects.get(endpoint=shop["hook"])
    assert (delivery.event_type, delivery.payload["refund_amount"]) == ("ticket.returned", "3999.00")


def test_registered_refund_and_maker_hooks_run_in_the_decision(shop, claim, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "_refund_handlers", [lambda **kw: calls.append(("refund", kw)) or "RF-1"])
    monkeypatch.setattr(services, "_maker_handlers", [lambda **kw: calls.append(("maker", kw)) or "RMA-7"])
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 5, 9, 0))
    inspect(shop, ticket)
    decision = decide(shop, ticket, "return", refund_amount="10.50")
    decision.refresh_from_db()
    assert [c[0] for c in calls] == ["refund", "maker"]
    assert (decision.refund_status, decision.refund_reference) == ("requested", "RF-1")
    assert (decision.maker_status, decision.maker_batch_reference) == ("in_batch", "RMA-7")


def test_without_a_maker_handler_the_device_waits_to_be_sent(shop, claim, monkeypatch):
    monkeypatch.setattr(services, "_maker_handlers", [])
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 5, 9, 0))
    inspect(shop, ticket)
    decision = decide(shop, ticket, "return", refund_amount="3999")
    assert decision.maker_status == "sent_to_maker"
    assert not MakerReturnLine.objects.filter(ticket=ticket).exists()


def test_repair_decision_records_the_rule_and_leaves_the_ticket(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 6, 1, 9, 0))
    inspect(shop, ticket)
    decision = decide(shop, ticket, "repair")
    ticket.refresh_from_db()
    assert ticket.status == "received" and decision.maker_status == "none"
    assert "12-month free repair period" in decision.rule_text


def test_excluded_cause_refuses_return_and_exchange(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    inspect(shop, ticket, performance_fault=False, exclusion="liquid_damage", findings="Corrosion on the board.")
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "exchange", replacement_imei=make_imei())
    assert (err.value.code, err.value.status) == ("excluded_cause", 422)


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        ({"kind": "exchange", "replacement_imei": "123"}, "validation_error", "replacement_imei"),
        ({"kind": "exchange", "replacement_imei": "860123450000011"}, "validation_error", "replacement_imei"),
        ({"kind": "exchange", "replacement_imei": ""}, "validation_error", "replacement_imei"),
        ({"kind": "return", "refund_amount": "0"}, "validation_error", "refund_amount"),
        ({"kind": "return", "refund_amount": "１２９"}, "validation_error", "refund_amount"),
        ({"kind": "swap"}, "validation_error", "kind"),
        ({"kind": "return", "refund_amount": "1", "reason": " "}, "validation_error", "reason"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(shop, claim, kw, code, field):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    inspect(shop, ticket)
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, **kw)
    assert (err.value.code, err.value.field) == (code, field)
    assert not ReturnDecision.objects.exists() and Device.objects.count() == 1


def test_replacement_imei_already_registered(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    inspect(shop, ticket)
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "exchange", replacement_imei=ticket.device.imei)
    assert (err.value.code, err.value.status) == ("device_exists", 409)


def test_order_roles_and_second_decision(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "return", refund_amount="1")
    assert err.value.code == "inspection_required"
    with pytest.raises(DomainError) as err:
        services.inspection_record(
            ticket_id=ticket.pk, actor=shop["actors"]["desk"], performance_fault=True, findings="x"
        )
    assert (err.value.code, err.value.status) == ("permission_denied", 403)
    inspect(shop, ticket)
    with pytest.raises(DomainError) as err:
        services.return_decide(
            ticket_id=ticket.pk, actor=shop["actors"]["eng"], kind="return", reason="r", refund_amount="1"
        )
    assert err.value.code == "permission_denied"
    decide(shop, ticket, "repair")
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "return", refund_amount="1")
    assert (err.value.code, err.value.status) == ("decision_exists", 409)


def test_no_performance_fault_and_no_sale_date(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    inspect(shop, ticket, performance_fault=False, findings="Works as designed.")
    with pytest.raises(DomainError) as err:
        decide(shop, ticket, "return", refund_amount="1")
    assert err.value.code == "no_performance_fault"
    other = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    Device.objects.filter(pk=other.device_id).update(sold_at=None)
    inspect(shop, other)
    with pytest.raises(DomainError) as err:
        decide(shop, other, "return", refund_amount="1")
    assert err.value.code == "no_sale_date"


def test_generic_transition_cannot_exchange_or_return(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    for action in ("exchange", "statutory_return"):
        with pytest.raises(DomainError) as err:
            ticket_transition(ticket_id=ticket.pk, action=action, actor=shop["actors"]["desk"])
        assert err.value.code == "invalid_transition"
    assert RepairTicket.objects.get(pk=ticket.pk).status == "received"


def test_inspection_refuses_both_fault_and_exclusion(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    with pytest.raises(DomainError) as err:
        inspect(shop, ticket, exclusion="liquid_damage")
    assert (err.value.code, err.value.field) == ("validation_error", "exclusion")
