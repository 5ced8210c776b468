"""schemathesis over every operation of /api/schema/, in-process (WSGI), as three callers.

Every check schemathesis has for a single request is on: no 5xx, status codes documented,
content types, response headers, response bodies against their schemas, negative
(schema-violating) data rejected with a 4xx, positive (schema-valid) data accepted, a missing
required header rejected, an undocumented method answered 405 with ``Allow``, ``Allow`` on
OPTIONS matching the schema, a keyed operation refusing the same request without a key or with a
wrong one (ignored_auth). 422 counts as accepted (a business rule), and a 400 on schema-valid
data only when every refused field is a rule the schema cannot state (``RULES_BEYOND_SCHEMA``).
The run is repeated anonymously, with a staff key (front desk of
the seeded center) and with a partner key, because each sees different answers (401, 403,
404 for another's objects, 200 for its own).

The seeded world (``seed_demo`` plus a few rows) is offered to the generator as dictionaries
bound to the path parameters, so half the generated ids hit a real center, ticket, device,
loan, shipment or webhook instead of a 404. Examples are bounded (``MAX_EXAMPLES`` per
operation and phase) so the three runs stay within about three minutes on two cores.
"""

import io
import os
import re

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi.checks import RejectedPositiveData

MAX_EXAMPLES = 10
IDENTITIES = ["anonymous", "staff", "partner"]

load_all_checks()
# Checks that need a sequence of calls (stateful links: use after free, resource availability) or several
# users configured as WFC peers (object level authorization: tests/contract/test_bola_matrix.py does that
# with two partners) cannot run on one generated request; every other registered check runs on every
# response, ignored_auth included (it re-sends a keyed request without and with a wrong key).
MULTI_REQUEST_CHECKS = {"use_after_free", "ensure_resource_availability", "object_level_authorization"}
SINGLE_REQUEST_CHECKS = [CHECKS.get_one(name) for name in CHECKS.get_all_names() if name not in MULTI_REQUEST_CHECKS]

# Positive data acceptance: a schema-valid request must not be refused as malformed. 2xx, 3xx, 401, 403,
# 404, 409, 429 are schemathesis' defaults; 422 is added because in this API it only ever means "well
# formed, refused by a business rule" (not_eligible, idempotency_key_reused, amount_exceeds_due...);
# malformed input is always 400 validation_error, and that stays a failure.
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

# Rules the server checks that JSON Schema cannot state (a checksum, "a real center", "not in the
# future", "one of these two fields"), per operation and error field. A positive case refused with 400
# passes only when EVERY field in `errors` is listed here for its operation; any other field (a header,
# an empty filter, a format) fails the build. The same rules are in each operation's 400 description.
IMEI = "15 digits is in the schema; the Luhn check digit is not"
IMEI_OR_SERIAL = "an IMEI or a serial number: one of two optional fields"
PHONE = "a reachable mainland mobile number"
CENTER = "the code of an existing center"
RULES_BEYOND_SCHEMA = {
    ("POST", "/api/v1/verification-codes/"): {"phone": PHONE},
    ("POST", "/api/v1/appointments/"): {
        "device.imei": IMEI_OR_SERIAL,
        "customer.phone": PHONE,
        "center": CENTER,
        "start": "a free slot of that center, in the future",
        "device.model": "a known model",
    },
    ("POST", "/api/v1/mail-in-requests/"): {
        "device.imei": IMEI_OR_SERIAL,
        "customer.phone": PHONE,
        "pickup_address": "an address that starts with its province and city",
        "device.model": "a known model",
    },
    ("POST", "/api/v1/tickets/"): {
        "device.imei": IMEI_OR_SERIAL,
        "customer.phone": PHONE,
        "customer": "a walk-in (no service_no) needs center, customer, device and fault",
        "center": "as customer; a known center",
        "service_no": "a booked ticket",
        "device": "as customer",
        "fault": "as customer",
        "device.model": "a known model",
        "device.sold_at": "between 2000-01-01 and now",
    },
    ("POST", "/api/v1/devices/"): {
        "imei": IMEI,
        "model": "a known model code",
        "retailer": "an existing partner; a partner key registers only its own sales",
        "region": "an existing adcode",
        "sold_at": "between 2000-01-01 and now (a time-dependent bound)",
    },
    ("POST", "/api/v1/plan-purchases/"): {
        "imei": IMEI,
        "plan": "a plan on sale",
        "purchased_at": "not in the future",
        "price": "not negative (a decimal string)",
        "retailer": "an existing partner; a partner key sells only as itself",
    },
    ("GET", "/api/v1/centers/"): {
        "near": "latitude -90..90, longitude -180..180",
        "radius_km": "only with near",
        "region": "an existing adcode",
    },
    ("GET", "/api/v1/centers/verify/"): {"phone": "phone= or name=: one of two optional parameters"},
    ("GET", "/api/v1/coverage/"): {"province": "an existing province"},
    ("GET", "/api/v1/devices/{imei}/coverage/"): {
        "imei": IMEI,
        "fault": "a fault category of the repairs app",
        "exclusions": "comma-separated known exclusions",
    },
    ("GET", "/api/v1/service-days/"): {"center": CENTER, "region": "an existing adcode"},
    ("GET", "/api/v1/events/"): {"center": CENTER},
    ("POST", "/api/v1/events/{id}/registrations/"): {"phone": PHONE, "name": "not blank once trimmed"},
    ("POST", "/api/v1/webhooks/"): {"url": "an https URL whose host resolves to public addresses only"},
    ("GET", "/api/v1/plans/"): {"model": "a known model code"},
    ("POST", "/api/v1/shipments/{id}/events/"): {"at": "not in the future, not before the previous event"},
    ("POST", "/api/v1/loans/{id}/return/"): {"deductions.*.amount": "at least 0.01 (a decimal string)"},
    ("POST", "/api/v1/loans/{id}/return-preview/"): {"deductions.*.amount": "at least 0.01 (a decimal string)"},
    ("POST", "/api/v1/tickets/{service_no}/payments/"): {"amount": "at least 0.01 (a decimal string)"},
    ("POST", "/api/v1/payments/{id}/refund/"): {"amount": "at least 0.01 (a decimal string)"},
    ("POST", "/api/v1/tickets/{service_no}/return-decision/"): {
        "refund_amount": "required for a return (kind=return) and at least 0.01",
        "replacement_imei": "required for an exchange: a new device's IMEI, Luhn check digit included",
    },
}


