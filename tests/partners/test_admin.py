"""Admin: a new key is shown once in a message, never its hash; revoke; webhook secrets never shown."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from partners.authentication import hash_key
from partners.models import ApiKey, WebhookDelivery
from partners.webhooks import webhook_event_emit
from tests.factories.centers import ServiceCenterFactory, StaffMembershipFactory
from tests.factories.partners import PartnerFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def test_adding_a_key_shows_the_raw_key_once_and_stores_only_its_hash(admin_client):
    partner = PartnerFactory()
    r = admin_client.post(
        reverse("admin:partners_apikey_add"),
        {"name": "ERP", "partner": partner.pk, "scopes": ["tickets:read", "devices:write"], "throttle_rate": "60/min"},
    )
    assert r.status_code == 302
    key = ApiKey.objects.get()
    shown = [str(m) for m in get_messages(r.wsgi_request)]
    raw = next(re.search(r"sh_[0-9a-f]+_\S+", m).group(0) for m in shown if "sh_" in m)  # any UI language
    assert raw.startswith(f"sh_{key.prefix}_")
    assert key.key_hash == hash_key(raw)
    assert key.scopes == ["devices:write", "tickets:read"]
    url = reverse("admin:partners_apikey_change", args=[key.pk])
    admin_client.get(url)  # the page after the redirect shows the message once
    page = admin_client.get(url).content.decode()
    assert key.key_hash not in page and raw not in page
    assert key.prefix in page


def test_revoke_action(admin_client):
    from partners.services import api_key_create

    key, _raw = api_key_create(partner=PartnerFactory())
    r = admin_client.post(
        reverse("admin:partners_apikey_changelist"), {"action": "revoke_keys", "_selected_action": [key.pk]}
    )
    assert r.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.is_usable is False


def test_webhook_pages_never_show_secrets_and_redeliver_works(admin_client):
    endpoint = WebhookEndpointFactory()
    webhook_event_emit(event_type="ticket.status_changed", payload={}, partner_ids=[endpoint.partner_id])
    delivery = WebhookDelivery.objects.get()
    page = admin_client.get(reverse("admin:partners_webhookendpoint_change", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in page
    WebhookDelivery.objects.update(status="failed")
    r = admin_client.post(
        reverse("admin:partners_webhookdelivery_changelist"), {"action": "redeliver", "_selected_action": [delivery.pk]}
    )
    assert r.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status in ("pending", "sending", "succeeded", "failed")
    assert delivery.next_attempt_at is not None or delivery.attempt_count == 1


def test_center_staff_see_only_partners_of_their_centers(client):
    center = ServiceCenterFactory()
    mine = PartnerFactory(name="Ours")
    mine.centers.add(center)
    PartnerFactory(name="Theirs")
    membership = StaffMembershipFactory(center=center, role="manager")
    user = membership.user
    user.save()  # the factory sets the password without saving: the session hash needs it stored
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="partners"))
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("admin:partners_partner_changelist")).content.decode()
    assert "Ours" in page and "Theirs" not in page
