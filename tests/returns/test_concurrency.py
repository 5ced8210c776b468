"""Races against PostgreSQL: two desks deciding one 三包 claim; two clicks shipping one device back.

Each has a control run with the lock taken out, showing the harness catches the bug.
"""

import time

import pytest

from logistics import services as logistics_services
from logistics.couriers.base import Booking
from logistics.models import Shipment
from returns import services
from returns.models import ReturnDecision
from servicehub.errors import DomainError
from tests.concurrency import first_read_barrier, race_collect
from tests.factories.warranty import make_imei, shanghai
from warranty.models import Device

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6
SOLD = shanghai(2026, 3, 1, 12, 0)


@pytest.fixture
def inspected(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 4, 9, 0))
    services.inspection_record(ticket_id=ticket.pk, actor=shop["actors"]["eng"], performance_fault=True, findings="x")
    return ticket


def _exchange(shop, ticket):
    imeis = iter([make_imei() for _ in range(THREADS)])
    return lambda: services.return_decide(
        ticket_id=ticket.pk, actor=shop["actors"]["desk"], kind="exchange", reason="r", replacement_imei=next(imeis)
    ).pk


def test_two_desks_exchanging_at_once_make_one_decision_and_one_replacement(shop, inspected):
    results, errors = race_collect(_exchange(shop, inspected), THREADS)
    assert len(results) == 1 and ReturnDecision.objects.count() == 1
    assert Device.objects.count() == 2  # the old phone and one replacement
    assert all(isinstance(e, DomainError) and e.code in ("decision_exists", "busy") for e in errors), errors


def test_control_without_the_lock_losers_crash_on_the_constraint(shop, inspected, monkeypatch):
    from repairs.models import RepairTicket

    wait = first_read_barrier(THREADS)

    def unlocked(ticket_id, actor):
        ticket = RepairTicket.objects.get(pk=ticket_id)
        wait()  # both desks read before either decides
        return ticket

    monkeypatch.setattr(services, "_lock_visible_ticket", unlocked)

    results, errors = race_collect(_exchange(shop, inspected), THREADS)
    # The constraint still keeps one decision, but the losers fail with a database error (a 500), not a code.
    assert ReturnDecision.objects.count() == 1
    assert any(not isinstance(e, DomainError) for e in errors), errors


class CountingCourier:
    name = carrier = "counting"
    booked: list = []

    def book(self, request):
        time.sleep(0.1)  # a courier's round trip
        CountingCourier.booked.append(request.order_id)
        return Booking(carrier="sf_express", tracking_no=f"SF{len(CountingCourier.booked):010d}")


@pytest.fixture
def ready_with_open_leg(db, monkeypatch):
    """A ready mail-in ticket whose return leg was already created (by the API) without a waybill."""
    from servicehub.actors import actor_for_user
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.partners import make_ticket
    from tests.factories.repairs import staff

    hub = ServiceCenterFactory(code="HUB-RACE", kind="mail_in_hub")
    desk = actor_for_user(staff(hub, "front_desk", username="racedesk"))
    ticket = make_ticket(center=hub, status="ready", channel="mail_in")
    Shipment.objects.create(ticket=ticket, leg="hub_to_customer", address="上海市")
    CountingCourier.booked = []
    monkeypatch.setattr("logistics.couriers.courier_provider", lambda name=None: CountingCourier())
    return ticket, desk


def test_two_clicks_on_ship_back_book_one_courier(ready_with_open_leg):
    ticket, desk = ready_with_open_leg
    results, errors = race_collect(lambda: logistics_services.ticket_ship_back(ticket_id=ticket.pk, actor=desk), 4)
    assert len(CountingCourier.booked) == 1 and len(results) == 1
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert Shipment.objects.get(ticket=ticket, leg="hub_to_customer").tracking_no == "SF0000000001"


def test_control_without_the_ticket_lock_two_couriers_are_booked(ready_with_open_leg, monkeypatch):
    ticket, desk = ready_with_open_leg
    real = logistics_services.lock_one

    def no_ticket_lock(target, pk=None, **kw):
        model = getattr(target, "model", target)
        if model.__name__ == "RepairTicket":
            return target.get(pk=pk) if hasattr(target, "get") else model.objects.get(pk=pk)
        return real(target, pk, **kw)

    monkeypatch.setattr(logistics_services, "lock_one", no_ticket_lock)
    race_collect(lambda: logistics_services.ticket_ship_back(ticket_id=ticket.pk, actor=desk), 4)
    assert len(CountingCourier.booked) > 1  # the harness catches a double booking
