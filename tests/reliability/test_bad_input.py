"""Bad input never produces a 500: oversized bodies, wrong content types, unicode edge cases, fuzzed public forms.

The API answers RFC 9457 problem details (413/400/415) or a 201; the HTML forms answer 200 (form
with errors), 302/303 (done) or a 4xx -- never 5xx. See docs/reliability.md.
"""

import datetime as dt
import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from centers.choices import CenterKind
from tests.factories.booking import local, next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.repairs import staff
from tests.factories.warranty import DeviceModelFactory, StatutoryPolicyFactory, make_imei

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"

# Names and addresses that have broken real systems: emoji (incl. ZWJ sequences and flags), RTL and bidi
# controls, combining marks (Zalgo), zero-width characters, NUL-adjacent controls, lone surrogates cannot be
# sent as UTF-8 JSON so they are left out; astral CJK; very long strings.
UNICODE_NAMES = [
    "😀👩‍👩‍👧‍👦🇨🇳",
    "محمد عبد الله",
    "\u202eevil\u202c name",
    "Z̸̡̢̛̗̘̙̜̝̞̟̠͇͈͉͍͎̀́̂̃̄̅̆̇̈̉͊͋͌ͅalgo",
    "王\u200b小\u200c明\u200d\ufeff",
    "𠀀𪚥𰻞",
    "a\tb\nc",
    "名" * 100,
    "名" * 5000,
    " ",
    "\x00",
]


def _problem_or_created(response, *, created=(201,)):
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if response.status_code not in created:
        assert response.status_code in (400, 409, 413, 415, 422), response.status_code
        assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
        assert "code" in response.json()


@pytest.fixture
def booking_center(db):
    return open_center()


@pytest.fixture
def hub(db):
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    return ServiceCenterFactory(
        code="HUB-GD",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )


@pytest.fixture
def desk(db):
    center = ServiceCenterFactory(opened_on=dt.date(2020, 1, 1))
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    client = APIClient()
    client.force_authenticate(staff(center, "front_desk"))
    return client, center, model


# --- oversized bodies -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/appointments/", "/api/v1/mail-in-requests/"])
def test_oversized_json_body_is_a_413_problem_not_a_500(settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"customer": {"name": "x" * 50_000, "phone": "13900000000"}})
    response = Client().post(path, body, content_type="application/json")
    assert response.status_code in (400, 413), response.status_code
    assert response["Content-Type"].startswith(PROBLEM)


