"""The mismatches schemathesis found between /api/schema/ and the server (issue #24), one test each.

schemathesis (test_schemathesis.py) finds such drift by sampling; these pin each fixed case
exactly: what the server answers, and that the schema describes exactly that.
"""

import datetime as dt
import re
from decimal import Decimal

import jsonschema_rs
import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from servicehub.api.idempotency import _valid_key
from tests.factories.booking import open_center
from tests.factories.loaners import DepositRuleFactory, LoanerFactory, flagship_model, staff_at, ticket
from tests.factories.warranty import DeviceModelFactory, make_imei

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0 ``nullable: true`` as JSON Schema (what schemathesis does too)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(schema, ref: str):
    """A strict (formats checked) validator for ``components/schemas/<ref>``."""
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{ref}", "components": _json_schema(schema["components"])},
        validate_formats=True,
    )


def _errors(schema, ref: str, instance) -> list[str]:
    return [f"{list(e.instance_path)}: {e.message}" for e in _validator(schema, ref).iter_errors(instance)]


def _param(schema, method, path, name):
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


# --- opening hours: "HH:MM" declared by a pattern --------------------------------------------


def test_opening_hours_are_hh_mm_and_the_schema_says_so(schema, api_client):
    center = open_center(code="HRS1")
    with_exception = api_client.get(f"/api/v1/centers/{center.code}/")
    assert with_exception.status_code == 200
    hours = with_exception.json()["opening_hours"][0]
    assert (hours["opens"], hours["closes"]) == ("09:00", "18:00")
    opens = schema["components"]["schemas"]["OpeningHours"]["properties"]["opens"]
    assert opens == {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
    assert _errors(schema, "CenterDetail", with_exception.json()) == []


# --- a waived deposit: null, not "" ------------------------------------------------------------


def test_a_waived_deposit_answers_null_payment_method_within_the_schema(schema, api_client, monkeypatch):
    from loaners.services import loan_checkout
    from servicehub.actors import actor_for_user

    center = open_center(code="WVD1")
    LoanerFactory(home_center=center, model=flagship_model())
    DepositRuleFactory(tier="flagship", deposit=Decimal("2000.00"), waive_for_plan_holders=True)
    monkeypatch.setattr("loaners.selectors.device_has_active_plan", lambda device: True)  # a plan holder
    desk = staff_at(center)
    repair = ticket(center=center)
    loan = loan_checkout(actor=actor_for_user(desk), ticket_id=repair.pk, tier="flagship", payment_method="")
    api_client.force_authenticate(desk)
    body = api_client.get(f"/api/v1/loans/{loan.pk}/").json()
    assert (body["deposit_waived"], body["payment_method"]) == (True, None)
    assert [e["payment_method"] for e in body["entries"]] in ([], [None])
    assert all(e["deduction_kind"] is None for e in body["entries"])
    assert _errors(schema, "LoanDetail", body) == []
    assert _errors(schema, "LoanDetail", {**body, "payment_method": ""}) != []


# --- sale dates: 2000-01-01 .. now, else 400 --------------------------------------------------


@pytest.mark.parametrize("sold_at", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59+08:00", "2999-01-01T00:00:00+08:00"])
def test_a_sale_date_before_2000_or_in_the_future_is_400(key_client, sold_at):
    model = DeviceModelFactory(code="SOLD-1")
    client = key_client(scopes=["devices:write"])
    r = client.post("/api/v1/devices/", {"imei": make_imei(), "model": model.code, "sold_at": sold_at}, format="json")
    assert r.status_code == 400
    assert (r.json()["code"], list(r.json()["errors"])) == ("validation_error", ["sold_at"])


def test_the_earliest_sale_date_is_accepted_and_answered_as_a_valid_date_time(schema, key_client):
    model = DeviceModelFactory(code="SOLD-2")
    client = key_client(scopes=["devices:write"])
    r = client.post(
        "/api/v1/devices/",
        {"imei": make_imei(), "model": model.code, "sold_at": "2000-01-01T00:00:00+08:00"},
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["sold_at"] == "2000-01-01T00:00:00+08:00"
    assert _errors(schema, "Device", r.json()) == []


# --- Idempotency-Key: the schema's rule is the server's rule ----------------------------------


def test_the_idempotency_key_schema_matches_what_the_server_accepts(schema):
    header = _param(schema, "post", "/api/v1/appointments/", "Idempotency-Key")["schema"]
    declared = jsonschema_rs.validator_for(header)
    samples = [
        "a",
        "3f1c9a7e-2b4d-4c8e-9a31-5d0e7b6f2a10",
        "x" * 255,
        "x" * 256,
        "",
        " ",
        "  k  ",
        "ключ",
        "tab\tkey",
        "new\nline",
        "~!@#$%^&*()",
        "\x7f",
        "é",
    ]
    # The middleware strips surrounding spaces before checking; a declared-valid key is always accepted.
    assert [declared.is_valid(s) for s in samples] == [_valid_key(s.strip()) for s in samples]


def test_a_bad_idempotency_key_is_400_naming_the_header(api_client):
    r = api_client.post("/api/v1/appointments/", {}, format="json", HTTP_IDEMPOTENCY_KEY="ключ")
    assert r.status_code == 400
    assert list(r.json()["errors"]) == ["Idempotency-Key"]


# --- empty query parameters: refused, and declared non-blank ----------------------------------


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/centers/", "near"),
        ("/api/v1/centers/", "region"),
        ("/api/v1/catalog/repairs/", "model"),
        ("/api/v1/plans/", "model"),
        ("/api/v1/service-days/", "month"),
        ("/api/v1/coverage/", "province"),
    ],
)
def test_an_empty_query_parameter_is_400_and_the_schema_does_not_allow_it(schema, admin_client, path, name):
    declared = jsonschema_rs.validator_for(_param(schema, "get", path, name)["schema"])
    assert not declared.is_valid("")
    assert not declared.is_valid(" ")
    r = admin_client.get(f"{path}?{name}=")
    assert r.status_code == 400
    assert name in r.json()["errors"]


def test_filter_enums_are_not_named_after_translated_labels(schema):
    status = _param(schema, "get", "/api/v1/loans/", "status")["schema"]
    assert "title" not in status
    assert not any(re.search(r"[^\x00-\x7f]", name) for name in schema["components"]["schemas"])


def test_date_time_answers_are_valid_rfc3339(schema, api_client):
    """The date-times the API writes validate as `format: date-time` (no +08:05:43 local-mean-time offsets)."""
    stamp = timezone.make_aware(dt.datetime(2000, 1, 1))
    assert jsonschema_rs.validator_for({"type": "string", "format": "date-time"}, validate_formats=True).is_valid(
        stamp.isoformat()
    )


# --- request strings: what DRF's CharField refuses, the schema refuses ---------------------------


@pytest.mark.parametrize("component, prop", [("DeductionRequest", "reason"), ("WebhookEndpointCreateRequest", "url")])
def test_a_required_request_string_is_declared_as_drf_reads_it(schema, component, prop):
    declared = jsonschema_rs.validator_for(schema["components"]["schemas"][component]["properties"][prop])
    samples = ["a", " b ", "", " ", "\x85", "\x1c", "\u3000", "\x00", "a\x00", "\ufeffa", "中"]
    assert [declared.is_valid(s) for s in samples] == [bool(s.strip()) and "\x00" not in s for s in samples]


def test_a_given_query_value_is_declared_as_the_filters_read_it(schema):
    declared = jsonschema_rs.validator_for(_param(schema, "get", "/api/v1/tickets/", "engineer")["schema"])
    samples = ["alice", " alice", "", " ", "\x85", "a\x00"]
    assert [declared.is_valid(s) for s in samples] == [True, True, False, False, False, False]
