"""The fapiao API, the customer's fapiao page, the workspace box, the daily-close page and the HQ revenue
dashboard with the test client: answers, problem codes, who may see what, and fixed query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounting import services
from accounting.models import DailyClose, FapiaoRequest
from servicehub.actors import SYSTEM
from tests.factories.payments import pay, refund
from tests.factories.repairs import walk_in

from .conftest import BAD_CHECKSUM_USCC, VALID_USCC

pytestmark = pytest.mark.django_db


def login(user):
    c = Client()
    c.force_login(user)
    return c


def api_url(ticket):
    return f"/api/v1/tickets/{ticket.service_no}/fapiao/"


# --- API --------------------------------------------------------------------------------------------------


@pytest.fixture
def key(key_client, center):
    return key_client(scopes=["tickets:read", "payments:write"], centers=[center])


def test_api_post_then_get_the_issued_fapiao(key, ticket, django_assert_max_num_queries):
    pay(ticket, "259.00", "card")
    r = key.post(
        api_url(ticket),
        {"buyer_type": "company", "title": "上海某某科技有限公司", "tax_number": VALID_USCC},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["amount"], body["service_no"], body["requested_via"]) == (
        "issued",
        "259.00",
        ticket.service_no,
        "api",
    )
    assert body["invoice_number"].startswith("SBX") and body["pdf_url"]
    key.get(api_url(ticket))
    with django_assert_max_num_queries(5):
        again = key.get(api_url(ticket))
    assert again.status_code == 200 and again.json()["invoice_number"] == body["invoice_number"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"buyer_type": "company", "title": "某公司"}, 422, "invalid_tax_number"),
        ({"buyer_type": "company", "title": "某公司", "tax_number": BAD_CHECKSUM_USCC}, 422, "invalid_tax_number"),
        ({"buyer_type": "nobody", "title": "某公司"}, 400, "validation_error"),
    ],
)
def test_api_bad_input_answers_problem_details(key, ticket, body, status, code):
    pay(ticket, "10.00")
    r = key.post(api_url(ticket), body, format="json")
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert r["Content-Type"].startswith("application/problem+json")
    assert not FapiaoRequest.objects.exists()


def test_api_nothing_to_invoice_and_fapiao_exists_are_409(key, ticket):
    body = {"buyer_type": "person", "title": "王小明"}
    r = key.post(api_url(ticket), body, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "nothing_to_invoice")
    pay(ticket, "10.00")
    assert key.post(api_url(ticket), body, format="json").status_code == 201
    r = key.post(api_url(ticket), body, format="json")
    assert (r.status_code, r.json()["code"]) == (409, "fapiao_exists")


def test_api_scopes_and_other_centers(key_client, ticket, center, other_center):
    pay(ticket, "10.00")
    body = {"buyer_type": "person", "title": "王小明"}
    read_only = key_client(scopes=["tickets:read"], centers=[center])
    assert read_only.post(api_url(ticket), body, format="json").status_code == 403
    assert read_only.get(api_url(ticket)).json()["code"] == "not_found"  # nothing requested yet
    stranger = key_client(scopes=["tickets:read", "payments:write"], centers=[other_center])
    r = stranger.post(api_url(ticket), body, format="json")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert not FapiaoRequest.objects.exists()


# --- the customer's page -----------------------------------------------------------------------------------


def test_the_customer_requests_a_fapiao_after_the_phone_digits(client, ticket, django_assert_max_num_queries):
    pay(ticket, "129.00", "wechat_pay")
    url = reverse("accounting:track-fapiao", args=[ticket.service_no])
    assert client.get(url).status_code == 404  # no digits, not signed in
    assert client.get(url + "?phone_last4=0000").status_code == 404
    client.get(url + "?phone_last4=5678")
    with django_assert_max_num_queries(6):
        r = client.get(url + "?phone_last4=5678")
    assert r.status_code == 200 and 'id="fapiao-form"' in r.content.decode() and "129.00" in r.content.decode()
    bad = client.post(url, {"phone_last4": "5678", "buyer_type": "company", "title": "某公司", "tax_number": "123"})
    assert bad.status_code == 400 and "unified social credit code" in bad.content.decode()
    none = client.post(url, {"phone_last4": "5678", "buyer_type": "company", "title": "某公司"})
    assert none.status_code == 400 and "needs the company&#x27;s tax number" in none.content.decode()
    ok = client.post(url, {"phone_last4": "5678", "buyer_type": "person", "title": "王小明", "email": ""})
    assert ok.status_code == 200 and 'id="fapiao-number"' in ok.content.decode()
    fapiao = FapiaoRequest.objects.get()
    assert (fapiao.status, fapiao.requested_via, fapiao.amount) == ("issued", "tracking", Decimal("129.00"))


def test_the_tracking_page_links_to_the_fapiao_page(client, ticket):
    r = client.get(reverse("repairs:track-detail", args=[ticket.service_no]) + "?phone_last4=5678")
    assert reverse("accounting:track-fapiao", args=[ticket.service_no]) + "?phone_last4=5678" in r.content.decode()


def test_the_page_says_nothing_to_invoice_when_nothing_was_paid(client, ticket):
    p = pay(ticket, "50.00")
    refund(p, "50.00")
    r = client.get(reverse("accounting:track-fapiao", args=[ticket.service_no]) + "?phone_last4=5678")
    assert 'id="fapiao-nothing"' in r.content.decode() and 'id="fapiao-form"' not in r.content.decode()


# --- the workspace box -------------------------------------------------------------------------------------


def test_the_desk_requests_from_the_workspace_box_and_sees_the_status(users, ticket):
    c = login(users["desk"])
    page = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
    assert "Nothing paid yet" in c.get(page).content.decode()
    pay(ticket, "88.00")
    assert 'id="fapiao-desk-form"' in c.get(page).content.decode()
    r = c.post(
        reverse("admin:accounting_fapiaorequest_desk", args=[ticket.pk]),
        {"buyer_type": "company", "title": "某公司", "tax_number": BAD_CHECKSUM_USCC},
        follow=True,
    )
    assert "unified social credit code" in r.content.decode()
    r = c.post(
        reverse("admin:accounting_fapiaorequest_desk", args=[ticket.pk]),
        {"buyer_type": "company", "title": "某公司", "tax_number": VALID_USCC},
        follow=True,
    )
    html = r.content.decode()
    fapiao = FapiaoRequest.objects.get()
    assert fapiao.requested_via == "desk" and fapiao.invoice_number in html and 'id="fapiao-state"' in html


def test_the_engineer_cannot_request_from_the_desk_url(users, ticket):
    pay(ticket, "88.00")
    r = login(users["eng"]).post(
        reverse("admin:accounting_fapiaorequest_desk", args=[ticket.pk]),
        {"buyer_type": "person", "title": "王"},
        follow=True,
    )
    assert "No such ticket" in r.content.decode() and not FapiaoRequest.objects.exists()


# --- the daily close page ----------------------------------------------------------------------------------


def close_url(center, day=None):
    url = reverse("admin:accounting_dailyclose_changelist") + f"?center={center.code}"
    return url + (f"&date={day:%Y-%m-%d}" if day else "")


def test_the_close_page_shows_todays_figures_with_fixed_queries(users, center, ticket, django_assert_max_num_queries):
    c = login(users["desk"])
    c.get(close_url(center))
    counts = []
    for n in (1, 5):
        for _i in range(n):
            pay(ticket, "10.00", "wechat_pay")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as q:
            r = c.get(close_url(center))
        counts.append(len(q))
        assert r.status_code == 200
    assert counts[0] == counts[1] and counts[0] <= 12
    html = r.content.decode()
    assert "¥60.00" in html and 'id="close-button"' in html


def test_the_desk_closes_with_a_difference_and_a_reason_through_the_page(users, center, ticket):
    pay(ticket, "300.00", "cash")
    c = login(users["desk"])
    url = close_url(center)
    r = c.post(url, {"center": center.code, "cash_counted": "299.50"})
    assert (
        r.status_code == 400
        and "say why" in r.content.decode()
        and not DailyClose.objects.filter(status="closed").exists()
    )
    r = c.post(url, {"center": center.code, "cash_counted": "299.50", "reason_cash": "change given twice"}, follow=True)
    assert r.status_code == 200 and "The day is closed." in r.content.decode()
    close = DailyClose.objects.get()
    assert close.status == "closed" and close.lines.get(method="cash").difference == Decimal("-0.50")
    again = c.post(url, {"center": center.code, "cash_counted": "299.50"})
    assert again.status_code == 409 and "already closed" in again.content.decode()


def test_who_sees_the_close_page(users, center):
    assert login(users["eng"]).get(close_url(center)).status_code == 403
    assert login(users["manager"]).get(close_url(center)).status_code == 200
    assert (
        login(users["desk"]).get(reverse("admin:accounting_dailyclose_changelist") + "?center=NOPE").status_code == 404
    )


def test_hq_reopens_from_the_page(users, center, actors):
    close = services.daily_close_close(
        actor=actors["desk"], center_id=center.pk, business_date=timezone.localdate(), cash_counted="0"
    )
    url = reverse("admin:accounting_dailyclose_reopen", args=[close.pk])
    login(users["manager"]).post(url, {"reason": "late refund"})
    assert DailyClose.objects.get().status == "closed"
    login(users["hq"]).post(url, {"reason": "late refund"})
    assert DailyClose.objects.get().status == "open"


# --- the HQ revenue dashboard ------------------------------------------------------------------------------


def test_revenue_by_center_method_and_day_with_fixed_queries(
    users, center, other_center, ticket, actors, django_assert_max_num_queries
):
    today = timezone.localdate()
    pay(ticket, "300.00", "cash")
    p = pay(ticket, "129.00", "alipay")
    refund(p, "29.00")
    other = walk_in(other_center, SYSTEM, phone="13900001111")
    c = login(users["hq"])
    url = (
        reverse("admin:accounting_revenuereport_changelist")
        + f"?start={today - dt.timedelta(days=6):%Y-%m-%d}&end={today:%Y-%m-%d}"
    )
    c.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        r = c.get(url)
    html = r.content.decode()
    assert r.status_code == 200 and "¥400.00" in html and 'id="center-SC-ACC"' in html and "<svg" in html
    for _i in range(4):
        pay(other, "50.00", "card")
    services.daily_close_close(
        actor=actors["hq"],
        center_id=center.pk,
        business_date=today,
        cash_counted="290",
        reasons={"cash": "short by 10"},
    )
    with CaptureQueriesContext(connection) as second:
        r = c.get(url)
    html = r.content.decode()
    assert len(first) == len(second) <= 10
    assert 'id="center-SC-OTH"' in html and "¥600.00" in html and "short by 10" in html


def test_revenue_csv_and_who_sees_it(users, center, ticket):
    pay(ticket, "300.00", "cash")
    c = login(users["hq"])
    csv = c.get(reverse("admin:accounting_revenuereport_csv"))
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "center,name,cash,card,wechat_pay,alipay,total"
    assert lines[1].startswith("SC-ACC,") and lines[1].endswith(",300.00,0.00,0.00,0.00,300.00")
    assert login(users["desk"]).get(reverse("admin:accounting_revenuereport_changelist")).status_code == 403
    manager = login(users["manager"]).get(reverse("admin:accounting_revenuereport_changelist"))
    assert manager.status_code == 200 and "SC-ACC" in manager.content.decode()
    assert c.get(reverse("admin:accounting_revenuereport_changelist") + "?province=999999").status_code == 404


def test_the_tracking_page_shows_the_fapiao_status_without_a_query_more(
    client, ticket, actors, django_assert_max_num_queries
):
    url = reverse("repairs:track-detail", args=[ticket.service_no]) + "?phone_last4=5678"
    client.get(url)
    with django_assert_max_num_queries(1):  # warm: the lookup query alone, the status read as one of its columns
        r = client.get(url)
    assert 'id="fapiao-track-status"' not in r.content.decode()
    pay(ticket, "99.00")
    services.fapiao_request(actor=actors["desk"], ticket_id=ticket.pk, buyer_type="person", title="王小明")
    client.get(url)
    with django_assert_max_num_queries(1):
        r = client.get(url)
    assert "Your fapiao is issued" in r.content.decode()
