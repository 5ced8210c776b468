"""Shipments: creation, the custody chain and seal checks, ticket moves on arrival."""

import datetime as dt

import pytest
from django.utils import timezone

from logistics.models import Shipment, ShipmentEvent
from logistics.selectors import custody_chain
from logistics.services import shipment_create, shipment_event_record
from partners.choices import PartnerKind
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory, make_ticket

pytestmark = pytest.mark.django_db


def _cp_ticket(status="received"):
    hub = ServiceCenterFactory(kind="mail_in_hub")
    cp = ServiceCenterFactory(kind="collection_point", hub=hub)
    return make_ticket(center=hub, origin_center=cp, status=status, channel="collection_point")


def test_create_assigns_courier_partner_by_name_and_ends_by_leg():
    courier = PartnerFactory(name="SF Express", kind=PartnerKind.COURIER)
    ticket = _cp_ticket()

    s = shipment_create(ticket=ticket, leg="collection_point_to_center", courier="SF Express", address="x")

    assert s.courier_partner == courier
    assert (s.origin_center, s.destination_center) == (ticket.origin_center, ticket.center)
    assert s.status == "created"


def test_second_open_shipment_on_same_leg_is_refused():
    ticket = _cp_ticket()
    shipment_create(ticket=ticket, leg="collection_point_to_center")
    with pytest.raises(DomainError) as exc:
        shipment_create(ticket=ticket, leg="collection_point_to_center")
    assert exc.value.code == "shipment_exists"
    assert Shipment.objects.count() == 1


def test_collection_point_leg_needs_a_collection_point():
    ticket = make_ticket()
    with pytest.raises(DomainError) as exc:
        shipment_create(ticket=ticket, leg="collection_point_to_center")
    assert exc.value.code == "validation_error"


def test_custody_chain_pickup_seal_then_wrong_seal_at_delivery_is_409_and_nothing_written():
    ticket = _cp_ticket()
    s = shipment_create(ticket=ticket, leg="collection_point_to_center")
    t0 = timezone.now() - dt.timedelta(hours=2)
    shipment_event_record(shipment_id=s.pk, event="picked_up", at=t0, seal_no="BAG-1", tracking_no="SF1", actor=SYSTEM)

    with pytest.raises(DomainError) as exc:
        shipment_event_record(
            shipment_id=s.pk, event="delivered", at=t0 + dt.timedelta(hours=1), seal_no="BAG-2", actor=SYSTEM
        )

    assert exc.value.code == "seal_mismatch"
    assert exc.value.status == 409
    s.refresh_from_db()
    assert s.status == "picked_up"
    assert ShipmentEvent.objects.filter(shipment=s).count() == 1


def test_delivery_without_seal_once_recorded_is_refused():
    ticket = _cp_ticket()
    s = shipment_create(ticket=ticket, leg="collection_point_to_center", seal_no="BAG-9")
    with pytest.raises(DomainError) as exc:
        shipment_event_record(shipment_id=s.pk, event="picked_up", at=timezone.now(), actor=SYSTEM)
    assert exc.value.code == "validation_error"
    assert exc.value.field == "seal_no"


def test_invalid_event_order_is_409_with_allowed_events():
    s = shipment_create(ticket=_cp_ticket(), leg="collection_point_to_center")
    with pytest.raises(DomainError) as exc:
        shipment_event_record(shipment_id=s.pk, event="delivered", at=timezone.now(), actor=SYSTEM)
    assert exc.value.code == "invalid_shipment_event"
    assert exc.value.extra["allowed_events"] == ["picked_up"]


def test_event_in_the_future_is_refused():
    s = shipment_create(ticket=_cp_ticket(), leg="collection_point_to_center")
    with pytest.raises(DomainError) as exc:
        shipment_event_record(
            shipment_id=s.pk, event="picked_up", at=timezone.now() + dt.timedelta(hours=1), actor=SYSTEM
        )
    assert exc.value.field == "at"


def test_collection_point_leg_forwards_then_receives_the_ticket_at_the_hub():
    ticket = _cp_ticket(status="received")
    s = shipment_create(ticket=ticket, leg="collection_point_to_center")
    t0 = timezone.now() - dt.timedelta(hours=3)

    e1 = shipment_event_record(shipment_id=s.pk, event="picked_up", at=t0, seal_no="B1", actor=SYSTEM)
    ticket.refresh_from_db()
    assert (e1.ticket_action, ticket.status) == ("forward", "in_transit")

    shipment_event_record(shipment_id=s.pk, event="in_transit", at=t0 + dt.timedelta(hours=1), actor=SYSTEM)
    e3 = shipment_event_record(
        shipment_id=s.pk, event="delivered", at=t0 + dt.timedelta(hours=2), seal_no="B1", actor=SYSTEM
    )
    ticket.refresh_from_db()
    assert (e3.ticket_action, e3.seal_ok, ticket.status) == ("receive_at_hub", True, "received")
    assert [(c["event"], c["seal_ok"]) for c in custody_chain(ticket_id=ticket.pk)] == [
        ("picked_up", None),
        ("in_transit", None),
        ("delivered", True),
    ]


def test_mail_in_arrival_checks_the_ticket_in_at_the_hub():
    hub = ServiceCenterFactory(kind="mail_in_hub")
    ticket = make_ticket(center=hub, status="booked", channel="mail_in")
    s = shipment_create(ticket=ticket, leg="customer_to_hub", address="上海市黄浦区 1 号")
    t0 = timezone.now() - dt.timedelta(hours=3)
    shipment_event_record(shipment_id=s.pk, event="picked_up", at=t0, seal_no="M1", actor=SYSTEM)
    ticket.refresh_from_db()
    assert ticket.status == "booked"  # a pickup moves nothing on this leg

    shipment_event_record(
        shipment_id=s.pk, event="delivered", at=t0 + dt.timedelta(hours=1), seal_no="M1", actor=SYSTEM
    )
    ticket.refresh_from_db()
    assert ticket.status == "received"


def test_courier_retry_of_the_same_event_returns_it_without_a_second_row():
    s = shipment_create(ticket=_cp_ticket(), leg="collection_point_to_center")
    at = timezone.now() - dt.timedelta(minutes=5)
    first = shipment_event_record(shipment_id=s.pk, event="picked_up", at=at, seal_no="B", actor=SYSTEM)
    again = shipment_event_record(shipment_id=s.pk, event="picked_up", at=at, seal_no="B", actor=SYSTEM)
    assert again.pk == first.pk
    assert ShipmentEvent.objects.filter(shipment=s).count() == 1
