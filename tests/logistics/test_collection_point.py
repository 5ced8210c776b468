"""A collection point end to end: the operator checks a device in through the tickets API, seals the bag,
the courier carries it to the hub, the hub receives it; the ticket shows the chain of custody."""

import datetime as dt

import pytest
from django.utils import timezone

from partners.choices import PartnerKind
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory
from tests.factories.warranty import DeviceModelFactory, make_imei

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(key_client):
    hub = ServiceCenterFactory(kind="mail_in_hub")
    cp = ServiceCenterFactory(kind="collection_point", hub=hub, services=["phone", "walk_in"])
    other_cp = ServiceCenterFactory(kind="collection_point", hub=hub)
    operator = PartnerFactory(name="Corner shops Ltd", kind=PartnerKind.COLLECTION_POINT_OPERATOR)
    operator.centers.add(cp, other_cp)
    courier = PartnerFactory(name="SF Express", kind=PartnerKind.COURIER)
    scopes = ["tickets:read", "tickets:write", "shipments:write"]
    return {
        "hub": hub,
        "cp": cp,
        "other_cp": other_cp,
        # The key is limited to one of the operator's two collection points.
        "operator": key_client(scopes=scopes, partner=operator, centers=[cp]),
        "courier": key_client(scopes=["shipments:write"], partner=courier),
        "model": DeviceModelFactory(code="P70"),
    }


def _check_in(client, center):
    return client.post(
        "/api/v1/tickets/",
        {
            "center": center.code,
            "channel": "collection_point",
            "customer": {"name": "李小龙", "phone": "13912345678"},
            "device": {"imei": make_imei(), "model": "P70"},
            "fault": {"category": "screen", "description": "cracked"},
            "accessories": ["case"],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"checkin-{center.code}",
    )


def test_operator_checks_in_forwards_and_the_hub_receives_with_custody(network):
    op, courier = network["operator"], network["courier"]
    r = _check_in(op, network["cp"])
    assert r.status_code == 201, r.json()
    ticket = r.json()
    service_no = ticket["service_no"]
    assert ticket["status"] == "received"

    r = op.post(
        "/api/v1/shipments/",
        {"ticket": service_no, "leg": "collection_point_to_center", "courier": "SF Express", "seal_no": "CP-0001"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    shipment_id = r.json()["id"]

    t0 = timezone.now() - dt.timedelta(hours=5)
    url = f"/api/v1/shipments/{shipment_id}/events/"
    assert (
        courier.post(
            url, {"event": "picked_up", "at": t0.isoformat(), "seal_no": "CP-0001", "tracking_no": "SF9"}, format="json"
        ).status_code
        == 201
    )
    assert (
        courier.post(
            url, {"event": "in_transit", "at": (t0 + dt.timedelta(hours=1)).isoformat()}, format="json"
        ).status_code
        == 201
    )
    r = courier.post(
        url, {"event": "delivered", "at": (t0 + dt.timedelta(hours=4)).isoformat(), "seal_no": "CP-0001"}, format="json"
    )
    assert r.status_code == 201
    assert r.json()["ticket_action"] == "receive_at_hub"

    detail = op.get(f"/api/v1/tickets/{service_no}/").json()
    assert detail["status"] == "received"
    custody = op.get(f"/api/v1/tickets/{service_no}/custody/").json()["custody"]
    # The bag was sealed at the collection point, so the pickup is checked too.
    assert [(c["event"], c["seal_ok"]) for c in custody] == [
        ("picked_up", True),
        ("in_transit", None),
        ("delivered", True),
    ]
    assert {c["seal_no"] for c in custody if c["event"] != "in_transit"} == {"CP-0001"}
    # The ticket itself shows the same chain.
    assert [(c["event"], c["seal_ok"], c["leg"]) for c in detail["custody"]] == [
        (c["event"], c["seal_ok"], c["leg"]) for c in custody
    ]


def test_operator_key_cannot_check_in_at_a_site_outside_its_key(network):
    r = _check_in(network["operator"], network["other_cp"])
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["center"]  # "Unknown center." (in the active language)


def test_operator_cannot_see_custody_of_other_tickets(network, key_client):
    r = _check_in(network["operator"], network["cp"])
    stranger = key_client(scopes=["tickets:read"])
    assert stranger.get(f"/api/v1/tickets/{r.json()['service_no']}/custody/").status_code == 404


def test_custody_and_ticket_detail_query_counts_do_not_grow_with_events(network, django_assert_max_num_queries):
    op, courier = network["operator"], network["courier"]
    service_no = _check_in(op, network["cp"]).json()["service_no"]
    shipment_id = op.post(
        "/api/v1/shipments/",
        {"ticket": service_no, "leg": "collection_point_to_center", "courier": "SF Express", "seal_no": "CP-0002"},
        format="json",
    ).json()["id"]
    t0 = timezone.now() - dt.timedelta(hours=3)
    for i, event in enumerate(["picked_up", "in_transit", "in_transit"]):
        body = {"event": event, "at": (t0 + dt.timedelta(minutes=10 * i)).isoformat()}
        if event == "picked_up":
            body["seal_no"] = "CP-0002"
        assert courier.post(f"/api/v1/shipments/{shipment_id}/events/", body, format="json").status_code == 201

    with django_assert_max_num_queries(6):
        r = op.get(f"/api/v1/tickets/{service_no}/custody/")
    assert r.status_code == 200
    assert [c["event"] for c in r.json()["custody"]] == ["picked_up", "in_transit", "in_transit"]
    # key, its centers, ticket, timeline, payments, ledger sums, quote, loan, custody, shipments, parts
    with django_assert_max_num_queries(11):
        detail = op.get(f"/api/v1/tickets/{service_no}/")
    assert len(detail.json()["custody"]) == 3
