"""Money typed with non-ASCII digits (full-width "１２９") is a 400, not silently 129."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories.warranty import DeviceFactory, DeviceModelFactory, make_imei, screen_care
from warranty.models import PlanPurchase

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", ["１２９", "١٢٩", "1e2", "12９.00"])
def test_plan_purchase_price_in_non_ascii_digits_is_400(key_client, price):
    screen_care()
    model = DeviceModelFactory(code="MATE70PRO", category="phone", tier="flagship")
    device = DeviceFactory(model=model, imei=make_imei(778), sold_at=timezone.now() - dt.timedelta(days=3))
    client = key_client(scopes=["plans:write"])
    r = client.post(
        "/api/v1/plan-purchases/",
        {"imei": device.imei, "plan": "SCREEN12", "purchased_at": timezone.now().isoformat(), "price": price},
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "validation_error" and list(r.json()["errors"]) == ["price"]
    assert PlanPurchase.objects.count() == 0


def test_plan_purchase_price_in_ascii_digits_still_works(key_client):
    screen_care()
    model = DeviceModelFactory(code="MATE70PRO", category="phone", tier="flagship")
    device = DeviceFactory(model=model, imei=make_imei(779), sold_at=timezone.now() - dt.timedelta(days=3))
    r = key_client(scopes=["plans:write"]).post(
        "/api/v1/plan-purchases/",
        {"imei": device.imei, "plan": "SCREEN12", "purchased_at": timezone.now().isoformat(), "price": "199.00"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["price"] == "199.00"
