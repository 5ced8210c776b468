"""Protected fields cannot be written through the API (status, prices, claims, deposits, ownership, secrets);
customer data is masked for partner keys."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from partners.models import WebhookEndpoint
from tests.factories.centers import ServiceCenterFactory
from tests.factories.partners import PartnerFactory, make_ticket
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, make_imei, screen_care

pytestmark = pytest.mark.django_db


def test_ticket_check_in_ignores_status_and_engineer(key_client):
    center = ServiceCenterFactory(services=["phone", "walk_in"])
    partner = PartnerFactory()
    partner.centers.add(center)
    client = key_client(partner=partner, scopes=["tickets:write"])
    DeviceModelFactory(code="MA-1")
    r = client.post(
        "/api/v1/tickets/",
        {
            "center": center.code,
            "channel": "walk_in",
            "customer": {"name": "赵六", "phone": "13600001111"},
            "device": {"imei": make_imei(), "model": "MA-1"},
            "fault": {"category": "screen"},
            "status": "ready",
            "engineer": 1,
            "service_no_override": "X",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "received"


def test_webhook_create_cannot_set_partner_active_or_secret(key_client):
    client = key_client(scopes=["webhooks:manage"])
    other = PartnerFactory()
    r = client.post(
        "/api/v1/webhooks/",
        {
            "url": "https://93.184.215.14/h",
            "events": ["loan.overdue"],
            "partner": other.pk,
            "active": False,
            "secret": "whsec_AAAA",
        },
        format="json",
    )
    assert r.status_code == 201
    endpoint = WebhookEndpoint.objects.get(pk=r.json()["id"])
    assert (endpoint.partner, endpoint.active) == (client.api_key.partner, True)
    assert endpoint.secret != "whsec_AAAA" and r.json()["secret"] == endpoint.secret


def test_shipment_event_cannot_set_shipment_status_or_seal_ok(key_client):
    from logistics.services import shipment_create

    courier = PartnerFactory(kind="courier", name="MA courier")
    hub = ServiceCenterFactory(kind="mail_in_hub")
    shipment = shipment_create(
        ticket=make_ticket(center=hub, channel="mail_in"), leg="customer_to_hub", courier="MA courier"
    )
    client = key_client(partner=courier, scopes=["shipments:write"])
    r = client.post(
        f"/api/v1/shipments/{shipment.pk}/events/",
        {
            "event": "picked_up",
            "at": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
            "status": "delivered",
            "seal_ok": True,
            "ticket_action": "close",
        },
        format="json",
    )
    assert r.status_code == 201
    assert (r.json()["seal_ok"], r.json()["ticket_action"]) == (None, "")
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"


def test_plan_purchase_cannot_set_claims_or_status(key_client):
    partner = PartnerFactory()
    client = key_client(partner=partner, scopes=["plans:write"])
    model = DeviceModelFactory(code="MA-2")
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=2))
    screen_care()
    r = client.post(
        "/api/v1/plan-purchases/",
        {
            "imei": device.imei,
            "plan": "SCREEN12",
            "purchased_at": timezone.now().isoformat(),
            "price": "199.00",
            "claims_used": 5,
            "claims_allowed": 99,
            "status": "refunded",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    from warranty.models import PlanPurchase

    purchase = PlanPurchase.objects.get()
    assert (purchase.claims_allowed, purchase.status, purchase.partner) == (1, "active", partner)


def test_loan_checkout_cannot_set_deposit_or_status(key_client):
    from tests.factories.loaners import DepositRuleFactory, LoanerFactory, ticket

    center = ServiceCenterFactory()
    partner = PartnerFactory()
    partner.centers.add(center)
    DepositRuleFactory(tier="flagship", deposit=Decimal("1500.00"))
    LoanerFactory(home_center=center)
    t = ticket(center=center, status="repairing")
    client = key_client(partner=partner, scopes=["loans:write"])
    r = client.post(
        "/api/v1/loans/",
        {
            "ticket": t.service_no,
            "tier": "flagship",
            "payment_method": "cash",
            "terms_accepted": True,
            "deposit": "0.00",
            "status": "returned",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert (r.json()["deposit"], r.json()["status"]) == ("1500.00", "out")


def test_partner_sees_customer_data_masked_staff_of_the_center_does_not(key_client, staff_key_client):
    from tests.factories.loaners import staff_at

    center = ServiceCenterFactory()
    partner = PartnerFactory()
    partner.centers.add(center)
    t = make_ticket(center=center, customer_name="欧阳小明", phone="+8613812345678")
    as_partner = key_client(partner=partner, scopes=["tickets:read"]).get(f"/api/v1/tickets/{t.service_no}/")
    assert as_partner.status_code == 200
    text = as_partner.content.decode()
    assert "13812345678" not in text and "欧阳小明" not in text
    assert "138****5678" in text
    staff = staff_key_client(staff_at(center), scopes=["tickets:read"]).get(f"/api/v1/tickets/{t.service_no}/")
    assert "欧阳小明" in staff.content.decode()
