"""The staff API of sign-language sessions (issue #22 item 4): the list of the caller's centers (with the host link),
prepared, outcome; who may (staff people only), BOLA between two centers, problem codes, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from booking import services as booking_services
from outreach.models import SignLanguageSession
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db
URL = "/api/v1/sign-sessions/"


def _book(center, hour):
    appointment = booking_services.appointment_book(
        center=center, start=local(tomorrow(), hour), needs={"sign_language": True}, **booking_input()
    )
    return SignLanguageSession.objects.get(appointment=appointment)


@pytest.fixture
def two():
    a, b = open_center(code="SC-SIGN-A", name="静安"), open_center(code="SC-SIGN-B", name="徐汇")
    desk_a, desk_b = staff(a, "front_desk", username="sign_api_a"), staff(b, "front_desk", username="sign_api_b")
    for user in (desk_a, desk_b):
        user.is_staff = True
        user.save()
    return {
        "a": a,
        "b": b,
        "desk_a": desk_a,
        "desk_b": desk_b,
        "sa": [_book(a, 10), _book(a, 11)],
        "sb": _book(b, 10),
    }


def _session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_list_shows_the_callers_centers_with_the_host_link_and_filters(two, django_assert_num_queries):
    client = _session_client(two["desk_a"])
    with django_assert_num_queries(5):  # session, user, memberships, count, the page (center, ticket, signer joined)
        r = client.get(URL)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [s.pk for s in two["sa"]]
    first = body["results"][0]
    assert (first["center"], first["status"], first["prepared"]) == ("SC-SIGN-A", "scheduled", False)
    assert first["host_url"] == two["sa"][0].host_url and first["join_url"] == two["sa"][0].join_url
    assert first["service_no"] == two["sa"][0].appointment.ticket.service_no
    day = tomorrow().isoformat()
    assert client.get(URL, {"date": day}).json()["count"] == 2
    assert client.get(URL, {"date": "2001-01-01"}).json()["count"] == 0
    assert client.get(URL, {"status": "held"}).json()["count"] == 0
    assert client.get(URL, {"center": "SC-SIGN-B"}).json()["count"] == 0  # not among hers: nothing, not B's rows
    bad = client.get(URL, {"status": "maybe"})
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error")
    for wrong in ({"date": "tomorrow"}, {"date": "2026-02-30"}):
        answer = client.get(URL, wrong)
        assert (answer.status_code, answer.json()["code"]) == (400, "validation_error"), wrong


def test_prepared_then_outcome_and_the_problem_codes(two, django_assert_num_queries):
    client = _session_client(two["desk_a"])
    session = two["sa"][0]
    # the session, the user, the memberships; the service (savepoint, lock, checks, update); the answer's row; and
    # on PostgreSQL the lock's SET LOCAL lock_timeout (servicehub.locking), which SQLite has no use for
    with django_assert_num_queries(10 if connection.vendor == "postgresql" else 9):
        r = client.post(f"{URL}{session.pk}/prepared/", {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["prepared"] is True
    first = SignLanguageSession.objects.get(pk=session.pk).prepared_at
    again = client.post(f"{URL}{session.pk}/prepared/", {}, format="json")
    assert again.status_code == 200 and SignLanguageSession.objects.get(pk=session.pk).prepared_at == first
    wrong = client.post(f"{URL}{session.pk}/outcome/", {"status": "cancelled"}, format="json")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "validation_error")
    with django_assert_num_queries(9 if connection.vendor == "postgresql" else 8):
        held = client.post(f"{URL}{session.pk}/outcome/", {"status": "held"}, format="json")
    assert (held.status_code, held.json()["status"]) == (200, "held")
    twice = client.post(f"{URL}{session.pk}/outcome/", {"status": "no_show"}, format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "session_closed")
    late = client.post(f"{URL}{session.pk}/prepared/", {}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "session_closed")
    assert SignLanguageSession.objects.get(pk=session.pk).status == "held"


def test_bola_matrix_for_staff_of_two_centers(two, staff_key_client):
    """Each route, A's staff on B's session: 404 and nothing changed; B's staff on their own: 200 (the control)."""
    theirs = two["sb"]
    routes = [
        ("post", f"{URL}{theirs.pk}/prepared/", {}),
        ("post", f"{URL}{theirs.pk}/outcome/", {"status": "no_show"}),
    ]
    callers = [_session_client(two["desk_a"]), staff_key_client(two["desk_a"], scopes=["tickets:write"])]
    for client in callers:
        for method, url, body in routes:
            r = getattr(client, method)(url, body, format="json")
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), (url, r.content)
            assert theirs.host_url not in r.content.decode()
        listed = _session_client(two["desk_a"]).get(URL).content.decode()
        assert f'"id":{theirs.pk},' not in listed and theirs.host_url not in listed
    row = SignLanguageSession.objects.get(pk=theirs.pk)
    assert (row.status, row.prepared_at) == ("scheduled", None)
    own = _session_client(two["desk_b"])
    for method, url, body in routes:
        assert getattr(own, method)(url, body, format="json").status_code == 200
    assert SignLanguageSession.objects.get(pk=theirs.pk).status == "no_show"


def test_anonymous_is_401_and_partner_keys_are_403(two, key_client):
    session = two["sa"][0]
    anonymous = APIClient()
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(f"{URL}{session.pk}/prepared/", {}, format="json").status_code == 401
    partner = key_client(scopes=["tickets:read", "tickets:write"])
    listed = partner.get(URL)
    assert (listed.status_code, listed.json()["code"]) == (403, "permission_denied")
    for suffix, body in (("prepared/", {}), ("outcome/", {"status": "held"})):
        r = partner.post(f"{URL}{session.pk}/{suffix}", body, format="json")
        assert r.status_code == 403, r.content
    assert (SignLanguageSession.objects.get(pk=session.pk).status, session.prepared_at) == ("scheduled", None)


def test_a_staff_key_needs_its_scope(two, staff_key_client):
    reader = staff_key_client(two["desk_a"], scopes=["tickets:read"])
    assert reader.get(URL).json()["count"] == 2
    r = reader.post(f"{URL}{two['sa'][0].pk}/prepared/", {}, format="json")
    assert r.status_code == 403
