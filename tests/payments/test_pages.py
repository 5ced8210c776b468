"""The payment pages: the counter's posts, the receipt, the public receipt check, sandbox and pay link."""

from decimal import Decimal

import pytest
from django.test import Client

from payments import services
from payments.models import Payment, Refund
from payments.pay_links import pay_path
from payments.receipts import receipt_path
from payments.selectors import ticket_money

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(people):
    c = Client()
    c.force_login(people["desk"].user)
    return c


@pytest.fixture
def manager(people):
    c = Client()
    c.force_login(people["manager"].user)
    return c


def test_the_workspace_shows_the_money_box_with_a_fixed_number_of_queries(desk, ready, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/admin/repairs/repairticket/{ready.pk}/change/"
    page = desk.get(url).content.decode()
    assert 'id="amount-due">¥659.00' in page and 'id="pay-cash"' in page
    assert 'id="waive-form"' not in page  # the desk does not waive
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount="10.00")
    counts = []
    for _i in range(2):
        with CaptureQueriesContext(connection) as ctx:
            desk.get(url)
        counts.append(len(ctx.captured_queries))
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount="10.00")
    assert counts[0] == counts[1]


def test_counter_cash_post_then_refund_page(desk, ready):
    r = desk.post(f"/admin/payments/payment/ticket/{ready.pk}/pay/", {"method": "cash", "amount": "659.00"})
    assert r.status_code == 302
    payment = Payment.objects.get()
    assert (payment.status, payment.amount) == ("succeeded", Decimal("659.00"))
    url = f"/admin/payments/payment/{payment.pk}/refund/"
    assert desk.get(url).status_code == 200
    r = desk.post(url, {"amount": "700", "reason": "x"})
    assert r.status_code == 400 and "659.00" in r.content.decode()
    r = desk.post(url, {"amount": "59.00", "reason": "goodwill"})
    assert r.status_code == 302
    assert Refund.objects.get().amount == Decimal("59.00")


def test_counter_qr_then_simulated_scan(desk, ready):
    r = desk.post(f"/admin/payments/payment/ticket/{ready.pk}/pay/", {"method": "wechat_pay"})
    payment = Payment.objects.get()
    assert r["Location"] == f"/admin/payments/payment/{payment.pk}/qr/"
    page = desk.get(r["Location"]).content.decode()
    assert "<svg" in page and 'id="simulate-scan"' in page
    desk.post(f"/admin/payments/payment/{payment.pk}/simulate/")
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_waive_is_for_managers(desk, manager, ready):
    desk.post(f"/admin/payments/payment/ticket/{ready.pk}/waive/", {"reason": "x"})
    assert ticket_money(ready).amount_due == Decimal("659.00")
    manager.post(f"/admin/payments/payment/ticket/{ready.pk}/waive/", {"reason": "goodwill"})
    assert ticket_money(ready).amount_due == 0


def test_receipt_and_public_check_with_fixed_queries(desk, ready, people, client, django_assert_num_queries):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    page = desk.get(f"/admin/payments/payment/{payment.pk}/receipt/?paper=80mm").content.decode()
    assert payment.receipt_no in page and "¥659.00" in page and "<svg" in page
    with django_assert_num_queries(1):
        public = client.get(receipt_path(payment.pk))
    body = public.content.decode()
    assert public.status_code == 200 and "¥659.00" in body
    assert "王*明" in body and "王小明" not in body and "13812345678" not in body
    forged = receipt_path(payment.pk)[:-3] + "xx/"
    assert client.get(forged).status_code == 404


def test_notify_endpoint_refuses_get_and_unknown_providers(client):
    assert client.get("/payments/notify/sandbox/").status_code == 405
    assert client.post("/payments/notify/nope/", data=b"{}", content_type="application/json").status_code == 404
    assert client.post("/payments/notify/sandbox/", data=b"{}", content_type="application/json").status_code == 400


def test_sandbox_page_pays_once(client, ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="alipay")
    url = f"/payments/sandbox/{payment.order_no}/"
    assert 'id="sandbox-confirm"' in client.get(url).content.decode()
    assert 'id="sandbox-paid"' in client.post(url).content.decode()
    client.post(url)
    assert Payment.objects.get().status == "succeeded"
    assert ticket_money(ready).amount_due == 0


def test_customer_pay_link(client, ready, django_assert_max_num_queries):
    url = pay_path(ready.pk)
    with django_assert_max_num_queries(4):
        page = client.get(url).content.decode()
    assert "¥659.00" in page and 'id="pay-wechat"' in page
    r = client.post(url, {"method": "cash"})
    assert r.status_code == 400  # a customer pays by QR only
    page = client.post(url, {"method": "wechat_pay"}).content.decode()
    payment = Payment.objects.get()
    assert (payment.status, payment.method) == ("pending", "wechat_pay")
    assert "<svg" in page and payment.qr_payload in page
    assert client.get("/pay/forged:token/").status_code == 404


def test_the_tracking_page_shows_the_pay_link_while_money_is_due(client, ready, people):
    url = f"/track/{ready.service_no}/?phone_last4=5678"
    assert 'id="pay-link"' in client.get(url).content.decode()
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert 'id="pay-link"' not in client.get(url).content.decode()
