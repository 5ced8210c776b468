"""The payments API: take a payment, refund it; the ticket and tracking answers show the money."""

import uuid

import pytest
from rest_framework.test import APIClient

from payments.models import Payment, Refund
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(people):
    c = APIClient()
    c.force_authenticate(people["desk"].user)
    return c


def _pay(client, ticket, **body):
    return client.post(f"/api/v1/tickets/{ticket.service_no}/payments/", body, format="json")


def test_cash_payment_201_and_the_ticket_shows_it(desk_client, ready, django_assert_max_num_queries):
    due = desk_client.get(f"/api/v1/tickets/{ready.service_no}/").json()["amount_due"]
    assert due == "659.00"
    # The payment itself, and (tests dispatch the outbox inline after commit) the receipt SMS and the
    # webhook fan-out; the next test shows the count does not grow with earlier payments.
    with django_assert_max_num_queries(24):
        r = _pay(desk_client, ready, method="cash")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["method"], body["amount"], body["status"], body["qr"]) == ("cash", "659.00", "succeeded", None)
    assert body["receipt_no"].startswith("R")
    detail = desk_client.get(f"/api/v1/tickets/{ready.service_no}/").json()
    assert (detail["amount_due"], detail["amount_paid"]) == ("0.00", "659.00")
    assert [(p["id"], p["method"], p["amount"], p["status"]) for p in detail["payments"]] == [
        (body["id"], "cash", "659.00", "succeeded")
    ]
    assert "hand_over" in detail["allowed_actions"]


def test_payment_query_count_does_not_grow_with_earlier_payments(desk_client, ready):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _pay(desk_client, ready, method="cash", amount="100.00")
    _pay(desk_client, ready, method="cash", amount="100.00")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            r = _pay(desk_client, ready, method="cash", amount="10.00")
        assert r.status_code == 201
        return len(ctx.captured_queries)

    first = count()
    assert count() == first
    detail_counts = []
    for _i in range(2):
        with CaptureQueriesContext(connection) as ctx:
            desk_client.get(f"/api/v1/tickets/{ready.service_no}/")
        detail_counts.append(len(ctx.captured_queries))
        _pay(desk_client, ready, method="cash", amount="10.00")
    assert detail_counts[0] == detail_counts[1]


def test_qr_payment_answers_the_qr_to_show(desk_client, ready):
    r = _pay(desk_client, ready, method="wechat_pay")
    assert r.status_code == 201
    assert r.json()["status"] == "pending"
    assert "/payments/sandbox/" in r.json()["qr"]


def test_refusals_are_problem_details_with_stable_codes(desk_client, ready, people):
    r = _pay(desk_client, ready, method="cash", amount="9999.00")
    assert (r.status_code, r.json()["code"], r.json()["amount_due"]) == (422, "amount_exceeds_due", "659.00")
    assert r["Content-Type"].startswith("application/problem+json")
    r = _pay(desk_client, ready, method="card")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")  # schema-valid body, business rule
    r = _pay(desk_client, ready, method="gold")
    assert r.status_code == 400
    assert _pay(desk_client, ready, method="cash").status_code == 201
    r = _pay(desk_client, ready, method="cash")
    assert (r.status_code, r.json()["code"]) == (409, "payment_not_due")
    # hand over is now allowed; before, it was 409 payment_required (see the next test)
    assert Payment.objects.count() == 1


def test_hand_over_409_payment_required(desk_client, ready):
    r = desk_client.post(f"/api/v1/tickets/{ready.service_no}/transition/", {"action": "hand_over"}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "payment_required")


def test_refund_201_422_409(desk_client, ready):
    pid = _pay(desk_client, ready, method="cash").json()["id"]
    url = f"/api/v1/payments/{pid}/refund/"
    r = desk_client.post(url, {"amount": "700.00", "reason": "x"}, format="json")
    assert (r.status_code, r.json()["code"], r.json()["refundable"]) == (422, "refund_exceeds_paid", "659.00")
    r = desk_client.post(url, {"amount": "59.00"}, format="json")
    assert r.status_code == 400  # the reason is required
    r = desk_client.post(url, {"amount": "59.00", "reason": "goodwill"}, format="json")
    assert r.status_code == 201
    assert (r.json()["amount"], r.json()["status"]) == ("59.00", "succeeded")
    r = desk_client.post(url, {"reason": "the rest"}, format="json")
    assert (r.status_code, r.json()["amount"]) == (201, "600.00")
    r = desk_client.post(url, {"reason": "again"}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "payment_fully_refunded")
    assert Refund.objects.count() == 2
    assert desk_client.post("/api/v1/payments/999999/refund/", {"reason": "x"}, format="json").status_code == 404


def test_scope_and_centers(ready, staff_key_client, people):
    keyed = staff_key_client(people["desk"].user, scopes=["tickets:read"])
    r = _pay(keyed, ready, method="cash")
    assert r.status_code == 403
    keyed = staff_key_client(people["desk"].user, scopes=["payments:write"])
    assert _pay(keyed, ready, method="cash", amount="1.00").status_code == 201
    other = APIClient()
    other.force_authenticate(staff(ServiceCenterFactory(), "front_desk"))
    assert _pay(other, ready, method="cash").status_code == 404
    pid = Payment.objects.get().pk
    assert other.post(f"/api/v1/payments/{pid}/refund/", {"reason": "x"}, format="json").status_code == 404


def test_idempotency_key_replays_without_a_second_payment(ready, staff_key_client, people):
    keyed = staff_key_client(people["desk"].user, scopes=["payments:write"])
    key = str(uuid.uuid4())
    url = f"/api/v1/tickets/{ready.service_no}/payments/"
    first = keyed.post(url, {"method": "cash", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = keyed.post(url, {"method": "cash", "amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.count() == 1


def test_tracking_api_shows_the_amount_due_at_once(api_client, ready, people):
    from payments.services import payment_create

    url = f"/api/v1/track/{ready.service_no}/?phone_last4=5678"
    assert api_client.get(url).json()["amount_due"] == "659.00"
    payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount="600.00")
    assert api_client.get(url).json()["amount_due"] == "59.00"  # cached per version: the payment shows at once
