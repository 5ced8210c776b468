"""Warranty API: coverage, catalog, plans on sale, device registration, plan purchases."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories.warranty import (
    DeviceFactory,
    DeviceModelFactory,
    PlanProductFactory,
    care_plus,
    make_imei,
    purchase,
    screen_care,
)
from warranty.models import Device, PlanPurchase, PlanPurchaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def mate():
    return DeviceModelFactory(code="MATE70PRO", name="Mate 70 Pro", category="phone", tier="flagship")


@pytest.fixture
def device(mate):
    return DeviceFactory(model=mate, imei=make_imei(777), sold_at=timezone.now() - dt.timedelta(days=3))


def problem(r, status, code):
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    return body


# --- GET /api/v1/devices/{imei}/coverage/ ------------------------------------------------------------------


def test_coverage_is_public_and_has_no_owner_data(api_client, device, django_assert_max_num_queries):
    purchase(device=device, product=screen_care())
    with django_assert_max_num_queries(4):
        r = api_client.get(f"/api/v1/devices/{device.imei}/coverage/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "imei",
        "model",
        "model_name",
        "category",
        "in_warranty",
        "free_repair",
        "excluded_reason",
        "statutory",
        "extended_until",
        "plans",
        "reasons",
    }
    assert body["imei"] == device.imei
    assert body["model"] == "MATE70PRO"
    assert body["in_warranty"] is True
    sale = timezone.localtime(device.sold_at).date()
    assert body["statutory"] == {
        "return_until": (sale + dt.timedelta(days=7)).isoformat(),
        "exchange_until": (sale + dt.timedelta(days=15)).isoformat(),
        "repair_until": sale.replace(year=sale.year + 1).isoformat()
        if not (sale.month == 2 and sale.day == 29)
        else sale.replace(year=sale.year + 1, day=28).isoformat(),
    }
    assert [(p["code"], p["kind"], p["claims_remaining"]) for p in body["plans"]] == [("SCREEN12", "screen_care", 1)]
    assert "retailer" not in str(body) and "customer" not in str(body)


def test_coverage_with_fault_and_exclusions(api_client, device):
    r = api_client.get(f"/api/v1/devices/{device.imei}/coverage/?fault=screen&exclusions=accidental_damage")
    assert r.status_code == 200
    assert (r.json()["in_warranty"], r.json()["free_repair"], r.json()["excluded_reason"]) == (
        True,
        False,
        "accidental_damage",
    )


def test_coverage_blank_fault_and_exclusions_mean_not_given_as_the_schema_says(api_client, device):
    plain = api_client.get(f"/api/v1/devices/{device.imei}/coverage/")
    blank = api_client.get(f"/api/v1/devices/{device.imei}/coverage/?fault=&exclusions=")
    assert blank.status_code == plain.status_code == 200
    assert blank.json() == plain.json()
    # The schema allows the blank value for these two (x-allow-blank), unlike other query parameters.
    from drf_spectacular.generators import SchemaGenerator

    op = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/api/v1/devices/{imei}/coverage/"]["get"]
    params = {p["name"]: p["schema"] for p in op["parameters"] if p["in"] == "query"}
    assert "minLength" not in params["fault"] and "minLength" not in params["exclusions"]


@pytest.mark.parametrize("imei", ["12345", "8601234500007770", "abcdefghijklmno"])
def test_coverage_malformed_imei_is_400_naming_the_field(api_client, imei):
    body = problem(api_client.get(f"/api/v1/devices/{imei}/coverage/"), 400, "validation_error")
    assert list(body["errors"]) == ["imei"]


def test_coverage_bad_check_digit_is_400(api_client):
    good = make_imei(5)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    body = problem(api_client.get(f"/api/v1/devices/{bad}/coverage/"), 400, "validation_error")
    assert list(body["errors"]) == ["imei"]


def test_coverage_unknown_device_is_404(api_client):
    problem(api_client.get(f"/api/v1/devices/{make_imei(999)}/coverage/"), 404, "not_found")


def test_coverage_unknown_fault_is_400(api_client, device):
    body = problem(api_client.get(f"/api/v1/devices/{device.imei}/coverage/?fault=soup"), 400, "validation_error")
    assert list(body["errors"]) == ["fault"]


def test_coverage_unknown_exclusion_is_400(api_client, device):
    body = problem(api_client.get(f"/api/v1/devices/{device.imei}/coverage/?exclusions=soup"), 400, "validation_error")
    assert list(body["errors"]) == ["exclusions"]


def test_coverage_is_throttled(api_client, device, monkeypatch):
    from servicehub.api.throttling import PublicAnonThrottle

    monkeypatch.setattr(PublicAnonThrottle, "THROTTLE_RATES", {**PublicAnonThrottle.THROTTLE_RATES, "anon": "2/min"})
    url = f"/api/v1/devices/{device.imei}/coverage/"
    assert [api_client.get(url).status_code for _ in range(2)] == [200, 200]
    problem(api_client.get(url), 429, "throttled")


# --- GET /api/v1/catalog/models/ ----------------------------------------------------------------------------


def test_catalog_models_paginated_filtered_and_active_only(api_client, django_assert_max_num_queries):
    DeviceModelFactory(code="A-PHONE", category="phone")
    DeviceModelFactory(code="B-TAB", category="tablet", tier="standard")
    DeviceModelFactory(code="C-OLD", category="phone", active=False)
    with django_assert_max_num_queries(2):
        r = api_client.get("/api/v1/catalog/models/?category=phone")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [m["code"] for m in body["results"]] == ["A-PHONE"]
    assert set(body["results"][0]) == {"code", "name", "category", "tier", "release_date"}
    all_ = api_client.get("/api/v1/catalog/models/?page_size=1").json()
    assert (all_["count"], [m["code"] for m in all_["results"]]) == (2, ["A-PHONE"])


def test_catalog_models_bad_category_is_400(api_client):
    problem(api_client.get("/api/v1/catalog/models/?category=toaster"), 400, "validation_error")


# --- GET /api/v1/plans/ -------------------------------------------------------------------------------------


def test_plans_for_a_model_show_the_tier_price_and_only_eligible_plans(api_client, mate, django_assert_max_num_queries):
    screen_care()
    care_plus()
    PlanProductFactory(code="PAD-ONLY", eligible_categories=["tablet"])
    PlanProductFactory(code="OFF", on_sale=False)
    with django_assert_max_num_queries(5):
        r = api_client.get("/api/v1/plans/?model=MATE70PRO")
    assert r.status_code == 200
    plans = {p["code"]: p for p in r.json()}
    assert set(plans) == {"CAREPLUS24", "SCREEN12"}
    assert plans["SCREEN12"]["price"] == "199.00"
    assert (plans["CAREPLUS24"]["kind"], plans["CAREPLUS24"]["term_months"], plans["CAREPLUS24"]["claims"]) == (
        "care_plus",
        24,
        2,
    )
    assert plans["CAREPLUS24"]["screen_fee_per_claim"] == "99.00"


def test_plans_without_model_list_everything_on_sale_without_a_single_price(api_client):
    screen_care()
    r = api_client.get("/api/v1/plans/")
    assert [(p["code"], p["price"], p["prices"]) for p in r.json()] == [
        ("SCREEN12", None, {"flagship": "199.00", "standard": "99.00"})
    ]


def test_plans_unknown_model_is_400(api_client):
    body = problem(api_client.get("/api/v1/plans/?model=NOPE"), 400, "validation_error")
    assert list(body["errors"]) == ["model"]


# --- POST /api/v1/devices/ ----------------------------------------------------------------------------------


def test_register_device_201_with_the_keys_partner_as_retailer(key_client, mate):
    client = key_client(scopes=["devices:write"])
    imei = make_imei(4242)
    r = client.post("/api/v1/devices/", {"imei": imei, "model": "MATE70PRO", "sold_at": "2026-01-05T23:30:00+08:00"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["imei"], body["model"], body["retailer"], body["channel"]) == (
        imei,
        "MATE70PRO",
        client.api_key.partner.name,
        "retail",
    )
    device = Device.objects.get(imei=imei)
    assert device.retailer == client.api_key.partner
    assert timezone.localtime(device.sold_at) == timezone.make_aware(dt.datetime(2026, 1, 5, 23, 30))


def test_register_device_twice_is_409_device_exists(key_client, device):
    client = key_client(scopes=["devices:write"])
    r = client.post(
        "/api/v1/devices/", {"imei": device.imei, "model": "MATE70PRO", "sold_at": "2026-01-05T10:00:00+08:00"}
    )
    problem(r, 409, "device_exists")
    assert Device.objects.count() == 1


def test_register_completes_a_device_first_seen_at_a_repair_check_in(key_client, mate):
    DeviceFactory(model=mate, imei=make_imei(31), sold_at=None, channel="unregistered")
    client = key_client(scopes=["devices:write"])
    r = client.post(
        "/api/v1/devices/", {"imei": make_imei(31), "model": "MATE70PRO", "sold_at": "2026-01-05T10:00:00+08:00"}
    )
    assert r.status_code == 201
    assert Device.objects.get(imei=make_imei(31)).sold_at is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"imei": "86012345000001"}, "imei"),  # 14 digits
        ({"imei": "860123450000019"}, "imei"),  # bad check digit
        ({"imei": None, "serial": ""}, "imei"),  # neither
        ({"model": "NOPE"}, "model"),
        ({"sold_at": "2999-01-01T00:00:00+08:00"}, "sold_at"),
        ({"sold_at": "yesterday"}, "sold_at"),
        ({"channel": "black_market"}, "channel"),
    ],
)
def test_register_device_bad_input_is_400_naming_the_field(key_client, mate, payload, field):
    client = key_client(scopes=["devices:write"])
    body = {"imei": make_imei(55), "model": "MATE70PRO", "sold_at": "2026-01-05T10:00:00+08:00", **payload}
    r = problem(client.post("/api/v1/devices/", body), 400, "validation_error")
    assert field in r["errors"]
    assert Device.objects.count() == 0


def test_register_device_needs_the_scope(key_client, api_client, mate):
    body = {"imei": make_imei(56), "model": "MATE70PRO", "sold_at": "2026-01-05T10:00:00+08:00"}
    problem(key_client(scopes=["plans:write"]).post("/api/v1/devices/", body), 403, "permission_denied")
    problem(api_client.post("/api/v1/devices/", body), 401, "not_authenticated")


def test_partner_cannot_register_for_another_retailer(key_client, mate):
    from partners.models import Partner

    other = Partner.objects.create(name="Other shop")
    body = {"imei": make_imei(57), "model": "MATE70PRO", "sold_at": "2026-01-05T10:00:00+08:00", "retailer": other.pk}
    r = problem(key_client(scopes=["devices:write"]).post("/api/v1/devices/", body), 400, "validation_error")
    assert list(r["errors"]) == ["retailer"]


# --- POST /api/v1/plan-purchases/ ---------------------------------------------------------------------------


def sell(client, imei, plan="SCREEN12", purchased_at=None, price="199.00"):
    at = purchased_at or timezone.now().isoformat()
    return client.post("/api/v1/plan-purchases/", {"imei": imei, "plan": plan, "purchased_at": at, "price": price})


def test_sell_plan_201_as_partner(key_client, device):
    screen_care()
    client = key_client(scopes=["plans:write"])
    r = sell(client, device.imei)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["plan"], body["kind"], body["status"], body["price"], body["channel"], body["partner"]) == (
        "SCREEN12",
        "screen_care",
        "active",
        "199.00",
        "partner",
        client.api_key.partner.name,
    )
    assert (body["claims_allowed"], body["claims_used"], body["claims_remaining"]) == (1, 0, 1)
    p = PlanPurchase.objects.get()
    assert p.partner == client.api_key.partner
    assert list(p.events.values_list("action", flat=True)) == ["purchase"]


def test_sell_plan_window_passed_is_422(key_client, mate):
    screen_care()  # window 30 days
    old = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=40))
    body = problem(sell(key_client(scopes=["plans:write"]), old.imei), 422, "not_eligible")
    assert body["reason"] == "window_passed"
    assert PlanPurchase.objects.count() == 0
    assert PlanPurchaseEvent.objects.count() == 0


def test_sell_plan_model_not_eligible_is_422(key_client):
    PlanProductFactory(code="PAD-ONLY", eligible_categories=["tablet"])
    phone = DeviceFactory(sold_at=timezone.now() - dt.timedelta(days=1))
    body = problem(sell(key_client(scopes=["plans:write"]), phone.imei, plan="PAD-ONLY"), 422, "not_eligible")
    assert body["reason"] == "model_not_eligible"


def test_sell_same_plan_twice_is_422_already_active(key_client, device):
    screen_care()
    client = key_client(scopes=["plans:write"])
    assert sell(client, device.imei).status_code == 201
    body = problem(sell(client, device.imei), 422, "not_eligible")
    assert body["reason"] == "already_active"
    assert PlanPurchase.objects.count() == 1


@pytest.mark.parametrize("when", ["future", "before_sale"])
def test_sell_plan_purchase_date_in_future_or_before_sale_is_400(key_client, device, when):
    screen_care()
    at = timezone.now() + dt.timedelta(days=1) if when == "future" else device.sold_at - dt.timedelta(minutes=1)
    body = problem(
        sell(key_client(scopes=["plans:write"]), device.imei, purchased_at=at.isoformat()), 400, "validation_error"
    )
    assert list(body["errors"]) == ["purchased_at"]
    assert PlanPurchase.objects.count() == 0


def test_sell_plan_unknown_device_404_unknown_plan_400_bad_imei_400_negative_price_400(key_client, device):
    screen_care()
    client = key_client(scopes=["plans:write"])
    problem(sell(client, make_imei(998)), 404, "not_found")
    assert list(problem(sell(client, device.imei, plan="NOPE"), 400, "validation_error")["errors"]) == ["plan"]
    assert list(problem(sell(client, "123"), 400, "validation_error")["errors"]) == ["imei"]
    assert list(problem(sell(client, device.imei, price="-1.00"), 400, "validation_error")["errors"]) == ["price"]
    assert PlanPurchase.objects.count() == 0


def test_partner_lists_only_its_own_purchases(key_client, mate, django_assert_max_num_queries):
    screen_care()
    mine, theirs = key_client(scopes=["plans:write"]), key_client(scopes=["plans:write"])
    devices = [DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=2)) for _ in range(3)]
    for d in devices[:2]:
        assert sell(mine, d.imei).status_code == 201
    assert sell(theirs, devices[2].imei).status_code == 201
    with django_assert_max_num_queries(6):
        r = mine.get("/api/v1/plan-purchases/")
    assert r.status_code == 200
    assert r.json()["count"] == 2
    assert {p["imei"] for p in r.json()["results"]} == {devices[0].imei, devices[1].imei}
    other_id = PlanPurchase.objects.get(device=devices[2]).pk
    problem(mine.get(f"/api/v1/plan-purchases/{other_id}/"), 404, "not_found")
    with django_assert_max_num_queries(6):
        detail = theirs.get(f"/api/v1/plan-purchases/{other_id}/")
    assert detail.json()["imei"] == devices[2].imei


def test_purchase_list_filters(key_client, device):
    screen_care()
    client = key_client(scopes=["plans:write"])
    sell(client, device.imei)
    assert client.get("/api/v1/plan-purchases/?status=refunded").json()["count"] == 0
    assert client.get(f"/api/v1/plan-purchases/?imei={device.imei}&plan=SCREEN12").json()["count"] == 1


def test_partner_refunds_within_cooling_off(key_client, device):
    screen_care()
    client = key_client(scopes=["plans:write"])
    pid = sell(client, device.imei).json()["id"]
    r = client.post(f"/api/v1/plan-purchases/{pid}/refund/", {})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["refunded_amount"]) == ("refunded", "199.00")
    problem(client.post(f"/api/v1/plan-purchases/{pid}/refund/", {}), 422, "not_eligible")


def test_staff_key_sells_at_store_channel(staff_key_client, device):
    from tests.factories.users import StaffUserFactory

    screen_care()
    client = staff_key_client(StaffUserFactory(is_superuser=True), scopes=["plans:write"])
    r = client.post(
        "/api/v1/plan-purchases/",
        {"imei": device.imei, "plan": "SCREEN12", "purchased_at": timezone.now().isoformat(), "price": "150.00"},
    )
    assert r.status_code == 201, r.content
    assert (r.json()["channel"], r.json()["partner"], r.json()["price"]) == ("store", None, "150.00")
    assert PlanPurchase.objects.get().price_paid == Decimal("150.00")


def test_schema_documents_the_warranty_paths_and_errors(api_client):
    r = api_client.get("/api/schema/?format=json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in [
        "/api/v1/devices/{imei}/coverage/",
        "/api/v1/catalog/models/",
        "/api/v1/plans/",
        "/api/v1/devices/",
        "/api/v1/plan-purchases/",
    ]:
        assert path in paths, path
    assert "422" in paths["/api/v1/plan-purchases/"]["post"]["responses"]
    assert "409" in paths["/api/v1/devices/"]["post"]["responses"]
    assert "404" in paths["/api/v1/devices/{imei}/coverage/"]["get"]["responses"]
