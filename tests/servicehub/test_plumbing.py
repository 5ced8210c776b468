"""The shared API plumbing: problem details, API keys, scopes, schema."""

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from partners.models import ApiKey
from servicehub.errors import DomainError


class _Scoped(APIView):
    required_scopes = {"GET": "tickets:read"}

    def get(self, request):
        return Response({"ok": True})


class _Boom(APIView):
    public = True

    def get(self, request):
        raise DomainError("slot_full", "That slot is full.", status=409, nearest=["10:00"])


urlpatterns = [
    path("api/v1/_scoped/", _Scoped.as_view()),
    path("api/v1/_boom/", _Boom.as_view()),
]

pytestmark = pytest.mark.django_db


def test_unknown_api_url_is_problem_404(api_client):
    r = api_client.get("/api/v1/no-such-thing/")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_found"
    assert r.json()["status"] == 404


@pytest.mark.urls("tests.servicehub.test_plumbing")
def test_domain_error_becomes_problem_with_extra(api_client):
    r = api_client.get("/api/v1/_boom/")
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "slot_full"
    assert body["title"] == "Conflict"
    assert body["nearest"] == ["10:00"]
    assert r["Content-Type"].startswith("application/problem+json")


@pytest.mark.urls("tests.servicehub.test_plumbing")
def test_missing_key_is_401(api_client):
    r = api_client.get("/api/v1/_scoped/")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


@pytest.mark.urls("tests.servicehub.test_plumbing")
def test_wrong_key_is_401(api_client, partner_key):
    key, raw = partner_key()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw[:-2]}xx")
    r = api_client.get("/api/v1/_scoped/")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


@pytest.mark.urls("tests.servicehub.test_plumbing")
def test_key_without_scope_is_403_and_with_scope_200(key_client):
    r = key_client(scopes=["centers:read"]).get("/api/v1/_scoped/")
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert key_client(scopes=["tickets:read"]).get("/api/v1/_scoped/").status_code == 200


@pytest.mark.urls("tests.servicehub.test_plumbing")
def test_revoked_key_is_401(key_client):
    from django.utils import timezone

    client = key_client()
    ApiKey.objects.filter(pk=client.api_key.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/_scoped/").status_code == 401


def test_keys_are_stored_hashed(partner_key):
    key, raw = partner_key()
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


def test_schema_and_docs_served(client):
    r = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/catalog/repairs/?model=P%0060", "/api/v1/plans/?model=%00", "/api/v1/centers/?kind=a%00b"]
)
def test_a_nul_in_a_query_parameter_is_a_400_problem_not_a_500(client, url):
    r = client.get(url)
    assert r.status_code == 400
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_error" and list(body["errors"]) == [url.split("?")[1].split("=")[0]]


@pytest.mark.django_db
def test_a_nul_in_a_page_query_is_a_400_page(client):
    assert client.get("/centers/?q=%00").status_code == 400
    assert client.get("/centers/?q=a").status_code == 200  # the control: no NUL, the page answers
