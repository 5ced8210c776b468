"""Fapiao requests and the daily close through their services: every refusal has its code and writes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounting import services
from accounting.choices import CloseStatus
from accounting.models import DailyClose, DailyCloseHistory, DailyCloseLine, FapiaoRequest
from accounting.selectors import ledger_day_totals, subject_paid_net
from notifications.models import Notification
from repairs.workflow import CustomerActor
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from servicehub.models import OutboxEvent
from tests.factories.payments import pay, refund

from .conftest import BAD_CHECKSUM_USCC, VALID_USCC

pytestmark = pytest.mark.django_db


def request(actor, ticket, **kw):
    params = {"buyer_type": "person", "title": "王小明", "email": "", **kw}
    return services.fapiao_request(actor=actor, ticket_id=ticket.pk, **params)


def code_of(fn, *args, **kw) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kw)
    return err.value.code


# --- the tax number --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [VALID_USCC, "91110000600037341l", " 9111 0000 6000 3734 1L "])
def test_a_valid_unified_social_credit_code_is_compacted_and_upper_cased(raw):
    assert services.tax_number_clean(raw) == VALID_USCC


@pytest.mark.parametrize(
    "raw", [BAD_CHECKSUM_USCC, "9111000060003734", "91110000600037341LL", "I1110000600037341L", ""]
)
def test_an_invalid_code_is_refused_with_invalid_tax_number(raw):
    assert code_of(services.tax_number_clean, raw) == "invalid_tax_number"


# --- requesting ------------------------------------------------------------------------------------------


def test_the_desk_requests_a_company_fapiao_for_what_was_paid_net_of_refunds_and_it_is_issued(
    ticket, actors, sms_outbox
):
    p1 = pay(ticket, "300.00", "cash")
    pay(ticket, "129.00", "wechat_pay")
    refund(p1, "50.00")
    fapiao = request(
        actors["desk"],
        ticket,
        buyer_type="company",
        title="上海某某科技有限公司",
        tax_number=VALID_USCC.lower(),
        email="ap@example.com",
    )
    fapiao.refresh_from_db()
    assert (fapiao.status, fapiao.amount, fapiao.tax_number) == ("issued", Decimal("379.00"), VALID_USCC)
    assert fapiao.invoice_number.startswith("SBX") and len(fapiao.invoice_number) == 20
    assert fapiao.issued_at is not None and fapiao.attempts == 1 and fapiao.provider == "sandbox"
    assert "/fapiao/" in fapiao.pdf_url and "上海某某科技有限公司" in fapiao.document
    types = list(OutboxEvent.objects.filter(type__startswith="fapiao.").order_by("pk").values_list("type", flat=True))
    assert types == ["fapiao.requested", "fapiao.issued"]
    sms = Notification.objects.get(kind="fapiao_issued", channel="sms")
    assert fapiao.invoice_number in sms.body and fapiao.pdf_url in sms.body and sms.recipient == ticket.customer.phone
    email = Notification.objects.get(kind="fapiao_issued", channel="email")
    assert email.recipient == "ap@example.com"


def test_the_document_link_opens_the_issued_fapiao_and_a_forged_one_does_not(client, ticket, actors):
    pay(ticket, "99.00")
    fapiao = FapiaoRequest.objects.get(pk=request(actors["desk"], ticket).pk)
    path = fapiao.pdf_url.split("://", 1)[1].split("/", 1)[1]
    r = client.get("/" + path)
    assert r.status_code == 200 and fapiao.invoice_number in r.content.decode()
    assert client.get("/fapiao/forged-token/").status_code == 404


def test_a_customer_may_ask_for_their_own_ticket_only(ticket, center, actors):
    pay(ticket, "99.00")
    other = CustomerActor(ticket_id=ticket.pk + 999, center_ids=frozenset())
    assert code_of(request, other, ticket) == "not_found"
    mine = CustomerActor(ticket_id=ticket.pk, center_ids=frozenset())
    assert request(mine, ticket, via="tracking").requested_by is None


def test_an_engineer_and_another_centers_desk_cannot_ask(ticket, actors, other_center):
    from servicehub.actors import actor_for_user
    from tests.factories.repairs import staff

    pay(ticket, "99.00")
    assert code_of(request, actors["eng"], ticket) == "not_found"
    assert code_of(request, actor_for_user(staff(other_center, "front_desk")), ticket) == "not_found"
    assert not FapiaoRequest.objects.exists()


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        ({"buyer_type": "company", "title": "某公司", "tax_number": ""}, "invalid_tax_number", "tax_number"),
        (
            {"buyer_type": "company", "title": "某公司", "tax_number": BAD_CHECKSUM_USCC},
            "invalid_tax_number",
            "tax_number",
        ),
        ({"buyer_type": "person", "title": "王", "tax_number": "123"}, "invalid_tax_number", "tax_number"),
        ({"buyer_type": "robot", "title": "王"}, "validation_error", "buyer_type"),
        ({"buyer_type": "person", "title": "   "}, "validation_error", "title"),
        ({"buyer_type": "person", "title": "王", "email": "not-an-address"}, "validation_error", "email"),
    ],
)
def test_bad_input_is_refused_with_its_code_and_field_and_writes_nothing(ticket, actors, kw, code, field):
    pay(ticket, "99.00")
    with pytest.raises(DomainError) as err:
        request(actors["desk"], ticket, **kw)
    assert (err.value.code, err.value.field) == (code, field)
    assert not FapiaoRequest.objects.exists()
    assert not OutboxEvent.objects.filter(type__startswith="fapiao.").exists()


def test_nothing_paid_or_everything_refunded_is_nothing_to_invoice(ticket, actors):
    assert code_of(request, actors["desk"], ticket) == "nothing_to_invoice"
    p = pay(ticket, "80.00", "alipay")
    refund(p, "80.00")
    assert subject_paid_net(ticket_id=ticket.pk) == Decimal("0.00")
    with pytest.raises(DomainError) as err:
        request(actors["desk"], ticket)
    assert (err.value.code, err.value.status) == ("nothing_to_invoice", 409)
    assert not FapiaoRequest.objects.exists()


def test_a_pending_payment_is_not_invoiced(ticket, actors):
    from tests.factories.payments import PaymentFactory

    PaymentFactory(ticket=ticket, status="pending", succeeded_at=None, amount=Decimal("500.00"))
    assert code_of(request, actors["desk"], ticket) == "nothing_to_invoice"


def test_a_repeated_request_is_fapiao_exists(ticket, actors):
    pay(ticket, "99.00")
    request(actors["desk"], ticket)
    with pytest.raises(DomainError) as err:
        request(actors["manager"], ticket, title="另一个抬头")
    assert (err.value.code, err.value.status) == ("fapiao_exists", 409)
    assert FapiaoRequest.objects.count() == 1


def test_the_database_holds_one_open_request_per_ticket(ticket, center):
    row = {
        "center": center,
        "ticket": ticket,
        "buyer_type": "person",
        "title": "王",
        "amount": Decimal("1.00"),
        "requested_via": "desk",
    }
    FapiaoRequest.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        FapiaoRequest.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        FapiaoRequest.objects.create(**{**row, "ticket": None, "buyer_type": "company"})


# --- issuing, failing and retrying -----------------------------------------------------------------------


def test_a_refusing_provider_leaves_the_request_failed_and_the_desk_retries_it(ticket, actors, settings, sms_outbox):
    pay(ticket, "99.00")
    settings.ACCOUNTING_SANDBOX_INVOICING_FAIL = True
    fapiao = FapiaoRequest.objects.get(pk=request(actors["desk"], ticket).pk)
    assert (fapiao.status, fapiao.attempts, fapiao.invoice_number) == ("failed", 1, "")
    assert "refuse" in fapiao.failure_reason
    assert OutboxEvent.objects.filter(type="fapiao.failed").count() == 1
    assert not Notification.objects.filter(kind="fapiao_issued").exists()
    assert code_of(services.fapiao_retry, actor=actors["eng"], fapiao_id=fapiao.pk) == "not_found"
    settings.ACCOUNTING_SANDBOX_INVOICING_FAIL = False
    services.fapiao_retry(actor=actors["desk"], fapiao_id=fapiao.pk)
    fapiao.refresh_from_db()
    assert (fapiao.status, fapiao.attempts, fapiao.failure_reason) == ("issued", 2, "")
    assert code_of(services.fapiao_retry, actor=actors["desk"], fapiao_id=fapiao.pk) == "fapiao_not_failed"


def test_issuing_again_is_a_no_op(ticket, actors, sms_outbox):
    pay(ticket, "99.00")
    fapiao = FapiaoRequest.objects.get(pk=request(actors["desk"], ticket).pk)
    again = services.fapiao_issue(fapiao_id=fapiao.pk)
    assert (again.invoice_number, again.attempts) == (fapiao.invoice_number, 1)
    assert OutboxEvent.objects.filter(type="fapiao.issued").count() == 1
    assert code_of(services.fapiao_issue, fapiao_id=fapiao.pk + 100) == "not_found"


def test_the_task_issues_by_id(ticket, actors, settings, monkeypatch):
    from accounting import tasks

    pay(ticket, "99.00")
    monkeypatch.setattr(services, "_enqueue_issue", lambda fapiao_id: None)  # keep it requested
    fapiao = request(actors["desk"], ticket)
    assert FapiaoRequest.objects.get(pk=fapiao.pk).status == "requested"
    assert tasks.fapiao_issue_task.apply(args=(fapiao.pk,)).get() == "issued"
    assert tasks.fapiao_issue_task.apply(args=(fapiao.pk,)).get() == "issued"
    assert FapiaoRequest.objects.get(pk=fapiao.pk).attempts == 1


def test_the_sandbox_provider_answers_the_same_number_for_the_same_request_number():
    from accounting.invoicing import InvoiceDraft
    from accounting.invoicing.sandbox import SandboxInvoicingProvider

    draft = InvoiceDraft("FP0000000001", "person", "王", "", "", Decimal("1.00"), "维修", "中心")
    a, b = SandboxInvoicingProvider().issue(draft), SandboxInvoicingProvider().issue(draft)
    other = SandboxInvoicingProvider().issue(
        InvoiceDraft("FP0000000002", "person", "王", "", "", Decimal("1.00"), "维修", "中心")
    )
    assert a.invoice_number == b.invoice_number != other.invoice_number
    assert "SANDBOX" in a.document and "¥1.00" in a.document


# --- the daily close -----------------------------------------------------------------------------------------


def today():
    return timezone.localdate()


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), timezone.get_default_timezone())


@pytest.fixture
def day_of_money(ticket):
    """Today: cash 300 - 50 refunded, card 199, WeChat 129, Alipay 80 - 80 refunded (refund row with no method);
    plus yesterday's 1000 cash that today does not include."""
    d = today()
    cash = pay(ticket, "300.00", "cash", at=at(d, 10))
    refund(cash, "50.00", at=at(d, 11))
    pay(ticket, "199.00", "card", at=at(d, 12))
    pay(ticket, "129.00", "wechat_pay", at=at(d, 13))
    ali = pay(ticket, "80.00", "alipay", at=at(d, 14))
    refund(ali, "80.00", at=at(d, 15), method="")
    pay(ticket, "1000.00", "cash", at=at(d - dt.timedelta(days=1), 23))
    return d


