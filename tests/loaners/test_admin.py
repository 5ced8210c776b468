"""The staff UI: checkout, return with preview, receipt, cash report, pool actions — with the Django test client."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import include, path
from django.utils import timezone

from loaners import services
from loaners.models import DepositEntry, Loan, Loaner
from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import LoanerFactory, staff_at, standard_model, ticket

# The admin, plus the payments pages the deposit's receipt message links to.
urlpatterns = [path("admin/", admin.site.urls), path("", include("payments.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.loaners.test_admin")]

CHECKOUT = "/admin/loaners/loan/checkout/"


@pytest.fixture
def desk(client, center):
    client.force_login(staff_at(center))
    return client


def _loan(center, tier="flagship", method="cash"):
    return services.loan_checkout(ticket_id=ticket(center=center).pk, tier=tier, payment_method=method, actor=SYSTEM)


# --- checkout --------------------------------------------------------------------------------------


def test_checkout_page_shows_tiers_with_availability_and_deposit(desk, center, pool):
    t = ticket(center=center)
    r = desk.get(CHECKOUT, {"ticket": t.service_no})
    assert r.status_code == 200
    tiers = {row["value"]: (row["available"], row["terms"].deposit) for row in r.context["tiers"]}
    assert tiers == {"flagship": (2, Decimal("2000.00")), "standard": (1, Decimal("800.00"))}
    assert "¥2000.00" in r.content.decode()


def test_checkout_post_lends_and_redirects_to_the_loan(desk, center, pool):
    t = ticket(center=center)
    r = desk.post(
        CHECKOUT + f"?ticket={t.service_no}",
        {"tier": "standard", "payment_method": "wechat_pay", "reference": "WX-9", "terms_accepted": "on"},
    )
    loan = Loan.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/admin/loaners/loan/{loan.pk}/change/"
    assert (loan.tier, loan.payment_method, loan.payment_reference, loan.held) == (
        "standard",
        "wechat_pay",
        "WX-9",
        Decimal("800.00"),
    )
    assert loan.lent_by is not None


def test_checkout_requires_terms_acceptance(desk, center, pool):
    t = ticket(center=center)
    r = desk.post(CHECKOUT + f"?ticket={t.service_no}", {"tier": "flagship", "payment_method": "cash"})
    assert r.status_code == 200
    assert "terms_accepted" in r.context["form"].errors
    assert Loan.objects.count() == 0


def test_checkout_without_loaner_shows_nearby_centers_readably(desk, center):
    near = ServiceCenterFactory(code="SH077", name="徐汇服务中心", lat=31.19, lng=121.44)
    LoanerFactory(home_center=near, model=standard_model())
    t = ticket(center=center)
    r = desk.post(
        CHECKOUT + f"?ticket={t.service_no}", {"tier": "standard", "payment_method": "cash", "terms_accepted": "on"}
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert r.context["problem"].code == "no_loaner_available"
    assert 'id="nearby-centers"' in html and "SH077 徐汇服务中心" in html and " km</td>" in html
    assert Loan.objects.count() == 0


def test_checkout_other_centers_ticket_is_404(desk):
    other = ticket(center=ServiceCenterFactory(code="BJ010"))
    assert desk.get(CHECKOUT, {"ticket": other.service_no}).status_code == 404
    assert desk.get(CHECKOUT, {"ticket": "NOPE"}).status_code == 404


def test_checkout_delivered_ticket_shows_the_refusal(desk, center, pool):
    t = ticket(center=center, status="delivered")
    r = desk.post(
        CHECKOUT + f"?ticket={t.service_no}", {"tier": "flagship", "payment_method": "cash", "terms_accepted": "on"}
    )
    assert r.context["problem"].code == "invalid_transition"
    assert Loan.objects.count() == 0


# --- return ------------------------------------------------------------------------------------------


def _return_data(condition="damaged", rows=(("damage", "Cracked back", "300.00"),), **extra):
    data = {
        "condition": condition,
        "d-TOTAL_FORMS": "3",
        "d-INITIAL_FORMS": "0",
        "d-MIN_NUM_FORMS": "0",
        "d-MAX_NUM_FORMS": "20",
    }
    for i, (kind, reason, amount) in enumerate(rows):
        data.update({f"d-{i}-kind": kind, f"d-{i}-reason": reason, f"d-{i}-amount": amount})
    data.update(extra)
    return data


def test_return_preview_then_confirm_then_receipt(desk, center, pool):
    loan = _loan(center)
    url = f"/admin/loaners/loan/{loan.pk}/return/"
    assert desk.get(url).status_code == 200

    r = desk.post(url, _return_data(preview="1"))
    assert r.status_code == 200
    assert r.context["preview"].refund == Decimal("1700.00")
    assert '<span id="preview-refund">1700.00</span>' in r.content.decode()
    assert DepositEntry.objects.filter(loan=loan).count() == 1  # preview wrote nothing
    assert Loan.objects.get(pk=loan.pk).status == "out"

    r = desk.post(url, _return_data(confirm="1"))
    assert r.status_code == 302 and r["Location"] == f"/admin/loaners/loan/{loan.pk}/receipt/"
    loan.refresh_from_db()
    assert (loan.status, loan.refunded, loan.deducted) == ("returned", Decimal("1700.00"), Decimal("300.00"))

    html = desk.get(r["Location"]).content.decode()
    assert html.count("<tr><td>") == 3  # hold, deduction, refund
    assert "Cracked back" in html and "¥1700.00" in html and "¥300.00" in html


def test_return_form_rejects_deduction_without_reason(desk, center, pool):
    loan = _loan(center)
    r = desk.post(f"/admin/loaners/loan/{loan.pk}/return/", _return_data(rows=(("damage", "", "50"),), confirm="1"))
    assert r.status_code == 200
    assert r.context["formset"].forms[0].errors == {"reason": ["A deduction needs a reason."]}
    assert Loan.objects.get(pk=loan.pk).status == "out"


def test_return_of_returned_loan_shows_refusal(desk, center, pool):
    loan = _loan(center)
    services.loan_return(loan_id=loan.pk, condition="ok", deductions=[], actor=SYSTEM)
    r = desk.post(f"/admin/loaners/loan/{loan.pk}/return/", _return_data(confirm="1"))
    assert r.status_code == 200 and r.context["problem"].code == "invalid_transition"
    assert DepositEntry.objects.filter(loan=loan, kind="refund").count() == 1


def test_other_centers_loan_pages_are_404(desk, pool):
    other = ServiceCenterFactory(code="BJ011")
    LoanerFactory(home_center=other)
    loan = _loan(other)
    assert desk.get(f"/admin/loaners/loan/{loan.pk}/return/").status_code == 404
    assert desk.get(f"/admin/loaners/loan/{loan.pk}/receipt/").status_code == 404
    assert desk.get(f"/admin/loaners/loan/{loan.pk}/change/").status_code == 302  # admin: "doesn't exist" redirect


# --- cash report ---------------------------------------------------------------------------------------


def test_cash_report_per_center_and_payment_method(desk, center):
    for _ in range(3):
        LoanerFactory(home_center=center)
    a = _loan(center, method="cash")
    b = _loan(center, method="wechat_pay")
    _loan(center, method="wechat_pay")
    services.loan_return(loan_id=a.pk, condition="ok", deductions=[], actor=SYSTEM)
    services.loan_return(
        loan_id=b.pk, condition="damaged", deductions=[{"reason": "Dent", "amount": "2100"}], actor=SYSTEM
    )
    other = ServiceCenterFactory(code="BJ012")
    LoanerFactory(home_center=other)
    _loan(other)

    r = desk.get("/admin/loaners/loan/cash-report/", {"day": timezone.localdate().isoformat()})
    assert r.status_code == 200
    rows = r.context["rows"]
    assert [row["center"].code for row in rows] == ["SH001"]  # not the other center
    row = rows[0]
    assert row["taken"]["cash"] == Decimal("2000.00") and row["taken"]["wechat_pay"] == Decimal("4000.00")
    assert row["taken"]["total"] == Decimal("6000.00")
    assert row["refunded"]["cash"] == Decimal("2000.00") and row["refunded"]["total"] == Decimal("2000.00")
    assert row["deducted"]["wechat_pay"] == Decimal("2000.00")  # taken from the deposit
    assert row["balance_due_created"] == Decimal("100.00")
    assert row["held"] == Decimal("2000.00")  # the third loan's deposit
    assert 'data-center="SH001"' in r.content.decode()


def test_cash_report_previous_day_has_no_rows_and_held_carries_over(desk, center, pool):
    loan = _loan(center)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert desk.get("/admin/loaners/loan/cash-report/", {"day": yesterday.isoformat()}).context["rows"] == []
    rows = desk.get("/admin/loaners/loan/cash-report/", {"day": tomorrow.isoformat()}).context["rows"]
    assert [(r["center"].code, r["taken"]["total"], r["held"]) for r in rows] == [("SH001", Decimal("0.00"), loan.held)]


# --- pool -------------------------------------------------------------------------------------------------


def test_pool_changelist_is_scoped_and_wipe_action_records(desk, center, pool):
    other = ServiceCenterFactory(code="BJ013")
    foreign = LoanerFactory(home_center=other)
    dirty = LoanerFactory(home_center=center, needs_wipe=True, last_wiped_at=None)

    r = desk.get("/admin/loaners/loaner/")
    assert r.status_code == 200
    shown = {o.pk for o in r.context["cl"].result_list}
    assert dirty.pk in shown and foreign.pk not in shown
    assert desk.get("/admin/loaners/loaner/?tier=standard").context["cl"].result_count == 1

    r = desk.post("/admin/loaners/loaner/", {"action": "wipe", "_selected_action": [dirty.pk, foreign.pk]})
    assert r.status_code == 302
    dirty.refresh_from_db()
    foreign.refresh_from_db()
    assert (dirty.needs_wipe, dirty.last_wiped_at is not None) == (False, True)
    assert foreign.needs_wipe is False and foreign.events.count() == 0  # not in the staff's queryset: untouched


def test_transfer_actions(client, center, pool):
    other = ServiceCenterFactory(code="SH099")
    user = staff_at(center)
    from centers.models import StaffMembership

    StaffMembership.objects.create(user=user, center=other, role="front_desk")
    client.force_login(user)
    loaner = pool["flagship"][0]
    client.post(
        "/admin/loaners/loaner/", {"action": "transfer_send", "to_center": "SH099", "_selected_action": [loaner.pk]}
    )
    assert Loaner.objects.get(pk=loaner.pk).status == "transferring"
    client.post("/admin/loaners/loaner/", {"action": "transfer_receive", "_selected_action": [loaner.pk]})
    loaner.refresh_from_db()
    assert (loaner.status, loaner.current_center_id) == ("available", other.pk)
    client.post("/admin/loaners/loaner/", {"action": "retire", "_selected_action": [loaner.pk]})
    assert Loaner.objects.get(pk=loaner.pk).status == "retired"


def test_loan_change_page_shows_ledger_read_only(admin_client, center, pool):
    loan = _loan(center)
    r = admin_client.get(f"/admin/loaners/loan/{loan.pk}/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert f"/admin/loaners/loan/{loan.pk}/return/" in html
    assert "2000.00" in html
    assert admin_client.get("/admin/loaners/loan/add/").status_code == 403
