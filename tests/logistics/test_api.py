"""Shipments API: couriers post events to their own shipments only; detail with events; seal checks."""

import datetime as dt

import pytest
from django.utils import timezone

from logistics.models import ShipmentEvent
from logistics.services import shipment_create
from partners.choices import PartnerKind
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(key_client):
    hub = ServiceCenterFactory(kind="mail_in_hub")
    cp = ServiceCenterFactory(kind="collection_point", hub=hub)
    courier = PartnerFactory(name="SF Express", kind=PartnerKind.COURIER)
    rival = PartnerFactory(name="Other Courier", kind=PartnerKind.COURIER)
    ticket = make_ticket(center=hub, origin_center=cp, status="received", channel="collection_point")
    shipment = shipment_create(ticket=ticket, leg="collection_point_to_center", courier="SF Express")
    return {
        "ticket": ticket,
        "shipment": shipment,
        "courier": key_client(scopes=["shipments:write"], partner=courier),
        "rival": key_client(scopes=["shipments:write"], partner=rival),
        "cp": cp,
        "hub": hub,
    }


def _at(hours_ago):
    return (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat()


def test_courier_posts_pickup_and_delivery_and_the_ticket_arrives(setup):
    s, client = setup["shipment"], setup["courier"]
    url = f"/api/v1/shipments/{s.pk}/events/"
    r = client.post(
        url, {"event": "picked_up", "at": _at(3), "tracking_no": "SF100", "seal_no": "BAG-7"}, format="json"
    )
    assert r.status_code == 201
    assert r.json()["ticket_action"] == "forward"
    r = client.post(url, {"event": "delivered", "at": _at(1), "seal_no": "BAG-7"}, format="json")
    assert r.status_code == 201
    assert (r.json()["seal_ok"], r.json()["ticket_action"]) == (True, "receive_at_hub")
    setup["ticket"].refresh_from_db()
    assert setup["ticket"].status == "received"


def test_wrong_seal_is_409_seal_mismatch(setup):
    s, client = setup["shipment"], setup["courier"]
    url = f"/api/v1/shipments/{s.pk}/events/"
    client.post(url, {"event": "picked_up", "at": _at(3), "seal_no": "BAG-7"}, format="json")
    r = client.post(url, {"event": "delivered", "at": _at(1), "seal_no": "BAG-8"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "seal_mismatch"
    assert ShipmentEvent.objects.filter(event="delivered").count() == 0


def test_other_courier_gets_404_and_no_list_entry(setup, django_assert_max_num_queries):
    s, rival = setup["shipment"], setup["rival"]
    r = rival.post(f"/api/v1/shipments/{s.pk}/events/", {"event": "picked_up", "at": _at(1)}, format="json")
    assert r.status_code == 404
    assert rival.get(f"/api/v1/shipments/{s.pk}/").status_code == 404
    with django_assert_max_num_queries(5):
        assert rival.get("/api/v1/shipments/").json()["count"] == 0
    assert ShipmentEvent.objects.count() == 0


def test_detail_has_events_and_list_is_own(setup, django_assert_max_num_queries):
    s, client = setup["shipment"], setup["courier"]
    client.post(
        f"/api/v1/shipments/{s.pk}/events/", {"event": "picked_up", "at": _at(2), "seal_no": "B"}, format="json"
    )
    with django_assert_max_num_queries(6):
        r = client.get(f"/api/v1/shipments/{s.pk}/")
    assert r.status_code == 200
    body = r.json()
    assert body["ticket"] == setup["ticket"].service_no
    assert [e["event"] for e in body["events"]] == ["picked_up"]
    with django_assert_max_num_queries(5):
        listing = client.get("/api/v1/shipments/").json()
    assert [x["id"] for x in listing["results"]] == [s.pk]


@pytest.mark.parametrize(
    "payload",
    [
        {"event": "teleported", "at": "2026-01-01T10:00:00+08:00"},
        {"event": "picked_up"},
        {"event": "picked_up", "at": "not a time"},
        {"event": "picked_up", "at": "2999-01-01T10:00:00+08:00"},
    ],
)
def test_bad_events_are_400(setup, payload):
    r = setup["courier"].post(f"/api/v1/shipments/{setup['shipment'].pk}/events/", payload, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"


def test_scope_required(setup, key_client):
    client = key_client(scopes=["tickets:read"], partner=setup["shipment"].courier_partner)
    r = client.post(
        f"/api/v1/shipments/{setup['shipment'].pk}/events/", {"event": "picked_up", "at": _at(1)}, format="json"
    )
    assert r.status_code == 403


def test_collection_point_operator_creates_the_sealed_leg_and_sees_it(key_client):
    hub = ServiceCenterFactory(kind="mail_in_hub")
    cp = ServiceCenterFactory(kind="collection_point", hub=hub)
    operator = PartnerFactory(kind=PartnerKind.COLLECTION_POINT_OPERATOR)
    operator.centers.add(cp)
    client = key_client(scopes=["shipments:write"], partner=operator)
    ticket = make_ticket(center=hub, origin_center=cp, status="received", channel="collection_point")
    stranger_ticket = make_ticket(center=hub, status="received")
    r = client.post(
        "/api/v1/shipments/",
        {
            "ticket": ticket.service_no,
            "leg": "collection_point_to_center",
            "seal_no": "CP-BAG-1",
            "courier": "SF Express",
        },
        format="json",
    )
    assert r.status_code == 201
    assert (r.json()["seal_no"], r.json()["origin_center"]) == ("CP-BAG-1", cp.code)
    r = client.post(
        "/api/v1/shipments/", {"ticket": stranger_ticket.service_no, "leg": "hub_to_customer"}, format="json"
    )
    assert r.status_code == 404
