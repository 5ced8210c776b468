"""/api/v1/loans/ and /api/v1/loaners/availability/ as docs/api-contract.md describes them."""

import datetime as dt

import pytest
from django.urls import include, path
from django.utils import timezone
from drf_spectacular.views import SpectacularAPIView

from loaners import services
from loaners.models import DepositEntry, Loan, Loaner
from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory, staff_at, standard_model, ticket

# A urlconf with only this app's API and the schema, so the tests do not depend on other apps' URLs --
# plus the payments pages: a deposit is paid through payments, and its receipt message links to them.
urlpatterns = [
    path("api/v1/", include("loaners.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include("payments.urls")),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.loaners.test_api")]


@pytest.fixture
def client_at(key_client, center):
    return key_client(scopes=["loans:write"], centers=[center])


def problem(r, status, code):
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code
    return body


def post_loan(client, t, tier="flagship", **extra):
    return client.post(
        "/api/v1/loans/", {"ticket": t.service_no, "tier": tier, "payment_method": "alipay", **extra}, format="json"
    )


# --- create -----------------------------------------------------------------------------------


def test_create_loan_201_shape(client_at, center, pool):
    t = ticket(center=center, promised_at=timezone.now() + dt.timedelta(days=2))
    r = post_loan(client_at, t, reference="ALI-123")

    assert r.status_code == 201, r.content
    body = r.json()
    loan = Loan.objects.get()
    loaner = pool["flagship"][0]
    assert body["id"] == loan.pk
    assert body["loaner"] == {"imei": loaner.imei, "model": "Mate Loaner", "tier": "flagship"}
    assert body["deposit"] == "2000.00"
    assert body["status"] == "out"
    assert body["ticket"] == t.service_no and body["center"] == "SH001"
    assert body["due_at"].endswith("+08:00")
    assert dt.datetime.fromisoformat(body["due_at"]) == loan.due_at
    assert loan.payment_reference == "ALI-123"


def test_create_without_loaner_409_with_nearby_centers(client_at, center):
    near = ServiceCenterFactory(code="SH050", lat=31.25, lng=121.5)
    LoanerFactory(home_center=near, model=standard_model())
    body = problem(post_loan(client_at, ticket(center=center), tier="standard"), 409, "no_loaner_available")
    assert body["nearby_centers"] == [
        {"code": "SH050", "name": near.name, "distance_km": body["nearby_centers"][0]["distance_km"], "available": 1}
    ]
    assert body["tier"] == "standard" and body["center"] == "SH001"


def test_second_loan_409_loan_exists(client_at, center, pool):
    t = ticket(center=center)
    assert post_loan(client_at, t).status_code == 201
    problem(post_loan(client_at, t, tier="standard"), 409, "loan_exists")
    assert Loan.objects.count() == 1


@pytest.mark.parametrize("status", ["booked", "delivered", "closed", "cancelled"])
def test_loan_for_ticket_not_in_repair_409_invalid_transition(client_at, center, pool, status):
    problem(post_loan(client_at, ticket(center=center, status=status)), 409, "invalid_transition")
    assert Loan.objects.count() == 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({"tier": "flagship", "payment_method": "cash"}, "ticket"),
        ({"ticket": "X", "tier": "gold", "payment_method": "cash"}, "tier"),
        ({"ticket": "X", "tier": "flagship", "payment_method": "paypal"}, "payment_method"),
    ],
)
def test_create_validation_errors(client_at, body, field):
    body = problem(client_at.post("/api/v1/loans/", body, format="json"), 400, "validation_error")
    assert field in body["errors"]


def test_create_missing_payment_method_when_deposit_due_is_400(client_at, center, pool):
    t = ticket(center=center)
    r = client_at.post("/api/v1/loans/", {"ticket": t.service_no, "tier": "flagship"}, format="json")
    assert problem(r, 400, "validation_error")["errors"] == {"payment_method": ["Choose how the deposit is paid."]}


def test_create_for_other_centers_or_unknown_ticket_is_404(client_at, pool):
    other = ServiceCenterFactory(code="BJ001")
    LoanerFactory(home_center=other)
    problem(post_loan(client_at, ticket(center=other)), 404, "not_found")
    problem(
        client_at.post(
            "/api/v1/loans/", {"ticket": "NOPE", "tier": "flagship", "payment_method": "cash"}, format="json"
        ),
        404,
        "not_found",
    )
    assert Loan.objects.count() == 0


