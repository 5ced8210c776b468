"""Lending, returning and the deposit ledger through the services (given / when / then)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from loaners import selectors, services
from loaners.choices import LoanerAction, LoanerStatus, LoanStatus
from loaners.models import DepositEntry, Loan, Loaner, LoanerEvent
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import (
    DepositRuleFactory,
    LoanerFactory,
    customer,
    shanghai,
    standard_model,
    ticket,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _times(due_at):
    """Test setup: move a loan in time (out four days before it is due)."""
    return {"due_at": due_at, "out_at": due_at - dt.timedelta(days=4)}


def lend(t, tier="flagship", actor=SYSTEM, method="wechat_pay", **kw):
    return services.loan_checkout(ticket_id=t.pk, tier=tier, payment_method=method, actor=actor, **kw)


def refusal(fn, **kw) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(**kw)
    return info.value


# --- checkout ---------------------------------------------------------------------------


def test_checkout_lends_a_wiped_loaner_and_holds_the_default_deposit(center, pool, front_desk):
    t = ticket(center=center, status="repairing")

    loan = lend(t, actor=front_desk, reference="WX-001")

    assert loan.status == LoanStatus.OUT
    assert loan.loaner_id == pool["flagship"][0].pk  # lowest pk first
    assert loan.deposit == D("2000.00") and loan.held == D("2000.00")
    assert loan.terms_accepted_at == loan.out_at
    entries = list(loan.entries.values_list("seq", "kind", "amount", "payment_method", "reference", "balance_after"))
    assert entries == [(1, "hold", D("2000.00"), "wechat_pay", "WX-001", D("2000.00"))]
    loaner = Loaner.objects.get(pk=loan.loaner_id)
    assert loaner.status == LoanerStatus.OUT
    assert (
        LoanerEvent.objects.filter(
            loaner=loaner, action=LoanerAction.LEND, loan=loan, from_status="available", to_status="out"
        ).count()
        == 1
    )
    assert selectors.ticket_has_open_loan(ticket_id=t.pk) is True
    assert selectors.ticket_open_loan_id(ticket_id=t.pk) == loan.pk


def test_due_at_is_promised_time_plus_grace_days(center, pool, settings):
    settings.LOANERS = {"GRACE_DAYS": 2}
    promised = timezone.now() + dt.timedelta(days=5)
    loan = lend(ticket(center=center, promised_at=promised))
    assert loan.due_at == promised + dt.timedelta(days=2)


def test_due_at_without_promise_is_now_plus_default_repair_days_plus_grace(center, pool, settings):
    settings.LOANERS = {"DEFAULT_REPAIR_DAYS": 4, "GRACE_DAYS": 1}
    loan = lend(ticket(center=center, promised_at=None))
    assert loan.due_at - loan.out_at == dt.timedelta(days=5)


def test_province_rule_overrides_default_rule(center, pool):
    DepositRuleFactory(province=None, tier="flagship", deposit=D("2000.00"))
    DepositRuleFactory(province=center.province, tier="flagship", deposit=D("2500.00"), late_fee_per_day=D("60.00"))
    loan = lend(ticket(center=center))
    assert (loan.deposit, loan.late_fee_per_day) == (D("2500.00"), D("60.00"))


def test_standard_tier_uses_default_800(center, pool):
    loan = lend(ticket(center=center), tier="standard", method="cash")
    assert loan.deposit == D("800.00")
    assert loan.loaner.model.tier == "standard"


def test_deposit_waived_for_plan_holder_when_rule_says_so(center, pool):
    from tests.factories.warranty import purchase, screen_care

    DepositRuleFactory(province=None, tier="flagship", deposit=D("2000.00"), waive_for_plan_holders=True)
    t = ticket(center=center)
    purchase(device=t.device, product=screen_care())

    loan = lend(t, method="")

    assert loan.deposit_waived is True
    assert loan.deposit == D("0.00") and loan.held == D("0.00")
    assert loan.entries.count() == 0  # nothing was collected


def test_plan_holder_pays_deposit_when_rule_does_not_waive(center, pool):
    from tests.factories.warranty import purchase, screen_care

    DepositRuleFactory(province=None, tier="flagship", deposit=D("2000.00"), waive_for_plan_holders=False)
    t = ticket(center=center)
    purchase(device=t.device, product=screen_care())
    loan = lend(t)
    assert (loan.deposit_waived, loan.held) == (False, D("2000.00"))


@pytest.mark.parametrize("status", ["booked", "delivered", "closed", "cancelled", "returning"])
def test_checkout_refused_outside_received_to_ready(center, pool, status):
    t = ticket(center=center, status=status)
    err = refusal(lend, t=t)
    assert (err.code, err.status) == ("invalid_transition", 409)
    assert Loan.objects.count() == 0 and DepositEntry.objects.count() == 0


@pytest.mark.parametrize("status", ["received", "diagnosing", "awaiting_parts", "quality_check", "ready"])
def test_checkout_allowed_from_received_to_ready(center, pool, status):
    assert lend(ticket(center=center, status=status)).status == "out"


def test_second_loan_for_same_ticket_is_loan_exists(center, pool):
    t = ticket(center=center)
    first = lend(t)
    err = refusal(lend, t=t, tier="standard")
    assert (err.code, err.status, err.extra["loan_id"]) == ("loan_exists", 409, first.pk)
    assert Loan.objects.count() == 1
    assert Loaner.objects.get(pk=pool["standard"][0].pk).status == "available"


def test_customer_with_overdue_loan_is_refused(center, pool):
    c = customer()
    first = lend(ticket(center=center, customer_obj=c))
    Loan.objects.filter(pk=first.pk).update(status=LoanStatus.OVERDUE)
    err = refusal(lend, t=ticket(center=center, customer_obj=c))
    assert (err.code, err.status) == ("overdue_loan", 409)
    assert Loan.objects.count() == 1


def test_customer_with_loan_past_due_but_not_yet_marked_is_refused(center, pool):
    c = customer()
    first = lend(ticket(center=center, customer_obj=c))
    Loan.objects.filter(pk=first.pk).update(**_times(timezone.now() - dt.timedelta(minutes=1)))
    assert refusal(lend, t=ticket(center=center, customer_obj=c)).code == "overdue_loan"


def test_no_loaner_available_lists_nearby_centers_nearest_first(center):
    far = ServiceCenterFactory(code="HZ001", lat=30.2741, lng=120.1551)  # Hangzhou, ~165 km
    near = ServiceCenterFactory(code="SH002", lat=31.1, lng=121.4)  # ~16 km
    closed = ServiceCenterFactory(code="SH003", lat=31.2, lng=121.4, active=False)
    LoanerFactory(home_center=far)
    LoanerFactory(home_center=near)
    LoanerFactory(home_center=near)
    LoanerFactory(home_center=closed)
    LoanerFactory(home_center=center, model=standard_model())  # wrong tier here
    LoanerFactory(home_center=center, needs_wipe=True)  # not wiped: not lendable

    err = refusal(lend, t=ticket(center=center))

    assert (err.code, err.status) == ("no_loaner_available", 409)
    assert [(c["code"], c["available"]) for c in err.extra["nearby_centers"]] == [("SH002", 2), ("HZ001", 1)]
    assert 10 < err.extra["nearby_centers"][0]["distance_km"] < 20
    assert Loan.objects.count() == 0


def test_loaner_needing_a_wipe_is_not_lent_until_wiped(center):
    loaner = LoanerFactory(home_center=center, needs_wipe=True, last_wiped_at=None)
    t = ticket(center=center)
    assert refusal(lend, t=t).code == "no_loaner_available"

    services.loaner_wipe(loaner_id=loaner.pk, actor=SYSTEM)

    assert lend(t).loaner_id == loaner.pk


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"tier": "premium"}, "tier"),
        ({"method": "bitcoin"}, "payment_method"),
        ({"method": ""}, "payment_method"),
        ({"terms_accepted": False}, "terms_accepted"),
    ],
)
def test_checkout_validation_errors(center, pool, kw, field):
    err = refusal(lend, t=ticket(center=center), **kw)
    assert (err.code, err.status, err.field) == ("validation_error", 400, field)
    assert Loan.objects.count() == 0


def test_checkout_for_other_centers_ticket_is_not_found(center, pool, front_desk):
    other = ticket(center=ServiceCenterFactory(code="BJ001"))
    LoanerFactory(home_center=other.center)
    assert refusal(lend, t=other, actor=front_desk).code == "not_found"


def test_partial_unique_constraints_hold_in_the_database(center, pool):
    loan = lend(ticket(center=center))
    # A second open loan for the same loaner (the service would never write it).
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(
            ticket=ticket(center=center),
            loaner=loan.loaner,
            customer=customer(),
            center=center,
            tier="flagship",
            out_at=timezone.now(),
            due_at=timezone.now() + dt.timedelta(days=1),
            condition_out="good",
            terms_accepted_at=timezone.now(),
            deposit=D("0"),
            late_fee_per_day=D("0"),
        )
    # A second open loan for the same ticket.
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(
            ticket=loan.ticket,
            loaner=pool["standard"][0],
            customer=loan.customer,
            center=center,
            tier="standard",
            out_at=timezone.now(),
            due_at=timezone.now() + dt.timedelta(days=1),
            condition_out="good",
            terms_accepted_at=timezone.now(),
            deposit=D("0"),
            late_fee_per_day=D("0"),
        )


# --- return and the ledger -----------------------------------------------------------------


def ret(loan, condition="ok", deductions=(), at=None, actor=SYSTEM):
    return services.loan_return(loan_id=loan.pk, condition=condition, deductions=list(deductions), actor=actor, at=at)


def test_return_ok_refunds_everything(center, pool):
    loan = lend(ticket(center=center))
    loan = ret(loan, at=loan.out_at + dt.timedelta(hours=5))
    assert (loan.status, loan.refunded, loan.deducted, loan.balance_due) == ("returned", D("2000.00"), D("0"), D("0"))
    assert list(loan.entries.values_list("kind", "amount", "balance_after")) == [
        ("hold", D("2000.00"), D("2000.00")),
        ("refund", D("2000.00"), D("0.00")),
    ]
    loaner = Loaner.objects.get(pk=loan.loaner_id)
    assert (loaner.status, loaner.needs_wipe) == ("available", True)
    assert selectors.ticket_has_open_loan(ticket_id=loan.ticket_id) is False


def test_partial_deductions_come_off_the_deposit(center, pool):
    loan = lend(ticket(center=center))
    loan = ret(
        loan,
        "damaged",
        [{"reason": "Scratched screen", "amount": "300.00"}, {"reason": "Bent corner", "amount": "150.50"}],
        at=loan.out_at + dt.timedelta(hours=1),
    )
    assert (loan.deducted, loan.refunded, loan.balance_due) == (D("450.50"), D("1549.50"), D("0.00"))
    assert loan.balance == D("0.00")
    assert list(loan.entries.values_list("seq", "kind", "deduction_kind", "amount", "balance_after")) == [
        (1, "hold", "", D("2000.00"), D("2000.00")),
        (2, "deduction", "damage", D("300.00"), D("1700.00")),
        (3, "deduction", "damage", D("150.50"), D("1549.50")),
        (4, "refund", "", D("1549.50"), D("0.00")),
    ]
    loaner = Loaner.objects.get(pk=loan.loaner_id)
    assert (loaner.status, loaner.condition, loaner.needs_wipe) == ("maintenance", "damaged", True)


def test_deductions_over_the_deposit_create_balance_due_and_no_refund(center, pool):
    loan = lend(ticket(center=center), tier="standard", method="cash")  # 800.00
    loan = ret(loan, "damaged", [{"reason": "Display cracked", "amount": "1200.00"}], at=loan.out_at)
    assert (loan.deducted, loan.refunded, loan.balance_due) == (D("1200.00"), D("0.00"), D("400.00"))
    assert loan.balance == D("-400.00")
    assert not loan.entries.filter(kind="refund").exists()
    assert list(loan.entries.filter(kind="deduction").values_list("amount", "from_deposit", "balance_after")) == [
        (D("1200.00"), D("800.00"), D("0.00"))
    ]


def test_missing_accessories_deduction_kind_and_loaner_to_maintenance(center, pool):
    loan = lend(ticket(center=center))
    loan = ret(loan, "missing_accessories", [{"reason": "Charger missing", "amount": "99"}], at=loan.out_at)
    assert loan.entries.get(kind="deduction").deduction_kind == "missing_accessory"
    assert Loaner.objects.get(pk=loan.loaner_id).status == "maintenance"


def _due(loan, at):
    Loan.objects.filter(pk=loan.pk).update(**_times(at))
    loan.refresh_from_db()
    return loan


def test_late_fee_counts_local_days_after_the_due_day(center, pool):
    loan = lend(ticket(center=center))
    loan = _due(loan, shanghai(2026, 3, 1, 18, 0))
    late = selectors.loan_settlement
    # Same local day, after the due hour: free.
    assert late(loan=loan, condition="ok", at=shanghai(2026, 3, 1, 23, 59)).deducted == D("0")
    # 00:01 next local day is 2026-03-01 16:01 UTC, still "the same day" in UTC: one day late in Shanghai.
    s = late(loan=loan, condition="ok", at=shanghai(2026, 3, 2, 0, 1))
    assert s.at.astimezone(dt.UTC).date() == dt.date(2026, 3, 1)
    assert (s.late_days, s.deducted, s.refund) == (1, D("50.00"), D("1950.00"))
    # Three midnights later: three days.
    s = late(loan=loan, condition="ok", at=shanghai(2026, 3, 4, 9, 0))
    assert (s.late_days, s.deducted) == (3, D("150.00"))


def test_late_fee_before_due_is_zero_even_across_midnight(center, pool):
    loan = _due(lend(ticket(center=center)), shanghai(2026, 3, 2, 10, 0))
    s = selectors.loan_settlement(loan=loan, condition="ok", at=shanghai(2026, 3, 2, 9, 59))
    assert (s.late_days, s.deducted) == (0, D("0"))


def test_late_fee_with_damage_over_deposit_in_order(center, pool):
    loan = _due(lend(ticket(center=center), tier="standard", method="card"), shanghai(2026, 3, 1, 12, 0))  # 800, 20/day
    loan = ret(loan, "damaged", [{"reason": "Back glass", "amount": "700"}], at=shanghai(2026, 3, 6, 10, 0))
    assert list(loan.entries.filter(kind="deduction").values_list("deduction_kind", "amount", "from_deposit")) == [
        ("late_fee", D("100.00"), D("100.00")),
        ("damage", D("700.00"), D("700.00")),
    ]
    assert (loan.refunded, loan.balance_due) == (D("0.00"), D("0.00"))


def test_waived_deposit_deductions_become_balance_due(center, pool):
    from tests.factories.warranty import purchase, screen_care

    DepositRuleFactory(province=None, tier="flagship", waive_for_plan_holders=True)
    t = ticket(center=center)
    purchase(device=t.device, product=screen_care())
    loan = _due(lend(t, method=""), shanghai(2026, 3, 1, 12, 0))
    loan = ret(loan, "ok", at=shanghai(2026, 3, 3, 12, 0))
    assert (loan.held, loan.deducted, loan.refunded, loan.balance_due) == (D("0"), D("100.00"), D("0"), D("100.00"))


def test_lost_loaner_charges_replacement_value_and_retires_it(center, pool):
    loan = lend(ticket(center=center))  # replacement 4999.00, deposit 2000.00
    loan = ret(loan, "lost", at=loan.out_at)
    assert (loan.status, loan.returned_at) == ("lost", None)
    assert (loan.deducted, loan.refunded, loan.balance_due) == (D("4999.00"), D("0"), D("2999.00"))
    assert loan.entries.get(kind="deduction").deduction_kind == "loss"
    assert Loaner.objects.get(pk=loan.loaner_id).status == "retired"
    assert selectors.ticket_has_open_loan(ticket_id=loan.ticket_id) is False


def test_return_of_returned_loan_is_invalid_transition_and_writes_nothing(center, pool):
    loan = ret(lend(ticket(center=center)))
    entries = DepositEntry.objects.count()
    err = refusal(ret, loan=loan)
    assert (err.code, err.status) == ("invalid_transition", 409)
    assert DepositEntry.objects.count() == entries


@pytest.mark.parametrize(
    "deductions,field",
    [
        ([{"reason": "", "amount": "10"}], "deductions.0.reason"),
        ([{"amount": "10"}], "deductions.0.reason"),
        ([{"reason": "x", "amount": "-5"}], "deductions.0.amount"),
        ([{"reason": "x", "amount": "0"}], "deductions.0.amount"),
        ([{"reason": "x", "amount": "abc"}], "deductions.0.amount"),
        ([{"reason": "x", "amount": "5", "kind": "late_fee"}], "deductions.0.kind"),
    ],
)
def test_bad_deductions_are_validation_errors_and_nothing_changes(center, pool, deductions, field):
    loan = lend(ticket(center=center))
    err = refusal(ret, loan=loan, condition="damaged", deductions=deductions)
    assert (err.code, err.status, err.field) == ("validation_error", 400, field)
    loan.refresh_from_db()
    assert loan.status == "out" and loan.entries.count() == 1
    assert Loaner.objects.get(pk=loan.loaner_id).status == "out"


def test_unknown_condition_is_validation_error(center, pool):
    assert refusal(ret, loan=lend(ticket(center=center)), condition="fine").field == "condition"


def test_preview_matches_what_return_writes_and_writes_nothing(center, pool):
    loan = _due(lend(ticket(center=center)), shanghai(2026, 3, 1, 12, 0))
    at = shanghai(2026, 3, 3, 8, 0)
    deductions = [{"reason": "Dent", "amount": "120"}]
    preview = selectors.loan_return_preview(loan_id=loan.pk, condition="damaged", deductions=deductions, at=at)
    assert DepositEntry.objects.count() == 1
    loan = ret(loan, "damaged", deductions, at=at)
    assert (preview.refund, preview.deducted, preview.balance_due) == (loan.refunded, loan.deducted, loan.balance_due)
    assert preview.refund == D("1780.00")


# --- the ledger constraint ----------------------------------------------------------------


def test_direct_insert_that_over_refunds_fails_in_the_database(center, pool):
    loan = lend(ticket(center=center))  # 2000.00 held
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositEntry.objects.create(
            loan=loan,
            seq=2,
            kind="refund",
            amount=D("2500.00"),
            from_deposit=D("2500.00"),
            balance_after=loan.held - D("2500.00"),
            center=center,
            at=timezone.now(),
        )
    # The running totals on the loan are checked too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.filter(pk=loan.pk).update(refunded=D("2000.01"))
    # Two writers appending the same entry number cannot both succeed.
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositEntry.objects.create(
            loan=loan,
            seq=1,
            kind="refund",
            amount=D("1.00"),
            from_deposit=D("1.00"),
            balance_after=D("1999.00"),
            center=center,
            at=timezone.now(),
        )
    assert list(loan.entries.values_list("kind", flat=True)) == ["hold"]


def test_deduction_row_without_reason_fails_in_the_database(center, pool):
    loan = lend(ticket(center=center))
    with pytest.raises(IntegrityError), transaction.atomic():
        DepositEntry.objects.create(
            loan=loan,
            seq=2,
            kind="deduction",
            deduction_kind="damage",
            reason="",
            amount=D("1"),
            from_deposit=D("1"),
            balance_after=D("1999.00"),
            center=center,
            at=timezone.now(),
        )


# --- pool actions ---------------------------------------------------------------------------


def test_transfer_send_and_receive(center, pool, front_desk):
    other = ServiceCenterFactory(code="SH009")
    loaner = pool["flagship"][0]
    transfer = services.loaner_transfer_send(loaner_id=loaner.pk, to_center=other, actor=front_desk)
    loaner.refresh_from_db()
    assert (loaner.status, loaner.current_center_id) == ("transferring", center.pk)
    assert selectors.loaner_availability(center_id=center.pk) == {"flagship": 1, "standard": 1}
    # The sender cannot receive at a center that is not theirs.
    assert refusal(services.loaner_transfer_receive, loaner_id=loaner.pk, actor=front_desk).code == "not_found"

    receiver = Actor(center_ids=frozenset({other.pk}))
    services.loaner_transfer_receive(loaner_id=loaner.pk, actor=receiver)

    loaner.refresh_from_db()
    transfer.refresh_from_db()
    assert (loaner.status, loaner.current_center_id, loaner.home_center_id) == ("available", other.pk, center.pk)
    assert transfer.received_at is not None
    assert list(loaner.events.values_list("action", flat=True)) == ["transfer_send", "transfer_receive"]


def test_transfer_refusals(center, pool):
    loaner = pool["flagship"][0]
    assert (
        refusal(services.loaner_transfer_send, loaner_id=loaner.pk, to_center=center, actor=SYSTEM).code
        == "validation_error"
    )
    assert refusal(services.loaner_transfer_receive, loaner_id=loaner.pk, actor=SYSTEM).code == "invalid_transition"
    lend(ticket(center=center))
    other = ServiceCenterFactory(code="SH010")
    err = refusal(services.loaner_transfer_send, loaner_id=loaner.pk, to_center=other, actor=SYSTEM)
    assert (err.code, err.status) == ("invalid_transition", 409)


def test_retire_and_maintenance(center, pool):
    loan = ret(lend(ticket(center=center)), "damaged", [{"reason": "Cracked", "amount": "10"}])
    loaner_id = loan.loaner_id
    assert (
        refusal(services.loaner_maintenance_done, loaner_id=loaner_id, condition="damaged", actor=SYSTEM).code
        == "validation_error"
    )
    services.loaner_wipe(loaner_id=loaner_id, actor=SYSTEM)
    loaner = services.loaner_maintenance_done(loaner_id=loaner_id, condition="fair", actor=SYSTEM)
    assert (loaner.status, loaner.condition, loaner.needs_wipe) == ("available", "fair", False)
    services.loaner_retire(loaner_id=loaner_id, actor=SYSTEM)
    assert refusal(services.loaner_retire, loaner_id=loaner_id, actor=SYSTEM).code == "invalid_transition"
    assert refusal(services.loaner_wipe, loaner_id=loaner_id, actor=SYSTEM).code == "invalid_transition"


def test_register_validates_imei(center):
    from tests.factories.loaners import flagship_model

    err = refusal(
        services.loaner_register, imei="123456789012345", model=flagship_model(), home_center=center, actor=SYSTEM
    )
    assert (err.code, err.field) == ("validation_error", "imei")
    loaner = services.loaner_register(
        imei="490154203237518", model=flagship_model(), home_center=center, actor=SYSTEM, replacement_value="3999"
    )
    assert (loaner.status, loaner.needs_wipe, loaner.last_wiped_at) == ("available", True, None)
    assert (
        refusal(
            services.loaner_register, imei="490154203237518", model=flagship_model(), home_center=center, actor=SYSTEM
        ).field
        == "imei"
    )


# --- jobs and summaries ------------------------------------------------------------------------


def test_mark_overdue_marks_only_past_due_open_loans_once(center, pool):
    late = lend(ticket(center=center))
    on_time = lend(ticket(center=center), tier="standard")
    returned = lend(ticket(center=center))
    Loan.objects.filter(pk__in=[late.pk, returned.pk]).update(**_times(timezone.now() - dt.timedelta(hours=1)))
    ret(Loan.objects.get(pk=returned.pk))

    assert services.loans_mark_overdue() == 1
    assert services.loans_mark_overdue() == 0  # idempotent

    assert dict(Loan.objects.values_list("pk", "status")) == {
        late.pk: "overdue",
        on_time.pk: "out",
        returned.pk: "returned",
    }
    assert LoanerEvent.objects.filter(loan=late, action="overdue").count() == 1
    # An overdue loan is still open and can be returned (with the late fee).
    assert ret(Loan.objects.get(pk=late.pk)).status == "returned"


def test_mark_overdue_writes_a_loan_overdue_webhook_for_the_centers_partners(center, pool):
    from partners.models import Partner, WebhookDelivery, WebhookEndpoint

    operator = Partner.objects.create(name="Operator")
    operator.centers.add(center)
    bystander = Partner.objects.create(name="Elsewhere")
    WebhookEndpoint.objects.create(
        partner=operator, url="https://op.example/hook", events=["loan.overdue"], secret="s1"
    )
    WebhookEndpoint.objects.create(
        partner=bystander, url="https://by.example/hook", events=["loan.overdue"], secret="s2"
    )
    loan = lend(ticket(center=center))
    Loan.objects.filter(pk=loan.pk).update(**_times(timezone.now() - dt.timedelta(hours=1)))

    services.loans_mark_overdue()

    deliveries = list(WebhookDelivery.objects.values_list("endpoint__partner__name", "event_type", "payload"))
    assert len(deliveries) == 1
    name, event_type, payload = deliveries[0]
    assert (name, event_type) == ("Operator", "loan.overdue")
    assert (
        payload["loan_id"] == loan.pk
        and payload["service_no"] == loan.ticket.service_no
        and payload["status"] == "overdue"
    )
    assert "customer" not in payload and "phone" not in str(payload)


def test_due_tomorrow_uses_local_dates(center, pool):
    now = shanghai(2026, 3, 1, 23, 30)  # 15:30 UTC
    a = lend(ticket(center=center))
    b = lend(ticket(center=center))
    c = lend(ticket(center=center), tier="standard")
    Loan.objects.filter(pk=a.pk).update(**_times(shanghai(2026, 3, 2, 0, 5)))
    Loan.objects.filter(pk=b.pk).update(**_times(shanghai(2026, 3, 2, 23, 59)))
    Loan.objects.filter(pk=c.pk).update(**_times(shanghai(2026, 3, 3, 0, 0)))
    assert [loan.pk for loan in services.loans_due_tomorrow(now=now)] == [a.pk, b.pk]


def test_public_summary(center, pool):
    t = ticket(center=center)
    assert selectors.loan_public_summary(ticket_id=t.pk) is None
    loan = lend(t)
    summary = selectors.loan_public_summary(ticket_id=t.pk)
    assert summary == {
        "status": "out",
        "tier": "flagship",
        "model": "Mate Loaner",
        "due_at": timezone.localtime(loan.due_at),
        "deposit": "2000.00",
    }
    assert summary["due_at"].utcoffset() == dt.timedelta(hours=8)
    assert "imei" not in summary


def test_nearby_search_widens_until_it_finds_centers_and_keeps_the_true_nearest(center):
    urumqi = ServiceCenterFactory(code="XJ001", lat=43.8256, lng=87.6168)  # ~3,270 km away
    LoanerFactory(home_center=urumqi)
    rows = selectors.centers_with_loaner_nearby(center=center, tier="flagship", limit=3)
    assert [(r["code"], r["available"]) for r in rows] == [("XJ001", 1)]
    assert 3000 < rows[0]["distance_km"] < 3500
    # A box corner is farther than its radius: a center ~130 km away diagonally is not mistaken for the nearest.
    corner = ServiceCenterFactory(code="JS001", lat=31.2304 + 0.85, lng=121.4737 + 0.99)
    straight = ServiceCenterFactory(code="SH005", lat=31.2304, lng=121.4737 + 1.15)  # ~109 km due east
    LoanerFactory(home_center=corner)
    LoanerFactory(home_center=straight)
    rows = selectors.centers_with_loaner_nearby(center=center, tier="flagship", limit=1)
    assert [r["code"] for r in rows] == ["SH005"]
