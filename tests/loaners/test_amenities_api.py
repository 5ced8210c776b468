"""The amenity loans API (issue #22): lend, take back (also at another center), list; problem codes, scopes, BOLA
and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from loaners import services
from loaners.models import Amenity, AmenityLoan
from payments.models import LedgerEntry, Payment, Refund
from payments.selectors import subject_balance

from .amenity_fixtures import PHONE

pytestmark = pytest.mark.django_db
URL = "/api/v1/amenity-loans/"
BODY = {
    "center": "SC-AM1",
    "kind": "umbrella",
    "borrower_name": "王阿姨",
    "borrower_phone": PHONE,
    "payment_method": "cash",
}


@pytest.fixture
def api(staff_key_client, desks):
    def make(user="desk", scopes=("visits:write", "visits:read")):
        return staff_key_client(desks["users"][user], scopes=list(scopes))

    return make


def test_lend_takes_the_deposit_with_a_receipt_and_return_gives_it_back(api, desks):
    desk = api()
    created = desk.post(URL, BODY, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["status"], data["kind"], data["deposit"], data["payment_method"]) == (
        "out",
        "umbrella",
        "20.00",
        "cash",
    )
    assert (data["borrower_phone_last4"], data["center"], data["overdue"]) == ("5678", "SC-AM1", False)
    assert "borrower_phone" not in data
    payment = Payment.objects.get(amenity_loan_id=data["id"])
    assert data["receipt_no"] == payment.receipt_no != ""
    back = desk.post(f"{URL}{data['id']}/return/", {}, format="json")
    assert back.status_code == 200, back.content
    assert (back.json()["status"], back.json()["refunded"], back.json()["returned_at_center"]) == (
        "returned",
        "20.00",
        "SC-AM1",
    )
    assert subject_balance(amenity_loan_id=data["id"]).amount_paid == 0
    again = desk.post(f"{URL}{data['id']}/return/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert Refund.objects.count() == 1


def test_problem_codes_and_nothing_half_written(api, desks):
    desk = api()
    no_method = desk.post(URL, {**BODY, "payment_method": ""}, format="json")
    assert (no_method.status_code, no_method.json()["code"], no_method.json()["errors"]) == (
        400,
        "validation_error",
        {"payment_method": [no_method.json()["detail"]]},
    )
    bad_phone = desk.post(URL, {**BODY, "borrower_phone": "12"}, format="json")
    assert (bad_phone.status_code, bad_phone.json()["code"]) == (400, "validation_error")
    bad_kind = desk.post(URL, {**BODY, "kind": "bicycle"}, format="json")
    assert (bad_kind.status_code, bad_kind.json()["code"]) == (400, "validation_error")
    none_here = desk.post(URL, {**BODY, "kind": "reading_glasses"}, format="json")
    assert (none_here.status_code, none_here.json()["code"]) == (404, "not_found")
    Amenity.objects.filter(pk=desks["umbrella"].pk).update(on_hand=0)
    empty = desk.post(URL, BODY, format="json")
    assert (empty.status_code, empty.json()["code"], empty.json()["on_hand"]) == (409, "amenity_unavailable", 0)
    assert not AmenityLoan.objects.exists() and not LedgerEntry.objects.exists()
    Amenity.objects.filter(pk=desks["umbrella"].pk).update(on_hand=5)
    first = desk.post(URL, BODY, format="json").json()
    twice = desk.post(URL, {**BODY, "borrower_phone": "+86 13812345678"}, format="json")
    assert (twice.status_code, twice.json()["code"], twice.json()["loan_id"]) == (
        409,
        "amenity_loan_exists",
        first["id"],
    )
    assert Payment.objects.count() == 1


def test_scopes_and_roles(api, desks):
    read_only = api(scopes=["visits:read"])
    assert read_only.post(URL, BODY, format="json").status_code == 403
    write_only = api(scopes=["visits:write"])
    assert write_only.get(URL).status_code == 403
    eng = api("eng")
    response = eng.post(URL, BODY, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert not AmenityLoan.objects.exists()


def test_another_centers_staff_cannot_see_or_return_a_loan(api, desks):
    """BOLA: B's desk knows (or guesses) the id of A's loan. It is absent from B's list and B cannot take it back
    unless the borrower is there and tells B their phone number -- then it counts back at B."""
    loan_id = api().post(URL, BODY, format="json").json()["id"]
    other = api("desk_b")
    assert other.get(URL).json()["count"] == 0
    assert other.get(URL, {"center": "SC-AM1"}).json()["count"] == 0
    for body in ({}, {"center": "SC-AM2"}, {"center": "SC-AM2", "borrower_phone": "13900000000"}, {"center": "SC-AM1"}):
        response = other.post(f"{URL}{loan_id}/return/", body, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), body
    assert AmenityLoan.objects.get(pk=loan_id).status == "out" and not Refund.objects.exists()
    back = other.post(f"{URL}{loan_id}/return/", {"center": "SC-AM2", "borrower_phone": PHONE}, format="json")
    assert back.status_code == 200, back.content
    assert (back.json()["returned_at_center"], back.json()["refunded"]) == ("SC-AM2", "20.00")
    assert Amenity.objects.get(pk=desks["umbrella_b"].pk).on_hand == 2
    assert other.get(URL).json()["count"] == 1  # brought back there: B's desk sees it now
    assert api().post(f"{URL}999999/return/", {}, format="json").status_code == 404


def test_mark_lost_keeps_the_deposit_and_only_the_lending_desk_may(api, desks):
    loan_id = api().post(URL, BODY, format="json").json()["id"]
    other = api("desk_b")
    refused = other.post(f"{URL}{loan_id}/lost/", {"note": "guess"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert AmenityLoan.objects.get(pk=loan_id).status == "out"
    lost = api().post(f"{URL}{loan_id}/lost/", {"note": "仍未归还"}, format="json")
    assert lost.status_code == 200, lost.content
    assert (lost.json()["status"], lost.json()["refunded"]) == ("lost", "0.00")
    loan = AmenityLoan.objects.get(pk=loan_id)
    assert (loan.status, loan.note) == ("lost", "仍未归还") and loan.lost_at is not None
    assert not Refund.objects.exists()
    assert subject_balance(amenity_loan_id=loan_id).amount_paid == 20  # kept
    again = api().post(f"{URL}{loan_id}/lost/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    back = api().post(f"{URL}{loan_id}/return/", {}, format="json")
    assert (back.status_code, back.json()["code"]) == (409, "invalid_transition")


def _lend(desks, amenity, phone):
    return services.amenity_lend(
        amenity_id=desks[amenity].pk,
        borrower_name="客人",
        borrower_phone=phone,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )


def test_list_filters_and_fixed_query_count(api, desks):
    reader = api()
    _lend(desks, "umbrella", "13800000001")

    def n_queries(params=None):
        with CaptureQueriesContext(connection) as ctx:
            response = reader.get(URL, params or {})
            assert response.status_code == 200
        return len(ctx.captured_queries), response.json()

    n_queries()  # the key's first use is recorded once
    one, data = n_queries()
    assert data["count"] == 1
    for n in range(4):
        _lend(desks, "umbrella", f"1380000001{n}")
    _lend(desks, "power_bank", "13800000020")
    _lend(desks, "power_bank", "13800000021")
    many, data = n_queries()
    assert data["count"] == 7
    assert many == one <= 8
    _n, banks = n_queries({"kind": "power_bank"})
    assert banks["count"] == 2
    _n, late = n_queries({"overdue": "true"})
    assert late["count"] == 0
    AmenityLoan.objects.filter(kind="power_bank").update(
        lent_at=F("lent_at") - timedelta(days=2), due_back_at=F("lent_at") - timedelta(days=1)
    )
    _n, late = n_queries({"overdue": "true"})
    assert late["count"] == 2 and all(r["overdue"] for r in late["results"])
    _n, still = n_queries({"overdue": "false", "status": "out"})
    assert still["count"] == 5
