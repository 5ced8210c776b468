"""Partner keys are limited only to sites the partner runs; webhook URLs carry no CR/LF."""

import pytest
from django.core.management import CommandError, call_command

from partners.models import ApiKey, Partner, WebhookEndpoint
from partners.services import api_key_create, webhook_endpoint_create
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory

pytestmark = pytest.mark.django_db


def test_service_refuses_centers_of_a_partner_that_runs_no_site():
    center = ServiceCenterFactory(code="SC-GD-001")
    partner = Partner.objects.create(name="X")
    with pytest.raises(DomainError) as exc:
        api_key_create(partner=partner, centers=[center])
    assert (exc.value.code, exc.value.status, exc.value.field) == ("center_not_partner", 400, "centers")
    assert exc.value.extra == {"centers": ["SC-GD-001"]}
    assert ApiKey.objects.count() == 0


def test_service_refuses_a_center_next_to_the_partners_own():
    own, foreign = ServiceCenterFactory(code="CP-OWN"), ServiceCenterFactory(code="SC-FOREIGN")
    partner = Partner.objects.create(name="Operator")
    partner.centers.add(own)
    with pytest.raises(DomainError) as exc:
        api_key_create(partner=partner, centers=[own, foreign])
    assert exc.value.code == "center_not_partner" and exc.value.extra == {"centers": ["SC-FOREIGN"]}
    key, _raw = api_key_create(partner=partner, centers=[own])
    assert list(key.centers.values_list("code", flat=True)) == ["CP-OWN"]


def test_command_refuses_center_for_partner_that_runs_no_site_and_writes_nothing(capsys):
    ServiceCenterFactory(code="SC-GD-001")
    with pytest.raises(CommandError) as exc:
        call_command("create_api_key", "--partner", "X", "--centers", "SC-GD-001")
    assert str(exc.value).startswith("center_not_partner: X does not run SC-GD-001")
    assert "sh_" not in capsys.readouterr().out  # no key printed
    assert (Partner.objects.filter(name="X").count(), ApiKey.objects.count()) == (0, 0)


def test_command_accepts_the_partners_own_site(capsys):
    own = ServiceCenterFactory(code="CP-001")
    Partner.objects.create(name="Operator").centers.add(own)
    call_command("create_api_key", "--partner", "Operator", "--centers", "CP-001", "--scopes", "tickets:read")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert raw.startswith(f"sh_{key.prefix}_")
    assert list(key.centers.values_list("code", flat=True)) == ["CP-001"]


def test_admin_change_form_refuses_foreign_center(admin_client):
    own, foreign = ServiceCenterFactory(code="CP-OWN"), ServiceCenterFactory(code="SC-FOREIGN")
    partner = Partner.objects.create(name="Operator")
    partner.centers.add(own)
    key, _raw = api_key_create(partner=partner, centers=[own])
    r = admin_client.post(
        f"/admin/partners/apikey/{key.pk}/change/",
        {"name": "k", "centers": [foreign.pk], "throttle_rate": "", "expires_at": ""},
    )
    assert r.status_code == 200
    assert r.context["adminform"].form.errors["centers"][0].startswith("Operator does not run SC-FOREIGN")
    assert list(key.centers.values_list("code", flat=True)) == ["CP-OWN"]


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/a\r\nX-Injected: 1",
        "https://hooks.example.com/a\nb",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\ta",
    ],
)
def test_webhook_url_with_cr_lf_or_space_is_refused(url):
    partner = Partner.objects.create(name="P")
    with pytest.raises(DomainError) as exc:
        webhook_endpoint_create(partner=partner, url=url, events=["ticket.status_changed"])
    assert (exc.value.code, exc.value.status, exc.value.field) == ("validation_error", 400, "url")
    assert WebhookEndpoint.objects.count() == 0


def test_webhook_api_answers_400_validation_error_for_cr_lf(key_client):
    client = key_client(scopes=["webhooks:manage"])
    r = client.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/a\r\nX-Injected: 1", "events": ["ticket.status_changed"]},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["errors"]) == ["url"]
    assert WebhookEndpoint.objects.count() == 0