def test_the_ledger_totals_of_a_local_day_by_method(center, day_of_money, django_assert_num_queries):
    with django_assert_num_queries(1):
        totals = ledger_day_totals(center_id=center.pk, business_date=day_of_money)
    assert totals == {
        "cash": Decimal("250.00"),
        "card": Decimal("199.00"),
        "wechat_pay": Decimal("129.00"),
        "alipay": Decimal("0.00"),
    }


def test_closing_with_the_cash_right_writes_four_lines_and_the_history(center, actors, day_of_money):
    close = services.daily_close_close(
        actor=actors["desk"], center_id=center.pk, business_date=day_of_money, cash_counted="250.00"
    )
    assert close.status == CloseStatus.CLOSED and close.closed_by.username == "desk"
    lines = {line.method: (line.expected, line.actual, line.difference) for line in close.lines.all()}
    assert lines["cash"] == (Decimal("250.00"), Decimal("250.00"), Decimal("0.00"))
    assert lines["card"] == (Decimal("199.00"), Decimal("199.00"), Decimal("0.00"))
    assert len(lines) == 4
    (history,) = DailyCloseHistory.objects.filter(close=close)
    assert (history.action, history.actor, len(history.snapshot)) == ("closed", "desk", 4)
    event = OutboxEvent.objects.get(type="daily_close.closed")
    assert event.payload["differences"] == {} and event.center_id == center.pk