def test_body_over_the_default_limit_is_refused_cleanly():
    from django.conf import settings

    body = json.dumps({"issue": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = Client().post("/api/v1/appointments/", body, content_type="application/json")
    assert response.status_code in (400, 413), response.status_code
    assert response["Content-Type"].startswith(PROBLEM)


def test_oversized_form_post_on_a_public_page_is_not_a_500(settings, booking_center):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = Client().post("/mail-in/", {"name": "x" * 50_000, "phone": "13900000000"})
    assert response.status_code in (200, 400, 413), response.status_code


def test_too_many_form_fields_is_not_a_500(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    response = Client().post("/callback/", {f"f{i}": "x" for i in range(200)})
    assert response.status_code in (200, 400, 413), response.status_code


# --- wrong content types --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type,body",
    [
        ("text/plain", b"hello"),
        ("application/xml", b"<a>1</a>"),
        ("application/x-www-form-urlencoded; charset=nonsense", b"a=1"),
        ("multipart/form-data", b"garbage-without-boundary"),
        ("application/json; charset=utf-16", b'{"a": 1}'),
    ],
)
def test_wrong_content_type_is_a_415_or_400_problem(content_type, body):
    response = Client().generic("POST", "/api/v1/appointments/", body, content_type=content_type)
    assert response.status_code in (400, 415), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(PROBLEM)


def test_text_plain_is_415_unsupported_media_type():
    response = Client().post("/api/v1/mail-in-requests/", "x", content_type="text/plain")
    assert response.status_code == 415
    assert response["Content-Type"].startswith(PROBLEM)
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe\x00", b"[]", b"null", b'"x"', b"1e999999", b'{"customer": []}'])
def test_malformed_json_is_a_400_problem(body):
    response = Client().post("/api/v1/appointments/", body, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith(PROBLEM)


def test_deeply_nested_json_is_not_a_500():
    body = "[" * 100_000 + "]" * 100_000
    response = Client().post("/api/v1/appointments/", body, content_type="application/json")
    assert response.status_code in (400, 413)


# --- unicode edge cases through the APIs ------------------------------------------------


@pytest.mark.parametrize("name", UNICODE_NAMES)
def test_appointment_unicode_names_are_201_or_a_clean_400(api_client, booking_center, name):
    model = DeviceModelFactory(code="PHN-1")
    body = {
        "center": booking_center.code,
        "start": local(tomorrow(), 10).isoformat(),
        "customer": {"name": name, "phone": next_phone()},
        "device": {"imei": make_imei(), "model": model.code},
        "issue": name,
        "needs": {"sign_language": False},
    }
    _problem_or_created(api_client.post("/api/v1/appointments/", body, format="json"))


@pytest.mark.parametrize("text", UNICODE_NAMES)
def test_mail_in_unicode_names_and_addresses_are_201_or_a_clean_4xx(api_client, hub, text):
    body = {
        "customer": {"name": text, "phone": next_phone()},
        "device": {"imei": make_imei(), "model": DeviceModelFactory(code="PHN-1").code},
        "issue": text,
        "pickup_address": "广东省深圳市南山区" + text,
    }
    _problem_or_created(api_client.post("/api/v1/mail-in-requests/", body, format="json"))


@pytest.mark.parametrize("text", UNICODE_NAMES)
def test_ticket_check_in_unicode_is_201_or_a_clean_400(desk, text):
    client, center, model = desk
    body = {
        "center": center.code,
        "channel": "walk_in",
        "customer": {"name": text, "phone": next_phone()},
        "device": {"imei": make_imei(), "model": model.code},
        "fault": {"category": "screen", "description": text},
        "accessories": [text[:50]],
        "repair_mode_enabled": True,
    }
    _problem_or_created(client.post("/api/v1/tickets/", body, format="json"))


@pytest.mark.parametrize("service_no", ["😀", "\u202e", "A" * 5000, "..%2f..", "%00", "S 1"])
def test_tracking_lookup_with_odd_numbers_is_a_404_or_400(api_client, service_no):
    response = api_client.get(f"/api/v1/track/{service_no}/", {"phone_last4": "1234"})
    assert response.status_code in (400, 404), response.status_code


@pytest.mark.parametrize("digits", ["٣٤٥٦", "１２３４", "১২৩৪", "²³⁴⁵"])
def test_tracking_with_non_ascii_digits_is_a_404_not_a_500(api_client, digits):
    """str.isdigit() accepts Arabic-Indic / full-width digits; hmac.compare_digest then raised TypeError (a 500)."""
    response = api_client.get("/api/v1/track/S123/", {"phone_last4": digits})
    assert response.status_code == 404, response.status_code
    page = Client().get("/track/", {"service_no": "S123", "phone_last4": digits})
    assert page.status_code < 500


# --- hypothesis over the public forms ---------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)
_fields = {
    "name": _text,
    "phone": _text,
    "email": _text,
    "imei": _text,
    "serial": _text,
    "model": _text,
    "fault_category": st.one_of(_text, st.sampled_from(["screen", "battery", "liquid_damage"])),
    "issue": _text,
    "pickup_address": _text,
    "center": _text,
    "address": _text,
    "preferred_date": _text,
    "window": _text,
    "start": _text,
    "topic": _text,
    "preferred_window": _text,
    "note": _text,
    "q": _text,
    "lat": _text,
    "lng": _text,
    "city": _text,
    "card": _text,
    "plan": _text,
    "service_no": _text,
    "phone_last4": st.one_of(_text, st.text(st.characters(categories=("Nd",)), min_size=4, max_size=4)),
}
_form_data = st.fixed_dictionaries({}, optional=_fields)

FORM_PAGES = [
    ("post", "/mail-in/"),
    ("post", "/on-site/"),
    ("post", "/callback/"),
    ("get", "/centers/"),
    ("get", "/centers/verify/"),
    ("post", "/warranty/"),
    ("post", "/warranty/checkout/"),
    ("post", "/book/"),
    ("get", "/track/"),
]


@pytest.mark.parametrize("method,path", FORM_PAGES)
def test_public_forms_fuzzed_never_500(booking_center, hub, method, path):
    DeviceModelFactory(code="PHN-1")
    client = Client(raise_request_exception=False)

    @hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(data=_form_data)
    def check(data):
        from django.core.cache import cache

        cache.clear()  # the page throttles must not turn the fuzz into a throttling test
        if path == "/book/":
            data = {**data, "center": booking_center.code}
        response = getattr(client, method)(path, data)
        assert response.status_code < 500, (path, data, response.status_code)

    check()
