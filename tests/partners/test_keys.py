"""API keys: per-key and per-partner throttles, expiry, center scope, revocation."""

import datetime as dt

import pytest
from django.utils import timezone

from partners.services import api_key_create, api_key_revoke
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def _client(api_client, raw):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api_client


def test_partner_default_throttle_applies_to_its_keys(api_client):
    partner = PartnerFactory(throttle_rate="2/min")
    _key, raw = api_key_create(partner=partner, scopes=["webhooks:manage"])
    client = _client(api_client, raw)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    r = client.get(URL)
    assert r.json()["code"] == "throttled"
    assert "Retry-After" in r


def test_key_rate_wins_over_the_partner_default(api_client):
    partner = PartnerFactory(throttle_rate="1/min")
    _key, raw = api_key_create(partner=partner, scopes=["webhooks:manage"], throttle_rate="3/min")
    client = _client(api_client, raw)
    assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_expired_and_revoked_keys_are_401(api_client):
    partner = PartnerFactory()
    key, raw = api_key_create(
        partner=partner, scopes=["webhooks:manage"], expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _client(api_client, raw).get(URL).status_code == 401
    key2, raw2 = api_key_create(partner=partner, scopes=["webhooks:manage"])
    assert _client(api_client, raw2).get(URL).status_code == 200
    api_key_revoke(key_id=key2.pk)
    assert _client(api_client, raw2).get(URL).status_code == 401


def test_last_used_is_recorded(api_client):
    key, raw = api_key_create(partner=PartnerFactory(), scopes=["webhooks:manage"])
    _client(api_client, raw).get(URL)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_key_centers_must_be_the_partners_own():
    own, foreign = ServiceCenterFactory(), ServiceCenterFactory()
    partner = PartnerFactory()
    partner.centers.add(own)
    key, _raw = api_key_create(partner=partner, centers=[own])
    assert list(key.centers.all()) == [own]
    with pytest.raises(DomainError) as exc:
        api_key_create(partner=partner, centers=[foreign])
    assert exc.value.field == "centers"


def test_only_the_hash_is_stored():
    key, raw = api_key_create(partner=PartnerFactory())
    assert raw not in str(key.__dict__.values())
    assert raw.startswith(f"sh_{key.prefix}_")
