"""Amenities lent at the desk against a deposit (issue #22): stock, deposits through the payments ledger, returns at
another center, lost items, and what each desk may do."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from loaners import selectors, services
from loaners.models import Amenity, AmenityLoan
from payments import services as money
from payments.choices import ChargeKind, EntryKind
from payments.models import Charge, LedgerEntry, Payment, Refund
from payments.selectors import subject_balance
from servicehub.actors import SYSTEM
from servicehub.errors import DomainError

from .amenity_fixtures import PHONE, PHONE_E164

pytestmark = pytest.mark.django_db
D = Decimal


def lend(desks, amenity="umbrella", actor="desk", phone=PHONE, method="cash", name="王阿姨"):
    """What the desk page and the API do: the loan and its deposit in one transaction."""
    actor = desks["actors"][actor] if isinstance(actor, str) else actor
    with transaction.atomic():
        loan = services.amenity_lend(
            amenity_id=desks[amenity].pk,
            borrower_name=name,
            borrower_phone=phone,
            payment_method=method,
            actor=actor,
        )
        money.amenity_deposit_take(amenity_loan_id=loan.pk, actor=actor)
    return loan


def give_back(desks, loan, actor="desk", **kw):
    actor = desks["actors"][actor] if isinstance(actor, str) else actor
    with transaction.atomic():
        loan = services.amenity_return(loan_id=loan.pk, actor=actor, **kw)
        refund = money.amenity_deposit_settle(amenity_loan_id=loan.pk, actor=actor)
    return loan, refund


def code_of(call) -> str:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.code


# --- lending ----------------------------------------------------------------------------------------------


def test_lending_takes_one_off_the_shelf_and_the_deposit_through_the_ledger(desks):
    loan = lend(desks)
    assert (loan.status, loan.kind, loan.borrower_phone, loan.deposit) == ("out", "umbrella", PHONE_E164, D("20.00"))
    assert (loan.due_back_at - loan.lent_at).days == 3
    desks["umbrella"].refresh_from_db()
    assert desks["umbrella"].on_hand == 4
    charge = Charge.objects.get(amenity_loan=loan)
    assert (charge.kind, charge.amount, charge.source) == (
        ChargeKind.AMENITY_DEPOSIT,
        D("20.00"),
        f"amenity_loan:{loan.pk}:deposit",
    )
    payment = Payment.objects.get(amenity_loan=loan)
    assert (payment.method, payment.provider, payment.status, payment.center) == (
        "cash",
        "counter",
        "succeeded",
        desks["a"],
    )
    assert payment.receipt_no.startswith("R") and payment.created_by == desks["users"]["desk"]
    kinds = list(LedgerEntry.objects.filter(amenity_loan=loan).values_list("kind", "amount"))
    assert kinds == [(EntryKind.DUE, D("20.00")), (EntryKind.PAID, D("20.00"))]
    assert subject_balance(amenity_loan_id=loan.pk).amount_due == 0
    # taken once: a retried call charges nothing more
    assert money.amenity_deposit_take(amenity_loan_id=loan.pk, actor=SYSTEM) is None
    assert Payment.objects.filter(amenity_loan=loan).count() == 1


def test_a_free_amenity_takes_no_money_and_needs_no_method(desks):
    loan = lend(desks, "power_bank", method="")
    assert (loan.deposit, loan.payment_method) == (D("0.00"), "")
    assert not LedgerEntry.objects.filter(amenity_loan=loan).exists()
    assert not Payment.objects.filter(amenity_loan=loan).exists()


def test_a_deposit_needs_a_method_and_a_refusal_writes_nothing(desks):
    assert code_of(lambda: lend(desks, method="")) == "validation_error"
    assert code_of(lambda: lend(desks, method="bitcoin")) == "validation_error"
    assert code_of(lambda: lend(desks, phone="12345")) == "validation_error"
    assert code_of(lambda: lend(desks, name="   ")) == "validation_error"
    desks["umbrella"].refresh_from_db()
    assert desks["umbrella"].on_hand == 5
    assert not AmenityLoan.objects.exists() and not LedgerEntry.objects.exists()


def test_lend_beyond_stock_is_refused(desks):
    lend(desks, "power_bank", method="", phone="13800000001")
    lend(desks, "power_bank", method="", phone="13800000002")
    with pytest.raises(DomainError) as exc:
        lend(desks, "power_bank", method="", phone="13800000003")
    assert (exc.value.code, exc.value.status, exc.value.extra["on_hand"]) == ("amenity_unavailable", 409, 0)
    assert AmenityLoan.objects.filter(kind="power_bank").count() == 2


def test_an_inactive_amenity_is_not_lent(desks):
    Amenity.objects.filter(pk=desks["umbrella"].pk).update(active=False)
    assert code_of(lambda: lend(desks)) == "amenity_unavailable"


def test_one_open_loan_per_phone_and_kind_network_wide(desks):
    first = lend(desks)
    with pytest.raises(DomainError) as exc:
        lend(desks, "umbrella_b", actor="desk_b", phone="+86 138 1234 5678")
    assert (exc.value.code, exc.value.extra["loan_id"]) == ("amenity_loan_exists", first.pk)
    lend(desks, "power_bank", method="")  # another kind is fine
    give_back(desks, first)
    lend(desks, "umbrella_b", actor="desk_b")  # once it is back, the phone may borrow again


def test_the_database_holds_one_open_loan_per_phone_and_kind(desks):
    loan = lend(desks)
    with pytest.raises(IntegrityError), transaction.atomic():
        AmenityLoan.objects.create(
            center=desks["b"],
            amenity=desks["umbrella_b"],
            kind="umbrella",
            borrower_name="x",
            borrower_phone=loan.borrower_phone,
            deposit=D("0"),
            lent_at=timezone.now(),
            due_back_at=timezone.now() + timezone.timedelta(days=1),
        )


@pytest.mark.parametrize(
    "change, constraint",
    [
        # SQLite names the positive field's own column check before the table's (PostgreSQL names ours)
        ({"on_hand": -1}, "amenity_on_hand_gte_0|CHECK constraint failed: on_hand$"),
        ({"deposit": D("-1")}, "amenity_deposit_gte_0"),
    ],
)
def test_the_database_refuses_a_negative_shelf_or_deposit(desks, change, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        Amenity.objects.filter(pk=desks["umbrella"].pk).update(**change)


def test_an_engineer_or_another_centers_desk_cannot_lend_here(desks):
    assert code_of(lambda: lend(desks, actor="eng")) == "permission_denied"
    assert code_of(lambda: lend(desks, actor="desk_b")) == "not_found"
    assert not AmenityLoan.objects.exists()


# --- returning --------------------------------------------------------------------------------------------


def test_return_refunds_the_deposit_to_its_method_and_the_ledger_balances(desks):
    loan = lend(desks)
    loan, refund = give_back(desks, loan)
    assert (loan.status, loan.returned_at_center, loan.closed_by) == ("returned", desks["a"], desks["users"]["desk"])
    assert (refund.amount, refund.status, refund.payment.method) == (D("20.00"), "succeeded", "cash")
    desks["umbrella"].refresh_from_db()
    assert desks["umbrella"].on_hand == 5
    balance = subject_balance(amenity_loan_id=loan.pk)
    assert (balance.due, balance.waived, balance.paid, balance.refunded) == (D("20"), D("20"), D("20"), D("20"))
    assert (balance.amount_due, balance.amount_paid) == (0, 0)
    # nothing twice: a second settle refunds nothing, a second return is refused
    assert money.amenity_deposit_settle(amenity_loan_id=loan.pk, actor=SYSTEM) is None
    assert code_of(lambda: give_back(desks, loan)) == "invalid_transition"
    assert Refund.objects.count() == 1


def test_settling_while_still_out_is_refused(desks):
    loan = lend(desks)
    assert code_of(lambda: money.amenity_deposit_settle(amenity_loan_id=loan.pk, actor=SYSTEM)) == (
        "invalid_transition"
    )


def test_an_umbrella_may_come_back_to_another_center_and_counts_back_there(desks):
    loan = lend(desks)
    loan, refund = give_back(desks, loan, actor="desk_b", center_id=desks["b"].pk, borrower_phone="138 1234 5678")
    assert (loan.status, loan.center, loan.returned_at_center) == ("returned", desks["a"], desks["b"])
    assert refund.amount == D("20.00")
    desks["umbrella"].refresh_from_db()
    desks["umbrella_b"].refresh_from_db()
    assert (desks["umbrella"].on_hand, desks["umbrella_b"].on_hand) == (4, 2)
    assert subject_balance(amenity_loan_id=loan.pk).amount_paid == 0
    # the cash went into A's drawer and out of B's: each center's daily close counts its own
    rows = dict(LedgerEntry.objects.filter(amenity_loan=loan).values_list("kind", "center__code"))
    assert (rows[EntryKind.PAID], rows[EntryKind.REFUNDED]) == ("SC-AM1", "SC-AM2")
    # the desk that took it back sees it now; the lending desk still does
    assert selectors.amenity_loans_visible(actor=desks["actors"]["desk_b"]).filter(pk=loan.pk).exists()


def test_a_center_without_that_kind_gets_a_shelf_for_it(desks):
    loan = lend(desks, "power_bank", method="")
    give_back(desks, loan, actor="desk_b", center_id=desks["b"].pk, borrower_phone=PHONE)
    shelf = Amenity.objects.get(center=desks["b"], kind="power_bank")
    assert (shelf.on_hand, shelf.name_zh, shelf.deposit) == (1, "充电宝", D("0.00"))


def test_another_centers_desk_needs_the_borrowers_phone(desks):
    """A loan id is a guessable number: without the phone the borrower tells them, it does not exist for B."""
    loan = lend(desks)
    b = {"actor": "desk_b", "center_id": desks["b"].pk}
    assert code_of(lambda: give_back(desks, loan, **b)) == "not_found"
    assert code_of(lambda: give_back(desks, loan, borrower_phone="13900000000", **b)) == "not_found"
    assert code_of(lambda: give_back(desks, loan, actor="desk_b")) == "not_found"  # as if at A
    assert code_of(lambda: services.amenity_mark_lost(loan_id=loan.pk, actor=desks["actors"]["desk_b"])) == (
        "not_found"
    )
    loan.refresh_from_db()
    assert loan.status == "out" and not Refund.objects.exists()
    assert not selectors.amenity_loans_visible(actor=desks["actors"]["desk_b"]).filter(pk=loan.pk).exists()


def test_lost_keeps_the_deposit(desks):
    loan = lend(desks)
    with transaction.atomic():
        loan = services.amenity_mark_lost(loan_id=loan.pk, actor=desks["actors"]["desk"], note="不还了")
        assert money.amenity_deposit_settle(amenity_loan_id=loan.pk, actor=desks["actors"]["desk"]) is None
    assert (loan.status, loan.note) == ("lost", "不还了") and loan.lost_at is not None
    assert not Refund.objects.exists()
    assert subject_balance(amenity_loan_id=loan.pk).amount_paid == D("20.00")
    desks["umbrella"].refresh_from_db()
    assert desks["umbrella"].on_hand == 4
    assert code_of(lambda: give_back(desks, loan)) == "invalid_transition"


# --- stock, figures --------------------------------------------------------------------------------------


def test_managers_set_up_and_count_the_shelf_and_nobody_else(desks):
    args = {
        "center_id": desks["a"].pk,
        "kind": "reading_glasses",
        "name_zh": "老花镜",
        "name_en": "Reading glasses",
        "deposit": "10",
        "on_hand": 3,
    }
    assert code_of(lambda: services.amenity_save(actor=desks["actors"]["desk"], **args)) == "permission_denied"
    assert code_of(lambda: services.amenity_save(actor=desks["actors"]["desk_b"], **args)) == "not_found"
    bad = {**args, "deposit": "-1"}
    assert code_of(lambda: services.amenity_save(actor=desks["actors"]["manager"], **bad)) == "validation_error"
    glasses = services.amenity_save(actor=desks["actors"]["manager"], **args)
    assert (glasses.on_hand, glasses.deposit) == (3, D("10.00"))
    dup = {**args, "kind": "umbrella"}
    assert code_of(lambda: services.amenity_save(actor=desks["actors"]["manager"], **dup)) == "validation_error"


def test_hq_figures_by_center_and_kind_and_deposits_held(desks):
    lend(desks, phone="13800000001")
    lost = lend(desks, phone="13800000002")
    back = lend(desks, phone="13800000003")
    lend(desks, "power_bank", method="")
    services.amenity_mark_lost(loan_id=lost.pk, actor=desks["actors"]["desk"])
    give_back(desks, back, actor="desk_b", center_id=desks["b"].pk, borrower_phone="13800000003")
    today = timezone.localdate()
    data = selectors.amenity_figures(center_ids=None, since=today, until=today)
    rows = {(r["center"], r["kind"]): r for r in data["rows"]}
    umbrellas = rows[("SC-AM1", "umbrella")]
    assert (umbrellas["lent"], umbrellas["returned"], umbrellas["returned_elsewhere"], umbrellas["lost"]) == (
        3,
        1,
        1,
        1,
    )
    assert (umbrellas["out"], umbrellas["kept"]) == (1, D("20.00"))
    assert rows[("SC-AM1", "power_bank")]["lent"] == 1
    assert data["held"]["SC-AM1"] == {"held": D("20.00"), "out": 2, "overdue": 0}
    scoped = selectors.amenity_figures(center_ids=frozenset({desks["b"].pk}), since=today, until=today)
    assert scoped["rows"] == [] and scoped["held"] == {}
