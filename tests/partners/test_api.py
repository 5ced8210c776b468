"""Webhooks API: create (secret once), list/detail (no secrets), disable, rotate, deliveries, redeliver; BOLA."""

import pytest

from partners.models import WebhookDelivery, WebhookEndpoint
from partners.webhooks import webhook_event_emit
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"


@pytest.fixture
def manager(key_client):
    return key_client(scopes=["webhooks:manage"])


def test_create_returns_id_and_secret_once(manager):
    r = manager.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["ticket.status_changed"]}, format="json")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "secret"}
    assert body["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.partner == manager.api_key.partner
    detail = manager.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in detail and body["secret"] not in str(detail)


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"url": "https://127.0.0.1/x", "events": ["ticket.status_changed"]}, "invalid_webhook_url"),
        ({"url": "https://169.254.169.254/", "events": ["ticket.status_changed"]}, "invalid_webhook_url"),
        ({"url": PUBLIC_URL, "events": ["nope"]}, "validation_error"),
        ({"url": PUBLIC_URL, "events": []}, "validation_error"),
        ({"events": ["loan.overdue"]}, "validation_error"),
    ],
)
def test_create_refuses_bad_input(manager, payload, code):
    r = manager.post("/api/v1/webhooks/", payload, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert WebhookEndpoint.objects.count() == 0


def test_scope_is_required(key_client):
    client = key_client(scopes=["tickets:read"])
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert (
        client.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["loan.overdue"]}, format="json").status_code
        == 403
    )


def test_list_shows_only_own_endpoints(manager, django_assert_max_num_queries):
    mine = WebhookEndpointFactory.create_batch(3, partner=manager.api_key.partner)
    WebhookEndpointFactory(partner=PartnerFactory())
    with django_assert_max_num_queries(6):
        r = manager.get("/api/v1/webhooks/")
    assert r.status_code == 200
    assert [e["id"] for e in r.json()["results"]] == [e.pk for e in mine]
    assert all("secret" not in e for e in r.json()["results"])


def test_another_partners_endpoint_is_404_everywhere(manager):
    other = WebhookEndpointFactory(partner=PartnerFactory())
    webhook_event_emit(event_type="ticket.status_changed", payload={}, partner_ids=[other.partner_id])
    delivery = WebhookDelivery.objects.get()
    base = f"/api/v1/webhooks/{other.pk}/"
    assert manager.get(base).status_code == 404
    assert manager.delete(base).status_code == 404
    assert manager.post(base + "rotate-secret/").status_code == 404
    assert manager.get(base + "deliveries/").status_code == 404
    assert manager.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 404
    other.refresh_from_db()
    assert other.active is True


def test_delete_is_a_documented_soft_delete_gone_from_the_api_kept_in_the_database(manager):
    endpoint = WebhookEndpointFactory(partner=manager.api_key.partner)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="ticket.status_changed", payload={}, msg_id="msg_soft_delete"
    )
    r = manager.delete(f"/api/v1/webhooks/{endpoint.pk}/")
    assert r.status_code == 204
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.disabled_reason) == (False, "Deleted through the API.")
    assert endpoint.deleted_at == endpoint.disabled_at
    # Gone from the API: every call on it answers 404, the list no longer has it.
    assert manager.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert manager.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert manager.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/").status_code == 404
    assert manager.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").status_code == 404
    assert manager.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert manager.get("/api/v1/webhooks/").json()["count"] == 0
    # Kept (nothing that matters is deleted), and a deleted endpoint gets nothing any more.
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert webhook_event_emit(event_type="ticket.status_changed", payload={}, partner_ids=[endpoint.partner_id]) == 0


def test_an_endpoint_disabled_by_its_own_410_stays_visible_as_inactive(manager):
    from partners.services import webhook_endpoint_disable

    endpoint = WebhookEndpointFactory(partner=manager.api_key.partner)
    webhook_endpoint_disable(endpoint_id=endpoint.pk, reason="The endpoint answered 410 Gone.")
    body = manager.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert (body["active"], body["disabled_reason"]) == (False, "The endpoint answered 410 Gone.")


def test_rotate_secret_returns_a_new_secret_and_the_old_one_keeps_signing(manager):
    endpoint = WebhookEndpointFactory(partner=manager.api_key.partner)
    old = endpoint.secret
    r = manager.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
    assert r.status_code == 201
    endpoint.refresh_from_db()
    assert r.json() == {"id": endpoint.pk, "secret": endpoint.secret}
    assert endpoint.previous_secret == old
    assert manager.get(f"/api/v1/webhooks/{endpoint.pk}/").json()["previous_secret_valid_until"] is not None


def test_deliveries_listed_with_attempts_and_redeliverable(
    manager, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(partner=manager.api_key.partner, url="https://hooks.example.com/x")
    for _ in range(3):
        webhook_event_emit(
            event_type="ticket.status_changed", payload={"service_no": "S"}, partner_ids=[endpoint.partner_id]
        )
    # auth, last_used_at, actor (2), endpoint, count, page, attempts: constant in the number of deliveries
    with django_assert_max_num_queries(8):
        r = manager.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
    assert r.json()["count"] == 3
    first = r.json()["results"][0]
    assert first["status"] == "pending" and first["attempts"] == []
    with django_capture_on_commit_callbacks() as callbacks:
        r = manager.post(f"/api/v1/webhook-deliveries/{first['id']}/redeliver/")
    assert r.status_code == 202
    assert len(callbacks) == 1


def test_staff_session_without_partner_cannot_create(admin_client):
    r = admin_client.post(
        "/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["loan.overdue"]}, content_type="application/json"
    )
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def test_create_is_idempotent_with_a_key(manager):
    body = {"url": PUBLIC_URL, "events": ["loan.overdue"]}
    a = manager.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    b = manager.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert a.json() == b.json()
    assert b["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1