def _beyond_schema(case, response) -> bool:
    if response.status_code != 400:
        return False
    try:
        errors = response.json().get("errors") or {}
    except ValueError:
        return False
    allowed = RULES_BEYOND_SCHEMA.get((case.method.upper(), case.operation.path), {})
    fields = {re.sub(r"\.[0-9]+(?=\.|$)", ".*", name) for name in errors}
    return bool(fields) and fields <= set(allowed)


def positive_data_acceptance(ctx, response, case):
    try:
        return CHECKS.get_one("positive_data_acceptance")(ctx, response, case)
    except RejectedPositiveData:
        if _beyond_schema(case, response):
            return None
        raise


CHECKS_ON = [positive_data_acceptance if c.__name__ == "positive_data_acceptance" else c for c in SINGLE_REQUEST_CHECKS]


def test_every_single_request_check_is_on():
    names = {check.__name__ for check in CHECKS_ON}
    assert len(CHECKS_ON) == len(names)
    assert names == {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "ignored_auth",
    }


def _key(*args) -> str:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def api_world(db, settings):
    """The demo world plus a webhook, a shipment and a registered device; a staff and a partner key."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # Thousands of requests in one run: the throttles are not what is tested here.
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "key": "100000/min", "tracking": "100000/min"},
    }
    from centers.models import ServiceCenter
    from loaners.models import Loan
    from logistics.models import Shipment
    from partners.models import Partner, WebhookDelivery, WebhookEndpoint
    from repairs.models import RepairTicket
    from tests.factories.partners import WebhookEndpointFactory
    from warranty.models import Device, PlanPurchase

    call_command("seed_demo", centers=2, collection_points=1, tickets=4, stdout=io.StringIO())
    center = ServiceCenter.objects.get(code="SC-SH-001")
    partner = Partner.objects.first()
    partner.centers.add(center)
    WebhookEndpointFactory(partner=partner)
    staff = _key("--user", "schemathesis-desk", "--role", "front_desk", "--center", center.code)
    partner_raw = _key("--partner", partner.name)
    return {
        "headers": {
            "anonymous": {},
            "staff": {"Authorization": f"Bearer {staff}"},
            "partner": {"Authorization": f"Bearer {partner_raw}"},
        },
        "dictionaries": {
            "centers": list(ServiceCenter.objects.values_list("code", flat=True)[:20]),
            "tickets": list(RepairTicket.objects.values_list("service_no", flat=True)),
            "imeis": list(Device.objects.exclude(imei=None).exclude(imei="").values_list("imei", flat=True)[:20]),
            "ids": sorted(
                {
                    *Loan.objects.values_list("pk", flat=True),
                    *Shipment.objects.values_list("pk", flat=True),
                    *WebhookEndpoint.objects.values_list("pk", flat=True),
                    *WebhookDelivery.objects.values_list("pk", flat=True),
                    *PlanPurchase.objects.values_list("pk", flat=True),
                }
            )[:20],
        },
    }


@pytest.fixture(params=IDENTITIES)
def identity(request):
    return request.param


@pytest.fixture
def api_schema(api_world, identity):
    dictionaries = {name: {"values": values or ["none"]} for name, values in api_world["dictionaries"].items()}
    config = SchemathesisConfig.from_dict(
        {
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_EXPECTED}},
            "dictionaries": dictionaries,
            "parameters": {
                "path.code": {"dictionary": "centers", "probability": 0.5},
                "path.service_no": {"dictionary": "tickets", "probability": 0.5},
                "path.imei": {"dictionary": "imeis", "probability": 0.5},
                "path.id": {"dictionary": "ids", "probability": 0.5},
            },
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")
if os.environ.get("SCHEMATHESIS_PATHS"):  # a regex: re-run some operations while fixing them
    schema = schema.include(path_regex=os.environ["SCHEMATHESIS_PATHS"])


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case, api_world, identity):
    # The in-process WSGI transport does not undo GZipMiddleware's compression (an HTTP client
    # would): ask for the plain body, as the response checks need to read it.
    headers = {"Accept-Encoding": "identity", **api_world["headers"][identity]}
    case.call_and_validate(headers=headers, checks=CHECKS_ON)