def test_scope_and_auth(key_client, api_client, center, pool):
    t = ticket(center=center)
    problem(post_loan(key_client(scopes=["tickets:read"], centers=[center]), t), 403, "permission_denied")
    problem(post_loan(api_client, t), 401, "not_authenticated")
    problem(key_client(scopes=["tickets:write"], centers=[center]).get("/api/v1/loans/"), 403, "permission_denied")


def test_staff_key_acts_for_the_staff_members_centers(staff_key_client, center, pool):
    client = staff_key_client(staff_at(center))
    assert post_loan(client, ticket(center=center)).status_code == 201
    other = ServiceCenterFactory(code="GZ001")
    LoanerFactory(home_center=other)
    problem(post_loan(client, ticket(center=other)), 404, "not_found")


# --- return -------------------------------------------------------------------------------------


def _loan(center, tier="flagship"):
    return services.loan_checkout(ticket_id=ticket(center=center).pk, tier=tier, payment_method="card", actor=SYSTEM)


def test_return_200(client_at, center, pool):
    loan = _loan(center)
    r = client_at.post(
        f"/api/v1/loans/{loan.pk}/return/",
        {"condition": "damaged", "deductions": [{"reason": "Scratch on the back", "amount": "250.00"}]},
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert {k: body[k] for k in ("status", "refund", "deducted", "balance_due")} == {
        "status": "returned",
        "refund": "1750.00",
        "deducted": "250.00",
        "balance_due": "0.00",
    }
    assert [e["kind"] for e in body["entries"]] == ["hold", "deduction", "refund"]
    assert Loaner.objects.get(pk=loan.loaner_id).status == "maintenance"


def test_return_twice_409(client_at, center, pool):
    loan = _loan(center)
    assert client_at.post(f"/api/v1/loans/{loan.pk}/return/", {"condition": "ok"}, format="json").status_code == 200
    problem(
        client_at.post(f"/api/v1/loans/{loan.pk}/return/", {"condition": "ok"}, format="json"),
        409,
        "invalid_transition",
    )
    assert DepositEntry.objects.filter(loan=loan, kind="refund").count() == 1


@pytest.mark.parametrize(
    "deduction,field",
    [
        ({"amount": "10.00"}, "deductions.0.reason"),
        ({"reason": "", "amount": "10.00"}, "deductions.0.reason"),
        ({"reason": "Dent", "amount": "-10.00"}, "deductions.0.amount"),
        ({"reason": "Dent", "amount": "ten"}, "deductions.0.amount"),
    ],
)
def test_return_bad_deduction_400_and_nothing_written(client_at, center, pool, deduction, field):
    loan = _loan(center)
    r = client_at.post(
        f"/api/v1/loans/{loan.pk}/return/", {"condition": "damaged", "deductions": [deduction]}, format="json"
    )
    assert field in problem(r, 400, "validation_error")["errors"]
    loan.refresh_from_db()
    assert (loan.status, loan.entries.count()) == ("out", 1)


def test_return_other_centers_loan_404(client_at, pool):
    other = ServiceCenterFactory(code="BJ002")
    LoanerFactory(home_center=other)
    loan = _loan(other)
    problem(client_at.post(f"/api/v1/loans/{loan.pk}/return/", {"condition": "ok"}, format="json"), 404, "not_found")
    problem(client_at.post("/api/v1/loans/999999/return/", {"condition": "ok"}, format="json"), 404, "not_found")


def test_return_preview_writes_nothing(client_at, center, pool):
    loan = _loan(center, tier="standard")
    r = client_at.post(
        f"/api/v1/loans/{loan.pk}/return-preview/",
        {"condition": "damaged", "deductions": [{"reason": "Screen", "amount": "900"}]},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert {k: r.json()[k] for k in ("held", "deducted", "refund", "balance_due")} == {
        "held": "800.00",
        "deducted": "900.00",
        "refund": "0.00",
        "balance_due": "100.00",
    }
    assert DepositEntry.objects.filter(loan=loan).count() == 1


# --- list / detail / availability ------------------------------------------------------------------


def test_list_is_scoped_filtered_and_query_bounded(client_at, center, django_assert_max_num_queries):
    for _ in range(4):
        LoanerFactory(home_center=center)
    loans = [_loan(center) for _ in range(3)]
    services.loan_return(loan_id=loans[0].pk, condition="ok", deductions=[], actor=SYSTEM)
    Loan.objects.filter(pk=loans[1].pk).update(status="overdue")
    other = ServiceCenterFactory(code="BJ003")
    LoanerFactory(home_center=other)
    _loan(other)

    with django_assert_max_num_queries(8):
        r = client_at.get("/api/v1/loans/")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert [x["id"] for x in body["results"]] == [loans[2].pk, loans[1].pk, loans[0].pk]
    assert set(body) == {"count", "next", "previous", "results"}

    assert [x["id"] for x in client_at.get("/api/v1/loans/?status=returned").json()["results"]] == [loans[0].pk]
    assert [x["id"] for x in client_at.get("/api/v1/loans/?overdue=true").json()["results"]] == [loans[1].pk]
    assert [x["id"] for x in client_at.get("/api/v1/loans/?overdue=false").json()["results"]] == [
        loans[2].pk,
        loans[0].pk,
    ]
    assert client_at.get("/api/v1/loans/?center=BJ003").json()["count"] == 0
    assert client_at.get("/api/v1/loans/?center=SH001").json()["count"] == 3
    problem(client_at.get("/api/v1/loans/?status=lent"), 400, "validation_error")


def test_list_query_count_does_not_grow_with_rows(client_at, center, django_assert_max_num_queries):
    for _ in range(12):
        LoanerFactory(home_center=center)
    for _ in range(12):
        _loan(center)
    with django_assert_max_num_queries(8):
        assert client_at.get("/api/v1/loans/?page_size=100").json()["count"] == 12


def test_detail_with_ledger(client_at, center, pool, django_assert_max_num_queries):
    loan = _loan(center)
    services.loan_return(
        loan_id=loan.pk, condition="damaged", deductions=[{"reason": "Dent", "amount": "100"}], actor=SYSTEM
    )
    with django_assert_max_num_queries(8):
        r = client_at.get(f"/api/v1/loans/{loan.pk}/")
    assert r.status_code == 200
    body = r.json()
    assert [(e["seq"], e["kind"], e["amount"], e["reason"]) for e in body["entries"]] == [
        (1, "hold", "2000.00", ""),
        (2, "deduction", "100.00", "Dent"),
        (3, "refund", "1900.00", ""),
    ]
    assert body["condition_in"] == "damaged" and body["refunded"] == "1900.00"


def test_detail_of_other_centers_loan_404(client_at, pool):
    other = ServiceCenterFactory(code="BJ004")
    LoanerFactory(home_center=other)
    problem(client_at.get(f"/api/v1/loans/{_loan(other).pk}/"), 404, "not_found")


def test_availability(client_at, center, pool, django_assert_max_num_queries):
    LoanerFactory(home_center=center, needs_wipe=True)
    LoanerFactory(home_center=center, status="maintenance")
    with django_assert_max_num_queries(6):
        r = client_at.get("/api/v1/loaners/availability/?center=SH001")
    assert r.json() == {"center": "SH001", "tiers": {"flagship": 2, "standard": 1}}
    problem(client_at.get("/api/v1/loaners/availability/"), 400, "validation_error")
    other = ServiceCenterFactory(code="BJ005")
    problem(client_at.get(f"/api/v1/loaners/availability/?center={other.code}"), 404, "not_found")


# --- schema ---------------------------------------------------------------------------------------


def test_schema_documents_loan_endpoints_and_errors(api_client):
    r = api_client.get("/api/schema/?format=json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    create = paths["/api/v1/loans/"]["post"]
    assert {"201", "400", "404", "409"} <= set(create["responses"])
    assert "no_loaner_available" in create["responses"]["409"]["description"]
    assert "application/problem+json" in create["responses"]["409"]["content"]
    assert {"200", "400", "404", "409"} <= set(paths["/api/v1/loans/{id}/return/"]["post"]["responses"])
    assert {p["name"] for p in paths["/api/v1/loans/"]["get"]["parameters"]} >= {
        "status",
        "center",
        "overdue",
        "page",
        "page_size",
    }
    assert "/api/v1/loans/{id}/" in paths and "/api/v1/loaners/availability/" in paths