def test_a_difference_needs_a_reason_and_nothing_is_written_without_one(center, actors, day_of_money):
    with pytest.raises(DomainError) as err:
        services.daily_close_close(
            actor=actors["desk"], center_id=center.pk, business_date=day_of_money, cash_counted="249.00"
        )
    assert (err.value.code, err.value.field) == ("difference_reason_required", "reason_cash")
    assert "-1.00" in err.value.message
    assert not DailyClose.objects.exists() and not DailyCloseLine.objects.exists()
    close = services.daily_close_close(
        actor=actors["desk"],
        center_id=center.pk,
        business_date=day_of_money,
        cash_counted="249.00",
        reasons={"cash": "  a 1 yuan coin fell  behind the drawer "},
    )
    line = close.lines.get(method="cash")
    assert (line.difference, line.reason) == (Decimal("-1.00"), "a 1 yuan coin fell behind the drawer")
    assert OutboxEvent.objects.get(type="daily_close.closed").payload["differences"] == {"cash": "-1.00"}


def test_a_settlement_difference_from_the_provider_needs_its_reason(center, actors, day_of_money, settings):
    settings.ACCOUNTING_SANDBOX_SETTLEMENT_DIFFERENCE = {"wechat_pay": "-0.78"}
    with pytest.raises(DomainError) as err:
        services.daily_close_close(
            actor=actors["manager"], center_id=center.pk, business_date=day_of_money, cash_counted="250"
        )
    assert err.value.field == "reason_wechat_pay"
    close = services.daily_close_close(
        actor=actors["manager"],
        center_id=center.pk,
        business_date=day_of_money,
        cash_counted="250",
        reasons={"wechat_pay": "fee withheld by WeChat Pay", "cash": "ignored: no difference"},
    )
    wechat, cash = close.lines.get(method="wechat_pay"), close.lines.get(method="cash")
    assert (wechat.expected, wechat.actual, wechat.difference) == (
        Decimal("129.00"),
        Decimal("128.22"),
        Decimal("-0.78"),
    )
    assert cash.reason == ""


