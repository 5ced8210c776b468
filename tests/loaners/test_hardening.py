"""Deductions that add up past what a money column holds are a 400 / a form error, never a 500."""

from decimal import Decimal

import pytest
from django.utils import timezone

from loaners import selectors, services
from loaners.models import DepositEntry, Loan
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from tests.factories.loaners import staff_at, ticket

pytestmark = pytest.mark.django_db

# Each amount is valid (max_digits=10); two of them are 1e8 or more.
BIG = "60000000.00"


def _loan(center):
    return services.loan_checkout(
        ticket_id=ticket(center=center).pk, tier="flagship", payment_method="cash", actor=SYSTEM
    )


def _two_big():
    return [{"reason": "Frame", "amount": BIG}, {"reason": "Board", "amount": BIG}]


@pytest.mark.parametrize("endpoint", ["return", "return-preview"])
def test_api_deductions_total_out_of_range_is_400(key_client, center, pool, endpoint):
    client = key_client(scopes=["loans:write"], centers=[center])
    loan = _loan(center)
    r = client.post(
        f"/api/v1/loans/{loan.pk}/{endpoint}/", {"condition": "damaged", "deductions": _two_big()}, format="json"
    )
    assert r.status_code == 400, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["deductions"]
    loan.refresh_from_db()
    assert (loan.status, loan.entries.count()) == ("out", 1)


def test_api_full_width_digits_in_amount_are_400(key_client, center, pool):
    client = key_client(scopes=["loans:write"], centers=[center])
    loan = _loan(center)
    r = client.post(
        f"/api/v1/loans/{loan.pk}/return-preview/",
        {"condition": "damaged", "deductions": [{"reason": "Dent", "amount": "１２９"}]},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "validation_error"
    assert list(r.json()["errors"]) == ["deductions.0.amount"]


def test_service_refuses_total_out_of_range_even_without_the_serializer(center, pool):
    loan = _loan(center)
    with pytest.raises(DomainError) as exc:
        services.loan_return(loan_id=loan.pk, condition="damaged", deductions=_two_big(), actor=SYSTEM)
    assert (exc.value.code, exc.value.status, exc.value.field) == ("validation_error", 400, "deductions")
    with pytest.raises(DomainError):
        selectors.loan_return_preview(loan_id=loan.pk, condition="damaged", deductions=_two_big())
    assert Loan.objects.get(pk=loan.pk).status == "out"
    assert DepositEntry.objects.filter(loan=loan).count() == 1


def test_service_counts_the_late_fee_in_the_total(center, pool):
    loan = _loan(center)
    # 99,999,999.00 by hand plus any late fee would overflow; on time, it fits exactly under the cap.
    settlement = selectors.loan_settlement(
        loan=loan, condition="damaged", deductions=[{"reason": "Frame", "amount": "99999999.99"}], at=timezone.now()
    )
    assert settlement.deducted == Decimal("99999999.99")


def _form(rows, **extra):
    data = {
        "condition": "damaged",
        "d-TOTAL_FORMS": "3",
        "d-INITIAL_FORMS": "0",
        "d-MIN_NUM_FORMS": "0",
        "d-MAX_NUM_FORMS": "20",
    }
    for i, (reason, amount) in enumerate(rows):
        data.update({f"d-{i}-kind": "damage", f"d-{i}-reason": reason, f"d-{i}-amount": amount})
    data.update(extra)
    return data


@pytest.mark.parametrize("button", ["preview", "confirm"])
def test_admin_return_form_total_out_of_range_shows_error(client, center, pool, button):
    client.force_login(staff_at(center))
    loan = _loan(center)
    r = client.post(f"/admin/loaners/loan/{loan.pk}/return/", _form([("Frame", BIG), ("Board", BIG)], **{button: "1"}))
    assert r.status_code == 200
    assert r.context["formset"].non_form_errors() == [
        "These deductions add up to 120000000.00; the most one return can deduct is 99999999.99."
    ]
    assert "These deductions add up to" in r.content.decode()
    assert r.context["preview"] is None
    assert Loan.objects.get(pk=loan.pk).status == "out"


def test_admin_return_form_refuses_full_width_digits(client, center, pool):
    client.force_login(staff_at(center))
    loan = _loan(center)
    r = client.post(f"/admin/loaners/loan/{loan.pk}/return/", _form([("Dent", "１２９")], preview="1"))
    assert r.status_code == 200
    assert r.context["formset"].forms[0].errors == {"amount": ["Enter a number."]}
    assert r.context["preview"] is None
