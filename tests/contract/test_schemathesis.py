"""schemathesis over every operation of /api/schema/, in-process (WSGI), with an API key.

Checks: no 5xx, status codes/content types/headers/bodies as documented, and
negative (schema-violating) data rejected with a 4xx. Examples are bounded so the
whole run takes a couple of minutes.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_world(db, settings):
    """A little data so some generated ids hit real rows; an HQ staff key that sees everything."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # Thousands of requests in one run: the throttles are not what is tested here.
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "key": "100000/min", "tracking": "100000/min"},
    }
    from partners.services import api_key_create
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.partners import WebhookEndpointFactory, make_ticket
    from tests.factories.users import StaffUserFactory

    user = StaffUserFactory(username="schemathesis-hq", is_superuser=True)
    user.save()
    _key, raw = api_key_create(user=user)
    center = ServiceCenterFactory(code="SC1")
    make_ticket(center=center)
    WebhookEndpointFactory()
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api_schema(api_world):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case, api_world):
    case.call_and_validate(headers=api_world, checks=CHECKS)