def test_a_day_closes_once(center, actors, day_of_money):
    services.daily_close_close(
        actor=actors["desk"], center_id=center.pk, business_date=day_of_money, cash_counted="250"
    )
    with pytest.raises(DomainError) as err:
        services.daily_close_close(
            actor=actors["manager"], center_id=center.pk, business_date=day_of_money, cash_counted="250"
        )
    assert (err.value.code, err.value.status) == ("day_closed", 409)
    assert DailyCloseHistory.objects.count() == 1


@pytest.mark.parametrize("counted", ["-1", "abc", "12.345", "１２", "NaN", "100000000"])
def test_a_bad_cash_amount_is_a_validation_error(center, actors, counted):
    with pytest.raises(DomainError) as err:
        services.daily_close_close(
            actor=actors["desk"], center_id=center.pk, business_date=today(), cash_counted=counted
        )
    assert (err.value.code, err.value.field) == ("validation_error", "cash_counted")


def test_who_may_close_and_which_day(center, other_center, actors):
    kw = {"center_id": center.pk, "business_date": today(), "cash_counted": "0"}
    assert code_of(services.daily_close_close, actor=actors["eng"], **kw) == "forbidden"
    from servicehub.actors import actor_for_user
    from tests.factories.repairs import staff

    stranger = actor_for_user(staff(other_center, "manager"))
    assert code_of(services.daily_close_close, actor=stranger, **kw) == "not_found"
    future = {**kw, "business_date": today() + dt.timedelta(days=1)}
    assert code_of(services.daily_close_close, actor=actors["desk"], **future) == "validation_error"
    assert not DailyClose.objects.exists()


def test_only_hq_reopens_with_a_reason_and_the_day_then_closes_again(center, actors, day_of_money):
    close = services.daily_close_close(
        actor=actors["desk"], center_id=center.pk, business_date=day_of_money, cash_counted="250"
    )
    assert code_of(services.daily_close_reopen, actor=actors["manager"], close_id=close.pk, reason="x") == "forbidden"
    assert code_of(services.daily_close_reopen, actor=SYSTEM, close_id=close.pk, reason="x") == "forbidden"
    assert code_of(services.daily_close_reopen, actor=actors["hq"], close_id=close.pk, reason="  ") == "reason_required"
    services.daily_close_reopen(actor=actors["hq"], close_id=close.pk, reason="a card refund was booked late")
    close.refresh_from_db()
    assert close.status == CloseStatus.OPEN
    assert (
        code_of(services.daily_close_reopen, actor=actors["hq"], close_id=close.pk, reason="again") == "day_not_closed"
    )
    again = services.daily_close_close(
        actor=actors["desk"],
        center_id=center.pk,
        business_date=day_of_money,
        cash_counted="251",
        reasons={"cash": "found 1"},
    )
    assert again.pk == close.pk and again.lines.count() == 4
    assert list(DailyCloseHistory.objects.order_by("pk").values_list("action", flat=True)) == [
        "closed",
        "reopened",
        "closed",
    ]
    assert DailyCloseHistory.objects.get(action="reopened").snapshot[0]["actual"] == "250.00"


def test_the_database_refuses_a_difference_without_a_reason(center):
    close = DailyClose.objects.create(center=center, business_date=today())
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyCloseLine.objects.create(close=close, method="cash", expected=10, actual=9, difference=-1, reason="")
    DailyCloseLine.objects.create(close=close, method="card", expected=10, actual=10, difference=0, reason="")
    with pytest.raises(IntegrityError), transaction.atomic():  # one line per method
        DailyCloseLine.objects.create(close=close, method="card", expected=10, actual=10, difference=0, reason="")
