"""A plan bought on the web: a pending purchase paid by QR through the payments providers, then active."""

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from booking import services as booking_services
from payments import services
from payments.models import Charge, LedgerEntry, Payment, Refund
from payments.pay_links import plan_order_path, plan_order_purchase_id
from payments.providers import sandbox
from payments.providers.base import ProviderError
from payments.selectors import subject_balance
from servicehub.errors import DomainError
from servicehub.models import OutboxEvent
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory, screen_care
from warranty.models import PlanPurchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def device():
    StatutoryPolicyFactory(category="phone")
    screen_care()
    return DeviceFactory(model=DeviceModelFactory(code="PHN-1", tier="flagship"))


def _notify(payment: Payment) -> str:
    headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
    return services.notification_receive(provider="sandbox", headers=headers, body=body, form={})[1]


def _checkout(device, method="wechat_pay") -> Payment:
    return booking_services.plan_order_checkout(imei=device.imei, plan_code="SCREEN12", method=method)


def test_checkout_writes_a_pending_order_that_covers_nothing_and_a_qr_payment(device):
    payment = _checkout(device)
    purchase = PlanPurchase.objects.get()
    assert (purchase.status, purchase.channel, purchase.center_id) == ("pending", "web", None)
    assert (payment.status, payment.method, payment.provider, payment.center_id) == (
        "pending",
        "wechat_pay",
        "sandbox",
        None,
    )
    assert payment.plan_purchase_id == purchase.pk and payment.amount == purchase.price_paid > 0
    assert payment.qr_payload
    assert Charge.objects.get(plan_purchase=purchase).amount == purchase.price_paid
    balance = subject_balance(plan_purchase_id=purchase.pk)
    assert (balance.amount_due, balance.pending) == (purchase.price_paid, purchase.price_paid)
    # Not active: no plan.activated event, and the plan does not cover the device yet.
    assert not OutboxEvent.objects.filter(type="plan.activated").exists()
    from warranty.selectors import _active_purchases

    assert _active_purchases(device, on=timezone.localdate()) == []


def test_the_providers_notification_activates_the_plan_once(device):
    payment = _checkout(device)
    assert _notify(payment) == "settled"
    purchase = PlanPurchase.objects.get()
    payment.refresh_from_db()
    assert (purchase.status, payment.status) == ("active", "succeeded")
    assert OutboxEvent.objects.filter(type="plan.activated", payload__purchase_id=purchase.pk).count() == 1
    assert subject_balance(plan_purchase_id=purchase.pk).amount_due == Decimal("0.00")
    assert LedgerEntry.objects.filter(plan_purchase=purchase, kind="paid", center__isnull=True).count() == 1
    # a repeated notification (another id, same order) settles nothing twice
    headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
    assert services.notification_receive(provider="sandbox", headers=headers, body=body, form={})[1] in {
        "already_settled",
        "duplicate",
    }
    assert OutboxEvent.objects.filter(type="plan.activated").count() == 1


def test_a_second_order_for_the_same_plan_paid_later_is_cancelled_and_refunded(
    device, django_capture_on_commit_callbacks
):
    first, second = _checkout(device), _checkout(device, method="alipay")
    assert _notify(first) == "settled"
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify(second) == "settled"
    purchases = {p.pk: p.status for p in PlanPurchase.objects.all()}
    assert purchases == {first.plan_purchase_id: "active", second.plan_purchase_id: "cancelled"}
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.status) == (second.pk, second.amount, "succeeded")


def test_an_order_not_paid_in_30_minutes_is_cancelled_and_a_late_payment_refunded(
    device, django_capture_on_commit_callbacks
):
    payment = _checkout(device)
    assert booking_services.plan_orders_abandon(now=timezone.now() + dt.timedelta(minutes=29)) == 0
    assert booking_services.plan_orders_abandon(now=timezone.now() + dt.timedelta(minutes=31)) == 1
    payment.refresh_from_db()
    assert (PlanPurchase.objects.get().status, payment.status) == ("cancelled", "cancelled")
    assert booking_services.plan_orders_abandon(now=timezone.now() + dt.timedelta(minutes=60)) == 0  # idempotent
    # The customer had scanned anyway: the provider took the money, so it is settled and given back.
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify(payment) == "settled"
    assert PlanPurchase.objects.get().status == "cancelled"
    assert Refund.objects.get(payment=payment).amount == payment.amount


def test_only_qr_methods_and_a_provider_refusal_keeps_nothing(device):
    with pytest.raises(DomainError) as err:
        _checkout(device, method="cash")
    assert err.value.code == "validation_error"
    with mock.patch.object(sandbox.SandboxProvider, "qr_create", side_effect=ProviderError("down")):
        with pytest.raises(DomainError) as err:
            _checkout(device)
    assert err.value.code == "provider_error"
    assert not PlanPurchase.objects.exists() and not Payment.objects.exists() and not Charge.objects.exists()


