"""Idempotency-Key middleware: replay, reuse with another body, in-flight, per-holder scoping, expiry."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from partners.services import idempotency_records_purge
from servicehub.api import idempotency
from servicehub.models import IdempotencyRecord

CALLS = {"n": 0}
GATE = {"entered": threading.Event(), "release": threading.Event()}


class _Count(APIView):
    public = True

    def post(self, request):
        CALLS["n"] += 1
        return Response({"n": CALLS["n"], "echo": request.data}, status=201)


class _Scoped(APIView):
    required_scopes = {"POST": "tickets:write"}

    def post(self, request):
        CALLS["n"] += 1
        return Response({"n": CALLS["n"]}, status=201)


class _Fails(APIView):
    public = True

    def post(self, request):
        CALLS["n"] += 1
        return Response({"busy": True}, status=503)


class _Slow(APIView):
    public = True

    def post(self, request):
        CALLS["n"] += 1
        GATE["entered"].set()
        GATE["release"].wait(10)
        return Response({"n": CALLS["n"]}, status=201)


urlpatterns = [
    path("api/v1/_count/", _Count.as_view()),
    path("api/v1/_scoped/", _Scoped.as_view()),
    path("api/v1/_fails/", _Fails.as_view()),
    path("api/v1/_slow/", _Slow.as_view()),
]

pytestmark = pytest.mark.urls("tests.partners.test_idempotency")


@pytest.fixture(autouse=True)
def _reset():
    CALLS["n"] = 0
    GATE["entered"].clear()
    GATE["release"].clear()


def _post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_replay_returns_the_first_response_without_running_the_view_again(key_client):
    client = key_client(scopes=["tickets:write"])
    first = _post(client, "/api/v1/_scoped/", {"a": 1}, "k-1")
    again = _post(client, "/api/v1/_scoped/", {"a": 1}, "k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert CALLS["n"] == 1
    rec = IdempotencyRecord.objects.get()
    assert rec.holder == f"key:{client.api_key.prefix}"
    assert rec.expires_at - rec.created_at >= dt.timedelta(hours=24)


@pytest.mark.django_db
def test_same_key_different_body_is_422_reused(key_client):
    client = key_client(scopes=["tickets:write"])
    _post(client, "/api/v1/_scoped/", {"a": 1}, "k-2")
    r = _post(client, "/api/v1/_scoped/", {"a": 2}, "k-2")
    assert r.status_code == 422
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "idempotency_key_reused"
    assert CALLS["n"] == 1


@pytest.mark.django_db
def test_keys_of_one_partner_are_invisible_to_another(key_client):
    a = key_client(scopes=["tickets:write"])
    b = key_client(scopes=["tickets:write"])
    ra = _post(a, "/api/v1/_scoped/", {"a": 1}, "shared-key")
    rb = _post(b, "/api/v1/_scoped/", {"a": 1}, "shared-key")
    rb2 = _post(b, "/api/v1/_scoped/", {"a": 2}, "shared-key-2")
    assert (ra.json()["n"], rb.json()["n"], rb2.json()["n"]) == (1, 2, 3)
    assert "Idempotent-Replayed" not in rb
    assert IdempotencyRecord.objects.count() == 3


@pytest.mark.django_db
def test_forged_key_prefix_gets_no_replay_and_is_401(key_client, api_client):
    victim = key_client(scopes=["tickets:write"])
    _post(victim, "/api/v1/_scoped/", {"a": 1}, "k-3")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer sh_{victim.api_key.prefix}_forged")
    r = _post(api_client, "/api/v1/_scoped/", {"a": 1}, "k-3")
    assert r.status_code == 401
    assert "Idempotent-Replayed" not in r


@pytest.mark.django_db
def test_anonymous_keys_are_scoped_by_body(api_client):
    first = _post(api_client, "/api/v1/_count/", {"x": 1}, "anon-key")
    replay = _post(APIClient(), "/api/v1/_count/", {"x": 1}, "anon-key")
    other_body = _post(APIClient(), "/api/v1/_count/", {"x": 2}, "anon-key")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    # Another body with the same key is another client's request, not a reuse: processed.
    assert other_body.status_code == 201
    assert other_body.json()["n"] == 2


@pytest.mark.django_db
def test_server_errors_are_not_stored_so_a_retry_runs_again(api_client):
    _post(api_client, "/api/v1/_fails/", {}, "k-5")
    _post(api_client, "/api/v1/_fails/", {}, "k-5")
    assert CALLS["n"] == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_scope_refusal_is_not_stored(key_client):
    client = key_client(scopes=["centers:read"])
    assert _post(client, "/api/v1/_scoped/", {}, "k-6").status_code == 403
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_invalid_key_is_400(api_client):
    r = _post(api_client, "/api/v1/_count/", {}, "x" * 256)
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert CALLS["n"] == 0


@pytest.mark.django_db
def test_without_header_nothing_is_stored(api_client):
    api_client.post("/api/v1/_count/", {}, format="json")
    api_client.post("/api/v1/_count/", {}, format="json")
    assert CALLS["n"] == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_in_flight_record_answers_409_and_a_stale_one_is_taken_over(key_client):
    client = key_client(scopes=["tickets:write"])
    holder = f"key:{client.api_key.prefix}"
    from django.test import RequestFactory

    fp = idempotency.request_fingerprint(RequestFactory().post("/api/v1/_scoped/"), b'{"a":1}')
    now = timezone.now()
    IdempotencyRecord.objects.create(
        holder=holder,
        key="k-7",
        request_hash=fp,
        method="POST",
        path="/api/v1/_scoped/",
        in_flight=True,
        created_at=now,
        expires_at=now + idempotency.TTL,
    )
    r = _post(client, "/api/v1/_scoped/", {"a": 1}, "k-7")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_in_flight"
    assert CALLS["n"] == 0

    IdempotencyRecord.objects.update(created_at=now - idempotency.STALE_AFTER - dt.timedelta(seconds=1))
    r = _post(client, "/api/v1/_scoped/", {"a": 1}, "k-7")
    assert r.status_code == 201
    assert CALLS["n"] == 1


@pytest.mark.django_db
def test_expired_records_are_replaced_and_purged(key_client):
    client = key_client(scopes=["tickets:write"])
    _post(client, "/api/v1/_scoped/", {"a": 1}, "k-8")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    r = _post(client, "/api/v1/_scoped/", {"a": 1}, "k-8")
    assert "Idempotent-Replayed" not in r
    assert CALLS["n"] == 2
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert idempotency_records_purge() == 1
    assert IdempotencyRecord.objects.count() == 0


# --- concurrency (PostgreSQL) -------------------------------------------------------


def _race(monkeypatch=None):
    """Request A enters the slow view; while it is in flight, B posts the same key. Returns (A, B) statuses."""
    results = {}

    def post(name):
        try:
            r = APIClient().post("/api/v1/_slow/", {"a": 1}, format="json", HTTP_IDEMPOTENCY_KEY="race")
            results[name] = r.status_code
        finally:
            connection.close()

    a = threading.Thread(target=post, args=("a",))
    a.start()
    assert GATE["entered"].wait(10)
    b = threading.Thread(target=post, args=("b",))
    b.start()
    b.join(3)  # B must not be blocked by A: it answers at once (or, in the control, waits in the view)
    GATE["release"].set()
    a.join(10)
    b.join(10)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_request_with_the_key_in_flight_gets_409_and_the_view_runs_once():
    results = _race()
    assert results == {"a": 201, "b": 409}
    assert CALLS["n"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_claim_the_view_runs_twice(monkeypatch):
    """Control: with the claim disabled the same harness sees a double execution."""
    from servicehub.models import IdempotencyRecord as Rec

    def no_claim(*, holder, key, fingerprint, request, _depth=0):
        return Rec(pk=None), None

    monkeypatch.setattr(idempotency, "claim", no_claim)
    monkeypatch.setattr(idempotency, "store", lambda record, response: None)
    results = _race()
    assert results == {"a": 201, "b": 201}
    assert CALLS["n"] == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_requests_insert_exactly_one_record():
    """Many threads race for the unique (holder, key) row: exactly one claims it."""
    from django.test import RequestFactory

    request = RequestFactory().post("/api/v1/_count/")
    barrier = threading.Barrier(8)
    won = []

    def go():
        try:
            barrier.wait(5)
            record, answer = idempotency.claim(holder="anon:x", key="same", fingerprint="f" * 64, request=request)
            won.append(record is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(won) == [False] * 7 + [True]
    assert IdempotencyRecord.objects.count() == 1
