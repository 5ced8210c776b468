"""三包 over the API: inspection and decision, problem details with stable codes, fixed query counts."""

import pytest
from rest_framework.test import APIClient

from tests.factories.warranty import make_imei, shanghai

pytestmark = pytest.mark.django_db

SOLD = shanghai(2026, 3, 1, 23, 59)


def client_for(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_inspect_then_exchange_then_read(shop, claim, django_assert_max_num_queries):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 6, 9, 0))
    base = f"/api/v1/tickets/{ticket.service_no}"
    eng, desk = client_for(shop["users"]["eng"]), client_for(shop["users"]["desk"])
    r = eng.post(f"{base}/inspection/", {"performance_fault": True, "findings": "Reboots."}, format="json")
    assert r.status_code == 201 and r.json()["performance_fault"] is True
    imei = make_imei()
    r = desk.post(
        f"{base}/return-decision/",
        {"kind": "exchange", "reason": "顾客要求", "replacement_imei": imei},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["day"], body["window_days"], body["replacement_imei"]) == ("exchange", 5, 15, imei)
    with django_assert_max_num_queries(8):
        r = desk.get(f"{base}/return-decision/")
    assert r.json()["rule"] == "exchange_within_days"


def test_errors_are_problem_details_with_codes(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 20, 9, 0))
    base = f"/api/v1/tickets/{ticket.service_no}"
    desk = client_for(shop["users"]["desk"])
    r = desk.post(f"{base}/return-decision/", {"kind": "return", "reason": "x", "refund_amount": "1"}, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "inspection_required")
    client_for(shop["users"]["eng"]).post(
        f"{base}/inspection/", {"performance_fault": True, "findings": "Dead."}, format="json"
    )
    r = desk.post(f"{base}/return-decision/", {"kind": "return", "reason": "x", "refund_amount": "1"}, format="json")
    assert r.status_code == 422 and r.json()["code"] == "window_passed" and r.json()["day"] == 19
    assert r["Content-Type"].startswith("application/problem+json")
    r = desk.get(f"{base}/return-decision/")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = desk.post("/api/v1/tickets/NOPE/return-decision/", {"kind": "repair", "reason": "x"}, format="json")
    assert r.status_code == 404