# --- the pages ----------------------------------------------------------------------------------------


def test_checkout_page_then_order_page_then_paid(device, django_assert_max_num_queries):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = c.get("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12"}).content.decode()
    assert 'id="checkout-wechat"' in page and 'id="checkout-alipay"' in page and "SANDBOX" in page
    assert c.post("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12"}).status_code == 400
    r = c.post("/warranty/checkout/", {"imei": device.imei, "plan": "SCREEN12", "method": "alipay"})
    purchase = PlanPurchase.objects.get()
    # the link is timestamp-signed, so compare what it names, not its bytes (a second may have passed)
    assert r.status_code == 302 and r["Location"].startswith("/warranty/orders/")
    assert plan_order_purchase_id(r["Location"].split("/")[-2]) == purchase.pk
    with django_assert_max_num_queries(2):  # the order with its plan and device; its payments
        order = c.get(r["Location"]).content.decode()
    payment = Payment.objects.get()
    assert 'id="order-qr"' in order and "<svg" in order and payment.qr_payload in order
    # the sandbox pay screen (what the QR opens) pays, and leads back to the order
    sandbox_page = c.post(f"/payments/sandbox/{payment.order_no}/").content.decode()
    assert 'id="sandbox-paid"' in sandbox_page
    back = re.search(r'href="(/warranty/orders/[^"/]+/)"', sandbox_page)
    assert back and plan_order_purchase_id(back.group(1).split("/")[-2]) == purchase.pk
    with django_assert_max_num_queries(2):
        done = c.get(plan_order_path(purchase.pk)).content.decode()
    assert 'id="order-active"' in done and Payment.objects.get().receipt_no in done
    assert c.get("/warranty/orders/forged:token/").status_code == 404


def test_hq_revenue_lists_web_orders_as_online(device):
    from accounting.selectors import revenue
    from servicehub.actors import SYSTEM

    payment = _checkout(device)
    _notify(payment)
    today = timezone.localdate()
    figures = revenue(actor=SYSTEM, start=today, end=today)
    online = [c for c in figures.by_center if c["code"] == "online"]
    assert len(online) == 1 and online[0]["methods"]["wechat_pay"] == payment.amount == figures.total


def test_web_orders_are_throttled_per_address(device):
    from servicehub.api.throttling import LookupThrottle

    original = LookupThrottle.THROTTLE_RATES
    LookupThrottle.THROTTLE_RATES = {**original, "plan_checkout": "2/min"}
    try:
        c = Client(HTTP_ACCEPT_LANGUAGE="en")
        body = {"imei": device.imei, "plan": "SCREEN12", "method": "wechat_pay"}
        codes = [c.post("/warranty/checkout/", body).status_code for _ in range(3)]
    finally:
        LookupThrottle.THROTTLE_RATES = original
    assert codes == [302, 302, 429]
    assert PlanPurchase.objects.count() == 2 == Payment.objects.count()  # the third wrote nothing


def test_a_refund_refused_at_the_late_settlement_is_made_by_the_job(device, django_capture_on_commit_callbacks):
    from booking import jobs

    payment = _checkout(device)
    booking_services.plan_orders_abandon(now=timezone.now() + dt.timedelta(minutes=31))
    with mock.patch.object(sandbox.SandboxProvider, "refund", side_effect=ProviderError("down")):
        with django_capture_on_commit_callbacks(execute=True):
            assert _notify(payment) == "settled"  # the notification is answered: the settlement stands
    payment.refresh_from_db()
    assert (payment.status, payment.refunded, Refund.objects.count()) == ("succeeded", Decimal("0.00"), 0)
    # the job's next run gives the money back, once
    assert jobs.job_plan_orders_abandon(now=timezone.now() + dt.timedelta(minutes=40))["refunded"] == 1
    assert booking_services.plan_orders_refund_cancelled() == 0
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.status) == (payment.pk, payment.amount, "succeeded")


def test_a_term_over_but_not_yet_expired_does_not_block_the_paid_order(device):
    from warranty.models import PlanPurchaseEvent

    old = _checkout(device)
    _notify(old)
    first = PlanPurchase.objects.get()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    PlanPurchase.objects.filter(pk=first.pk).update(starts_on=yesterday - dt.timedelta(days=30), ends_on=yesterday)
    payment = _checkout(device)
    _notify(payment)
    statuses = dict(PlanPurchase.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "expired", payment.plan_purchase_id: "active"}
    assert PlanPurchaseEvent.objects.filter(purchase_id=first.pk, action="expire").count() == 1
