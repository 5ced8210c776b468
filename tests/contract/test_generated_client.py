"""A client generated from /api/schema/ by openapi-python-client books, checks in and tracks a repair.

The client is generated into a temporary directory during the test (nothing generated
is committed) and talks to the Django app in-process through httpx's WSGI transport.
"""

import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator

from tests.factories.booking import SlotRuleFactory, local, open_center, tomorrow
from tests.factories.loaners import staff_at
from tests.factories.warranty import DeviceModelFactory, make_imei

VENV_BIN = Path(sys.executable).parent
PACKAGE = "servicehub_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Generate the client package once for this module; return the imported package."""
    root = tmp_path_factory.mktemp("client")
    schema = SchemaGenerator().get_schema(request=None, public=True)
    spec = root / "openapi.json"
    spec.write_text(json.dumps(schema, default=str))
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(spec), "--output-path",
         str(root / PACKAGE), "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=300, cwd=root,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _mod(pkg, name):
    return importlib.import_module(f"{pkg.__name__}.{name}")


@pytest.mark.django_db
def test_generated_client_books_checks_in_and_tracks(generated):
    from partners.services import api_key_create

    center = open_center(code="GEN1")
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=2)
    DeviceModelFactory(code="GEN-P1", name="Gen Phone")
    desk = staff_at(center, role="front_desk")
    _key, raw = api_key_create(user=desk, scopes=["tickets:read", "tickets:write"])

    transport = httpx.WSGITransport(app=get_wsgi_application())
    client_mod = _mod(generated, "client")
    anonymous = client_mod.Client(base_url="http://localhost", httpx_args={"transport": transport})
    keyed = client_mod.AuthenticatedClient(base_url="http://localhost", token=raw, httpx_args={"transport": transport})

    # 1. book (anonymous customer), with an Idempotency-Key as a retrying client would
    AppointmentIn = _mod(generated, "models.appointment_in_request").AppointmentInRequest
    body = AppointmentIn.from_dict({
        "center": center.code,
        "start": local(day, 10).isoformat(),
        "customer": {"name": "王小明", "phone": "13812345678"},
        "device": {"imei": make_imei(), "model": "GEN-P1"},
        "issue": "屏幕碎了",
        "needs": {"sign_language": False},
    })
    book = _mod(generated, "api.booking.appointment_create")
    key = str(uuid.uuid4())
    booked = book.sync_detailed(client=anonymous, body=body, idempotency_key=key)
    assert booked.status_code == 201, booked.content
    appointment = booked.parsed
    assert appointment.status == "booked"
    replay = book.sync_detailed(client=anonymous, body=body, idempotency_key=key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.parsed.service_no == appointment.service_no

    # 2. check in at the counter (staff key)
    TicketCreate = _mod(generated, "models.ticket_create_request").TicketCreateRequest
    check_in = _mod(generated, "api.tickets.tickets_create")
    created = check_in.sync_detailed(
        client=keyed, body=TicketCreate.from_dict({"service_no": appointment.service_no, "channel": "appointment"})
    )
    assert created.status_code == 201, created.content
    assert created.parsed.status == "received"

    # 3. track it (public, service number + last 4 digits of the phone)
    track = _mod(generated, "api.track.track_retrieve")
    tracked = track.sync(appointment.service_no, client=anonymous, phone_last4="5678")
    assert tracked.service_no == appointment.service_no
    assert tracked.status == "received"
    assert [t.status for t in tracked.timeline][-1] == "received"

    # a wrong phone is a parsed Problem, not an exception
    wrong = track.sync_detailed(appointment.service_no, client=anonymous, phone_last4="0000")
    assert wrong.status_code == 404
    assert wrong.parsed.code == "not_found"
