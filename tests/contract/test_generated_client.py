"""A client generated from /api/schema/ by openapi-python-client runs a whole repair.

Book, check in, diagnose, quote, approve, lend a loaner, repair, QC, return the loaner, hand
over, track: every answer is parsed into its generated model (enums are strict, date-times
and dates are parsed), so a response that drifts from its schema (a value outside an enum,
a malformed date-time, a missing required field) fails here as it would in a partner's client.

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
from tests.factories.loaners import DepositRuleFactory, LoanerFactory, flagship_model, staff_at
from tests.factories.repairs import catalog
from tests.factories.repairs import staff as staff_member
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
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=root,
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
    body = AppointmentIn.from_dict(
        {
            "center": center.code,
            "start": local(day, 10).isoformat(),
            "customer": {"name": "王小明", "phone": "13812345678"},
            "device": {"imei": make_imei(), "model": "GEN-P1"},
            "issue": "屏幕碎了",
            "needs": {"sign_language": False},
        }
    )
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


def _parsed(response, model_cls, status=200):
    """The answer has the documented status and parses into its model; the model round-trips."""
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model_cls), (type(response.parsed), response.content)
    again = model_cls.from_dict(response.parsed.to_dict())
    assert again.to_dict() == response.parsed.to_dict()
    return response.parsed


@pytest.mark.django_db
def test_generated_client_parses_every_answer_of_a_full_repair(generated):
    from partners.services import api_key_create

    center = open_center(code="GEN2")
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=2)
    model = DeviceModelFactory(code="GEN-P2", name="Gen Phone 2")
    repairs = catalog(model)
    LoanerFactory(home_center=center, model=flagship_model())
    DepositRuleFactory(tier="flagship")
    _k, desk = api_key_create(user=staff_at(center, role="front_desk"))
    _k, engineer = api_key_create(user=staff_member(center, role="engineer", certified=True))
    _k, manager = api_key_create(user=staff_at(center, role="manager"))

    transport = httpx.WSGITransport(app=get_wsgi_application())
    client_mod = _mod(generated, "client")
    anonymous = client_mod.Client(base_url="http://localhost", httpx_args={"transport": transport})

    def keyed(raw):
        return client_mod.AuthenticatedClient(
            base_url="http://localhost", token=raw, httpx_args={"transport": transport}
        )

    desk_c, eng_c, mgr_c = keyed(desk), keyed(engineer), keyed(manager)
    models = _mod(generated, "models")
    api = lambda name: _mod(generated, f"api.{name}")  # noqa: E731

    def transition(client, service_no, action, **extra):
        body = models.TransitionRequest.from_dict({"action": action, **extra})
        answer = api("tickets.tickets_transition_create").sync_detailed(service_no, client=client, body=body)
        return _parsed(answer, models.TicketDetail)

    # the center as the public sees it: opening hours are "HH:MM" strings
    shown = _parsed(api("centers.centers_retrieve").sync_detailed(center.code, client=anonymous), models.CenterDetail)
    assert [(h.opens, h.closes) for h in shown.opening_hours][:1] == [("09:00", "18:00")]

    # 1. book
    booked = _parsed(
        api("booking.appointment_create").sync_detailed(
            client=anonymous,
            idempotency_key=str(uuid.uuid4()),
            body=models.AppointmentInRequest.from_dict(
                {
                    "center": center.code,
                    "start": local(day, 11).isoformat(),
                    "customer": {"name": "王小明", "phone": "13812345679"},
                    "device": {"imei": make_imei(), "model": model.code},
                    "issue": "屏幕碎了",
                }
            ),
        ),
        models.AppointmentOut,
        201,
    )
    service_no = booked.service_no

    # 2. check in at the counter
    ticket = _parsed(
        api("tickets.tickets_create").sync_detailed(
            client=desk_c,
            body=models.TicketCreateRequest.from_dict({"service_no": service_no, "channel": "appointment"}),
        ),
        models.TicketDetail,
        201,
    )
    assert ticket.status == models.TicketStatusEnum.RECEIVED

    # 3. diagnose and quote
    transition(eng_c, service_no, "start_diagnosis")
    quote = _parsed(
        api("tickets.tickets_quote_create").sync_detailed(
            service_no,
            client=eng_c,
            body=(models.QuoteCreateRequest.from_dict({"lines": [{"repair": repairs["camera"].code}]})),
        ),
        models.Quote,
        201,
    )
    assert quote.total == "579.00"

    # 4. the customer approves (at the counter)
    approved = _parsed(
        api("tickets.tickets_quote_approve_create").sync_detailed(
            service_no, client=desk_c, body=models.QuoteDecisionRequest.from_dict({})
        ),
        models.TicketDetail,
    )
    assert approved.status == models.TicketStatusEnum.REPAIRING

    # 5. a loaner against a deposit
    loan = _parsed(
        api("loans.loans_create").sync_detailed(
            client=desk_c,
            body=models.LoanCreateRequest.from_dict(
                {"ticket": service_no, "tier": "flagship", "payment_method": "cash", "terms_accepted": True}
            ),
        ),
        models.Loan,
        201,
    )
    assert loan.payment_method == models.PaymentMethodEnum.CASH
    detail = _parsed(api("loans.loans_retrieve").sync_detailed(loan.id, client=desk_c), models.LoanDetail)
    assert [(e.kind, e.deduction_kind) for e in detail.entries] == [(models.DepositEntryKindEnum.HOLD, None)]

    # 6. repair and quality check (by someone else than the engineer)
    transition(eng_c, service_no, "start_repair")
    transition(eng_c, service_no, "finish")
    ready = transition(mgr_c, service_no, "qc_pass")
    assert ready.status == models.TicketStatusEnum.READY

    # 7. the loaner comes back with a scratch
    returned = _parsed(
        api("loans.loans_return_create").sync_detailed(
            loan.id,
            client=desk_c,
            body=(
                models.LoanReturnRequest.from_dict(
                    {
                        "condition": "damaged",
                        "deductions": [{"reason": "scratched back", "amount": "100.00", "kind": "damage"}],
                    }
                )
            ),
        ),
        models.LoanReturnResult,
    )
    assert (returned.deducted, returned.balance_due) == ("100.00", "0.00")
    detail = _parsed(api("loans.loans_retrieve").sync_detailed(loan.id, client=desk_c), models.LoanDetail)
    assert models.DeductionKindEnum.DAMAGE in [e.deduction_kind for e in detail.entries]

    # 8. pay at the counter, hand over and track
    before = _parsed(api("tickets.tickets_retrieve").sync_detailed(service_no, client=desk_c), models.TicketDetail)
    assert float(before.amount_due) > 0
    paid = api("tickets.tickets_payments_create").sync_detailed(
        service_no, client=desk_c, body=models.PaymentCreateRequest.from_dict({"method": "cash"})
    )
    payment = _parsed(paid, models.Payment, 201)
    assert (str(payment.status.value if hasattr(payment.status, "value") else payment.status), str(payment.amount)) == (
        "succeeded",
        str(before.amount_due),
    )
    delivered = transition(desk_c, service_no, "hand_over")
    assert delivered.status == models.TicketStatusEnum.DELIVERED
    full = _parsed(api("tickets.tickets_retrieve").sync_detailed(service_no, client=desk_c), models.TicketDetail)
    assert [t.status for t in full.timeline][-1] == "delivered"
    tracked = _parsed(
        api("track.track_retrieve").sync_detailed(service_no, client=anonymous, phone_last4="5679"), models.Track
    )
    assert tracked.status == "delivered"
