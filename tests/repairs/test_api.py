"""The repairs API per docs/api-contract.md: check-in, list, detail, transitions, quotes, catalog, tracking."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from centers.choices import CenterKind
from repairs.models import Customer, RepairTicket
from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory, make_imei

pytestmark = pytest.mark.django_db

SCREEN = {"lines": [{"repair": "screen"}]}


@pytest.fixture
def desk_client(center, people):
    c = APIClient()
    c.force_authenticate(people["desk"].user)
    return c


@pytest.fixture
def eng_client(center, people):
    c = APIClient()
    c.force_authenticate(people["eng"].user)
    return c


def walkin_body(center_obj, model, **kw):
    body = {
        "center": center_obj.code,
        "channel": "walk_in",
        "customer": {"name": "王小明", "phone": "13812345678"},
        "device": {
            "imei": make_imei(),
            "model": model.code,
            "sold_at": (timezone.now() - dt.timedelta(days=700)).isoformat(),
        },
        "fault": {"category": "screen", "description": "cracked"},
        "accessories": ["case", "charger"],
        "repair_mode_enabled": True,
    }
    body.update(kw)
    return body


# --- create (check-in) --------------------------------------------------------------


def test_walk_in_check_in_creates_customer_device_ticket(desk_client, center, model):
    r = desk_client.post("/api/v1/tickets/", walkin_body(center, model), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["status"] == "received"
    assert body["channel"] == "walk_in"
    assert body["center"] == center.code
    assert body["customer"] == {"name": "王小明", "phone": "+8613812345678"}
    assert body["accessories"] == ["case", "charger"]
    assert body["repair_mode_enabled"] is True
    assert [e["status"] for e in body["timeline"]] == ["booked", "received"]
    assert body["allowed_actions"] == ["cancel"]  # front desk: the engineer diagnoses
    assert body["quote"] is None and body["loan"] is None
    assert RepairTicket.objects.get().service_no == body["service_no"]


def test_check_in_of_a_booked_ticket_by_service_no(desk_client, center, customer, old_device):
    from repairs.services import ticket_book

    t = ticket_book(center=center, customer=customer, device=old_device, fault_category="battery")
    r = desk_client.post(
        "/api/v1/tickets/", {"service_no": t.service_no.lower(), "accessories": ["box"]}, format="json"
    )
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "received"
    assert r.json()["accessories"] == ["box"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"customer": {"name": "王小明", "phone": "12345"}}, "customer.phone"),
        ({"device": {"imei": "123456789012345", "model": "P60"}}, "device.imei"),
        ({"fault": {"category": "broken"}}, "fault.category"),
        ({"center": "NOPE"}, "center"),
    ],
)
def test_check_in_bad_input_is_400_with_field_and_nothing_saved(desk_client, center, model, patch, field):
    r = desk_client.post("/api/v1/tickets/", walkin_body(center, model, **patch), format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert field in r.json()["errors"]
    assert RepairTicket.objects.count() == 0
    assert Customer.objects.count() == 0


def test_mass_assignment_of_status_is_ignored(desk_client, center, model):
    r = desk_client.post("/api/v1/tickets/", walkin_body(center, model, status="closed", engineer="x"), format="json")
    assert r.status_code == 201
    assert r.json()["status"] == "received"
    assert r.json()["engineer"] is None


def test_partner_key_needs_write_scope(key_client, center, model):
    client = key_client(scopes=["tickets:read"], centers=[center])
    r = client.post("/api/v1/tickets/", walkin_body(center, model), format="json")
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def test_collection_point_partner_checks_in_and_forwards(key_client, model):
    hub = ServiceCenterFactory()
    cp = ServiceCenterFactory(kind=CenterKind.COLLECTION_POINT, hub=hub)
    client = key_client(scopes=["tickets:read", "tickets:write"], centers=[cp])
    r = client.post("/api/v1/tickets/", walkin_body(cp, model), format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["center"], body["origin_center"], body["channel"]) == (hub.code, cp.code, "collection_point")
    assert body["customer"]["phone"] == "138****5678"  # partners see masked personal data
    assert body["allowed_actions"] == ["forward", "cancel"]
    r = client.post(f"/api/v1/tickets/{body['service_no']}/transition/", {"action": "forward"}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "in_transit"
    assert r.json()["allowed_actions"] == []


# --- list ---------------------------------------------------------------------------


def _tickets(center, people, model, n):
    return [
        walk_in(center, people["desk"], device=DeviceFactory(model=model), phone=f"1391234{i:04d}") for i in range(n)
    ]


def test_list_only_own_centers_and_filters(desk_client, center, people, model):
    mine = _tickets(center, people, model, 3)
    other_center = ServiceCenterFactory()
    walk_in(other_center, staff_actor(other_center), device=DeviceFactory(model=model), phone="13700000000")
    r = desk_client.get("/api/v1/tickets/")
    assert r.status_code == 200
    assert r.json()["count"] == 3
    assert [t["service_no"] for t in r.json()["results"]] == [t.service_no for t in reversed(mine)]
    run(mine[0], ("start_diagnosis", people["eng"]))
    assert desk_client.get("/api/v1/tickets/?status=diagnosing").json()["count"] == 1
    assert desk_client.get("/api/v1/tickets/?status=diagnosing&status=received").json()["count"] == 3
    assert desk_client.get("/api/v1/tickets/?channel=mail_in").json()["count"] == 0
    assert desk_client.get(f"/api/v1/tickets/?center={other_center.code}").json()["count"] == 0
    assert desk_client.get("/api/v1/tickets/?created_after=2000-01-01").json()["count"] == 3
    assert desk_client.get("/api/v1/tickets/?created_before=2000-01-01").json()["count"] == 0
    bad = desk_client.get("/api/v1/tickets/?status=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"


def staff_actor(center, role="front_desk"):
    from servicehub.actors import actor_for_user

    return actor_for_user(staff(center, role))


def test_list_sla_breached_and_overdue_filters(desk_client, center, people, model):
    a, b = _tickets(center, people, model, 2)
    RepairTicket.objects.filter(pk=a.pk).update(stage_due_at=timezone.now() - dt.timedelta(minutes=5))
    for flt in ("sla_breached", "overdue"):
        r = desk_client.get(f"/api/v1/tickets/?{flt}=true")
        assert [t["service_no"] for t in r.json()["results"]] == [a.service_no]
        assert r.json()["results"][0]["sla_breached"] is True
        assert desk_client.get(f"/api/v1/tickets/?{flt}=false").json()["results"][0]["service_no"] == b.service_no


def test_list_engineer_filter(desk_client, center, people, model, ops):
    a, b = _tickets(center, people, model, 2)
    # (devices sold 30 days ago: the quote is free, so the repair starts without approval)
    run(a, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN), ("start_repair", people["eng"]))
    r = desk_client.get(f"/api/v1/tickets/?engineer={people['eng'].user.username}")
    assert [t["service_no"] for t in r.json()["results"]] == [a.service_no]


def test_list_query_count_does_not_grow_with_page_size(desk_client, center, people, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _tickets(center, people, model, 12)
    with CaptureQueriesContext(connection) as ctx10:
        r10 = desk_client.get("/api/v1/tickets/?page_size=10")
    with CaptureQueriesContext(connection) as ctx100:
        r100 = desk_client.get("/api/v1/tickets/?page_size=100")
    assert len(r10.json()["results"]) == 10
    assert len(r100.json()["results"]) == 12
    assert len(ctx10.captured_queries) == len(ctx100.captured_queries)


def test_list_query_count_is_bounded(desk_client, center, people, model, django_assert_max_num_queries):
    _tickets(center, people, model, 5)
    with django_assert_max_num_queries(4):
        desk_client.get("/api/v1/tickets/")


# --- detail ---------------------------------------------------------------------------


def test_detail_has_timeline_quote_allowed_actions(
    eng_client, center, people, ops, old_device, django_assert_max_num_queries
):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))
    # membership, ticket, timeline, payments, ledger sums, quote lines, loan, custody, shipments,
    # parts reservations: one query a section, whatever the number of events or lines.
    with django_assert_max_num_queries(10):
        r = eng_client.get(f"/api/v1/tickets/{t.service_no}/")
    assert r.status_code == 200
    body = r.json()
    assert [e["action"] for e in body["timeline"]] == ["book", "check_in", "start_diagnosis", "send_quote"]
    assert body["quote"]["total"] == "659.00"
    assert body["quote"]["lines"][0]["rules"][0]["code"] == "fixed_price"
    assert body["allowed_actions"] == ["send_quote"]  # engineer: revise; approval is the customer's / desk's


def test_detail_of_another_centers_ticket_is_404(center, people, old_device, model):
    t = walk_in(center, people["desk"], device=old_device)
    other = ServiceCenterFactory()
    c = APIClient()
    c.force_authenticate(staff(other, "manager"))
    r = c.get(f"/api/v1/tickets/{t.service_no}/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = c.post(f"/api/v1/tickets/{t.service_no}/transition/", {"action": "cancel"}, format="json")
    assert r.status_code == 404


# --- transitions and quotes ------------------------------------------------------------------


def test_transition_refused_is_409_with_allowed_actions(desk_client, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    r = desk_client.post(f"/api/v1/tickets/{t.service_no}/transition/", {"action": "hand_over"}, format="json")
    assert r.status_code == 409
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_transition"
    assert r.json()["allowed_actions"] == ["cancel"]


def test_transition_unknown_action_is_400(desk_client, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    r = desk_client.post(f"/api/v1/tickets/{t.service_no}/transition/", {"action": "explode"}, format="json")
    assert r.status_code == 400
    assert "action" in r.json()["errors"]


def test_quote_endpoint_and_approve(eng_client, desk_client, center, people, ops, old_device):
    t = run(walk_in(center, people["desk"], device=old_device), ("start_diagnosis", people["eng"]))
    r = eng_client.post(
        f"/api/v1/tickets/{t.service_no}/quote/", {"lines": [{"repair": "screen"}, {"repair": "camera"}]}, format="json"
    )
    assert r.status_code == 201, r.json()
    q = r.json()
    assert q["version"] == 1
    assert q["status"] == "pending"
    assert [(ln["repair"], ln["amount"]) for ln in q["lines"]] == [("screen", "659.00"), ("camera", "579.00")]
    assert q["total"] == "1238.00"
    r = desk_client.post(f"/api/v1/tickets/{t.service_no}/quote/approve/", {}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "repairing"
    assert r.json()["quote"]["status"] == "approved"


def test_quote_unknown_repair_code_is_400(eng_client, center, people, ops, old_device):
    t = run(walk_in(center, people["desk"], device=old_device), ("start_diagnosis", people["eng"]))
    r = eng_client.post(f"/api/v1/tickets/{t.service_no}/quote/", {"lines": [{"repair": "antenna"}]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert "lines" in r.json()["errors"]
    t.refresh_from_db()
    assert t.status == "diagnosing"


def test_approve_when_not_awaiting_approval_is_409(desk_client, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    r = desk_client.post(f"/api/v1/tickets/{t.service_no}/quote/approve/", {}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition"
    assert r.json()["allowed_actions"] == ["cancel"]


def test_decline_endpoint(eng_client, desk_client, center, people, ops, old_device):
    t = run(
        walk_in(center, people["desk"], device=old_device),
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
    )
    r = desk_client.post(f"/api/v1/tickets/{t.service_no}/quote/decline/", {}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "returning"


def test_staff_api_key_acts_with_its_users_roles(staff_key_client, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    client = staff_key_client(people["eng"].user)
    r = client.post(f"/api/v1/tickets/{t.service_no}/transition/", {"action": "start_diagnosis"}, format="json")
    assert r.status_code == 200
    assert r.json()["status"] == "diagnosing"
    assert r.json()["timeline"][-1]["by"] == people["eng"].user.username


# --- catalog ------------------------------------------------------------------------------------


def test_catalog_lists_published_prices(api_client, ops, model, django_assert_max_num_queries):
    from repairs.models import RepairOperation

    RepairOperation.objects.filter(code="camera").update(published=False)
    with django_assert_max_num_queries(2):
        r = api_client.get(f"/api/v1/catalog/repairs/?model={model.code}")
    assert r.status_code == 200
    rows = {row["code"]: row for row in r.json()}
    assert set(rows) == {"battery", "mainboard", "screen"}
    assert rows["battery"]["fixed_price"] == "129.00"
    assert rows["mainboard"]["grades"] == [
        {"grade": "new", "part_price": "2399.00", "warranty_days": 90},
        {"grade": "refurbished", "part_price": "719.70", "warranty_days": 90},
    ]


def test_catalog_unknown_model_404_and_missing_400(api_client, db):
    assert api_client.get("/api/v1/catalog/repairs/?model=NOPE").status_code == 404
    assert api_client.get("/api/v1/catalog/repairs/").status_code == 400


# --- tracking -----------------------------------------------------------------------------------


def test_tracking_masks_and_answers_in_at_most_4_queries(
    api_client, center, people, ops, old_device, django_assert_max_num_queries
):
    t = walk_in(center, people["desk"], device=old_device, name="王小明", phone="13812345678")
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))
    with django_assert_max_num_queries(4):
        r = api_client.get(f"/api/v1/track/{t.service_no}/?phone_last4=5678")
    assert r.status_code == 200
    body = r.json()
    assert body["customer"] == {"name": "王*明", "phone": "138****5678"}
    assert body["status"] == "awaiting_approval"
    assert [s["status"] for s in body["timeline"]] == ["booked", "received", "diagnosing", "awaiting_approval"]
    assert body["quote"]["total"] == "659.00"
    assert "13812345678" not in r.content.decode()
    assert people["eng"].user.username not in r.content.decode()


def test_tracking_wrong_phone_and_unknown_number_are_the_same_404(api_client, center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device, phone="13812345678")
    wrong = api_client.get(f"/api/v1/track/{t.service_no}/?phone_last4=0000")
    unknown = api_client.get("/api/v1/track/ZZZZZZZZZZ/?phone_last4=5678")
    missing = api_client.get(f"/api/v1/track/{t.service_no}/")
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.json() == unknown.json() == missing.json()


def test_tracking_is_throttled(api_client, center, people, old_device, settings):
    from rest_framework.settings import api_settings

    rates = dict(api_settings.DEFAULT_THROTTLE_RATES, tracking="3/min")
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [api_client.get("/api/v1/track/ZZZZZZZZZZ/?phone_last4=1234").status_code for _i in range(4)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [404, 404, 404, 429]


def test_system_actor_ticket_visible_in_api_for_hq(center, people, old_device):
    from centers.models import StaffMembership
    from tests.factories.users import StaffUserFactory

    t = walk_in(center, people["desk"], device=old_device)
    run(t, ("cancel", SYSTEM))
    hq = StaffUserFactory()
    StaffMembership.objects.create(user=hq, center=None, role="hq")
    c = APIClient()
    c.force_authenticate(hq)
    assert c.get("/api/v1/tickets/").json()["count"] == 1
