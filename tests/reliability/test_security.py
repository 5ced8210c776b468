"""Security evidence: admin login lockout (django-axes), public/lookup throttles, ``check --deploy`` with a
production environment, and a scan that no unmasked mobile number leaks into logs, Celery task arguments or
webhook payloads. The BOLA matrix lives in tests/contract/test_bola_matrix.py (not repeated here)."""

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from servicehub.logging import MaskPhoneNumbersFilter
from tests.factories.booking import local, next_phone, open_center, tomorrow
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import DeviceModelFactory, StatutoryPolicyFactory, make_imei

ROOT = Path(__file__).resolve().parents[2]
# An unmasked Chinese mobile: 11 digits starting 1[3-9], not inside a longer digit run (IMEIs are 15 digits).
UNMASKED = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


# --- django-axes ----------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_login_locks_out_after_the_failure_limit_even_with_the_right_password():
    user = StaffUserFactory(username="desk-lock", is_staff=True)
    user.set_password("right-Password-1")
    user.save()
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        bad = client.post("/admin/login/", {"username": "desk-lock", "password": "wrong"})
        assert bad.status_code in (200, 429)  # the form again, or locked on the last one
    locked = client.post("/admin/login/", {"username": "desk-lock", "password": "right-Password-1"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_login_page_renders_for_anonymous_visitors():
    """Regression: the repairs admin's module permission looked up memberships of AnonymousUser (500)."""
    client = Client(raise_request_exception=False)
    assert client.get("/admin/login/").status_code == 200
    assert client.post("/admin/login/", {"username": "nobody", "password": "x"}).status_code == 200


@pytest.mark.django_db
def test_admin_login_below_the_limit_still_works():
    """Control: the lockout is caused by the failures, not by the harness."""
    user = StaffUserFactory(username="desk-ok", is_staff=True)
    user.set_password("right-Password-1")
    user.save()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": "desk-ok", "password": "wrong"})
    ok = client.post("/admin/login/", {"username": "desk-ok", "password": "right-Password-1"})
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


# --- throttles ------------------------------------------------------------------------


@pytest.fixture
def tight_rates():
    from rest_framework.settings import api_settings

    from servicehub.api.throttling import LookupThrottle, PublicAnonThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "anon": "3/min", "tracking": "2/min"}
    saved = (PublicAnonThrottle.THROTTLE_RATES, LookupThrottle.THROTTLE_RATES)
    PublicAnonThrottle.THROTTLE_RATES = LookupThrottle.THROTTLE_RATES = rates
    yield
    PublicAnonThrottle.THROTTLE_RATES, LookupThrottle.THROTTLE_RATES = saved


def _assert_throttled_problem(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "throttled"
    assert "Retry-After" in response


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/centers/", "/api/v1/catalog/models/", "/api/v1/plans/"])
def test_public_endpoints_answer_429_throttled_problem(tight_rates, path):
    client = APIClient()
    codes = [client.get(path).status_code for _ in range(3)]
    assert 429 not in codes
    _assert_throttled_problem(client.get(path))


@pytest.mark.django_db
def test_tracking_lookups_have_their_own_tighter_limit(tight_rates):
    client = APIClient()
    codes = [client.get("/api/v1/track/S0000001/", {"phone_last4": "1234"}).status_code for _ in range(2)]
    assert codes == [404, 404]
    _assert_throttled_problem(client.get("/api/v1/track/S0000001/", {"phone_last4": "1234"}))
    # another client (IP) is not affected
    other = APIClient(REMOTE_ADDR="10.9.9.9")
    assert other.get("/api/v1/track/S0000001/", {"phone_last4": "1234"}).status_code == 404


# --- check --deploy -----------------------------------------------------------------------


def test_check_deploy_is_clean_with_a_production_environment():
    # DJANGO_ALLOW_ASYNC_UNSAFE is set for the browser tests (Playwright's loop); no deployment has it.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "TESTING", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 20 + "-reliability-" + "y9Z!q" * 10,
        ALLOWED_HOSTS="servicehub.example.cn",
        DJANGO_SETTINGS_MODULE="servicehub.settings",
        # Production shares throttles through Redis (servicehub.E001 otherwise); only the setting is checked.
        REDIS_URL=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
    )
    env.pop("SECURE_SSL_REDIRECT", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    found = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", output))
    assert found == set(), output
    assert result.returncode == 0 and "Traceback" not in output, output


def test_check_deploy_would_catch_an_insecure_setting():
    """Control: the same command with DEBUG on in a production-like env reports security warnings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "DJANGO_SETTINGS_MODULE")}
    env.update(DEBUG="1", SECRET_KEY="short", DJANGO_SETTINGS_MODULE="servicehub.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment


# --- no unmasked phone numbers -------------------------------------------------------------


def test_the_console_handler_carries_the_masking_filter():
    assert "mask_phones" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["mask_phones"]["()"] == "servicehub.logging.MaskPhoneNumbersFilter"


def test_the_filter_masks_every_form_and_the_scan_would_catch_a_leak(caplog):
    caplog.handler.addFilter(MaskPhoneNumbersFilter())
    log = logging.getLogger("servicehub.reliability")
    with caplog.at_level(logging.INFO):
        log.info("sms to %s", "13912345678")
        log.info("sms to +8613912345678 and 86-13912345678 and 86 13912345678")
        log.info("imei 861234567890123 is not a phone")
    assert not UNMASKED.search(caplog.text), caplog.text
    assert "139****5678" in caplog.text and "861234567890123" in caplog.text
    # control: without the filter the scan finds it
    assert UNMASKED.search("sms to 13912345678")


@pytest.fixture
def task_calls(monkeypatch):
    """Every Celery task call: (name, args, kwargs)."""
    from celery.app.task import Task

    calls = []
    original = Task.apply_async

    def recording(self, args=None, kwargs=None, *rest, **options):
        calls.append((self.name, tuple(args or ()), dict(kwargs or {})))
        return original(self, args, kwargs, *rest, **options)

    monkeypatch.setattr(Task, "apply_async", recording)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_ticket_lifecycle_leaks_no_phone_into_logs_task_arguments_or_webhook_payloads(caplog, task_calls, settings):
    """Book by API, check in, diagnose, quote...: everything a customer's phone flows through."""
    from partners.models import WebhookDelivery
    from partners.webhooks import delivery_body
    from servicehub.actors import actor_for_user

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # deliveries to example.com are refused, but recorded
    caplog.handler.addFilter(MaskPhoneNumbersFilter())
    caplog.set_level(logging.DEBUG)
    StatutoryPolicyFactory(category="phone")
    center = open_center()
    partner = PartnerFactory()
    partner.centers.add(center)
    WebhookEndpointFactory(partner=partner, events=["ticket.status_changed", "quote.ready", "shipment.updated"])
    DeviceModelFactory(code="PHN-1")
    phones = [next_phone() for _ in range(2)]

    booked = APIClient().post(
        "/api/v1/appointments/",
        {
            "center": center.code,
            "start": local(tomorrow(), 10).isoformat(),
            "customer": {"name": "王小明", "phone": phones[0]},
            "device": {"imei": make_imei(), "model": "PHN-1"},
            "issue": f"call me on {phones[0]}",
        },
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    desk = actor_for_user(staff(center, "front_desk"))
    eng = actor_for_user(staff(center, "engineer", certified=True))
    ticket = walk_in(center, desk, phone=phones[1])
    run(ticket, ("start_diagnosis", eng))

    haystacks = {
        "logs": caplog.text,
        "task arguments": repr(task_calls),
        "webhook payloads": repr([delivery_body(d).decode() for d in WebhookDelivery.objects.all()]),
    }
    assert task_calls, "the flow queued no task: the scan would prove nothing"
    assert WebhookDelivery.objects.exists(), "no webhook was written: the scan would prove nothing"
    for where, text in haystacks.items():
        for phone in phones:
            assert phone not in text, f"unmasked phone in {where}"
        assert not UNMASKED.search(text), f"unmasked phone in {where}: {UNMASKED.search(text).group()}"
    for name, args, kwargs in task_calls:
        assert all(isinstance(a, int) for a in args) and not kwargs, (name, args, kwargs)
