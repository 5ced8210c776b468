"""payments.services: every amount due, payment, notification and refund, with each refusal's code."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from payments import services
from payments.choices import EntryKind, PaymentStatus, RefundStatus
from payments.models import Charge, LedgerEntry, Payment, ProviderNotification
from payments.providers import sandbox
from payments.selectors import ticket_money
from repairs.models import Quote
from repairs.services import ticket_transition
from servicehub.actors import SYSTEM, actor_for_user
from servicehub.errors import DomainError
from servicehub.models import OutboxEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory

from .conftest import SCREEN, repaired

pytestmark = pytest.mark.django_db


def _code(exc_info):
    return exc_info.value.code


def _due(ticket):
    return ticket_money(ticket).amount_due


def _kinds(ticket):
    return list(LedgerEntry.objects.filter(ticket=ticket).order_by("pk").values_list("kind", "amount"))


def _notify(payment, *, amount=None, paid=True):
    headers, body = sandbox.notification_build(
        order_no=payment.order_no, amount=payment.amount if amount is None else amount, paid=paid
    )
    return services.notification_receive(provider="sandbox", headers=headers, body=body, form={})


# --- amounts due --------------------------------------------------------------------------------


def test_approving_a_quote_makes_its_total_due_once(ready):
    quote = Quote.objects.get(ticket=ready, status="approved")
    assert quote.total > 0
    charge = Charge.objects.get(ticket=ready)
    assert (charge.kind, charge.amount, charge.source) == ("repair", quote.total, f"quote:{quote.pk}")
    assert _kinds(ready) == [(EntryKind.DUE, quote.total)]
    assert _due(ready) == quote.total


def test_a_free_quote_is_no_charge(center, people, ops, model):
    # a device in its statutory warranty: the screen is free, the quote is auto-approved
    t = walk_in(center, people["desk"], device=DeviceFactory(model=model))
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))
    assert Quote.objects.get(ticket=t).status == "auto_approved"
    assert not Charge.objects.filter(ticket=t).exists()
    assert _due(t) == 0


def test_a_revised_quote_charges_the_difference(center, people, ops, old_device):
    t = repaired(center, people, old_device, until="start_repair")
    first = ticket_money(t).due
    t = run(
        t,
        ("send_quote", people["eng"], {"lines": [{"repair": "screen"}, {"repair": "battery"}]}),
        ("approve", people["desk"]),
    )
    total = Quote.objects.get(ticket=t, status="approved").total
    assert ticket_money(t).due == total
    assert Charge.objects.filter(ticket=t).count() == 2
    assert Charge.objects.filter(ticket=t).order_by("pk").last().amount == total - first


def test_hand_over_is_refused_while_money_is_due_and_allowed_once_paid(ready, people):
    with pytest.raises(DomainError) as exc:
        ticket_transition(ticket_id=ready.pk, action="hand_over", actor=people["desk"])
    assert (_code(exc), exc.value.status) == ("payment_required", 409)
    ready.refresh_from_db()
    assert ready.status == "ready"
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert ticket_transition(ticket_id=ready.pk, action="hand_over", actor=people["desk"]).status == "delivered"


def test_mail_in_ship_back_needs_the_money(people, ops, old_device, customer):
    from centers.choices import CenterKind
    from repairs.services import ticket_book
    from repairs.workflow import CustomerActor

    hub = ServiceCenterFactory(kind=CenterKind.MAIL_IN_HUB)
    eng, eng2 = (actor_for_user(staff(hub, "engineer", certified=True)) for _i in range(2))
    t = ticket_book(center=hub, customer=customer, device=old_device, fault_category="screen", channel="mail_in")
    t = run(
        t,
        ("check_in", SYSTEM),
        ("start_diagnosis", eng),
        ("send_quote", eng, SCREEN),
        ("approve", CustomerActor(ticket_id=t.pk)),
        ("start_repair", eng),
        ("finish", eng),
        ("qc_pass", eng2),
    )
    with pytest.raises(DomainError) as exc:
        ticket_transition(ticket_id=t.pk, action="ship_back", actor=SYSTEM)
    assert _code(exc) == "payment_required"
    payment = services.payment_create(actor=CustomerActor(ticket_id=t.pk), ticket_id=t.pk, method="wechat_pay")
    assert _notify(payment)[1] == "settled"
    assert ticket_transition(ticket_id=t.pk, action="ship_back", actor=SYSTEM).status == "returning"


# --- counter payments ---------------------------------------------------------------------------


def test_cash_settles_at_once_with_receipt_ledger_row_and_event(ready, people):
    due = _due(ready)
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert (payment.status, payment.amount, payment.provider) == (PaymentStatus.SUCCEEDED, due, "counter")
    assert payment.receipt_no.startswith("R") and payment.succeeded_at is not None
    assert _kinds(ready)[-1] == (EntryKind.PAID, due)
    assert _due(ready) == 0
    event = OutboxEvent.objects.filter(type="payment.succeeded").get()
    assert event.payload["payment_id"] == payment.pk
    assert event.payload["amount"] == str(due)
    assert event.payload["service_no"] == ready.service_no
    assert "name" not in str(event.payload) and "phone" not in str(event.payload)


def test_card_needs_the_terminal_reference(ready, people):
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="card")
    assert (_code(exc), exc.value.field, exc.value.status) == ("validation_error", "reference", 422)
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="card", reference="T-8812")
    assert (payment.status, payment.reference) == (PaymentStatus.SUCCEEDED, "T-8812")


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "１２"])
def test_bad_amounts_are_refused(ready, people, amount):
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount=amount)
    assert _code(exc) == "validation_error"
    assert not Payment.objects.exists()


def test_unknown_method_is_refused(ready, people):
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="bitcoin")
    assert (_code(exc), exc.value.field) == ("validation_error", "method")


def test_partial_payments_then_nothing_more_is_due(ready, people):
    due = _due(ready)
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount="100.00")
    assert _due(ready) == due - Decimal("100.00")
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash", amount=str(due))
    assert (_code(exc), exc.value.status, exc.value.extra["amount_due"]) == (
        "amount_exceeds_due",
        422,
        str(due - Decimal("100.00")),
    )
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert (_code(exc), exc.value.status) == ("payment_not_due", 409)
    assert Payment.objects.filter(ticket=ready).count() == 2


def test_nothing_due_before_a_quote(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=t.pk, method="cash")
    assert _code(exc) == "payment_not_due"


def test_other_centers_and_the_bench_cannot_take_money(ready, people):
    other = actor_for_user(staff(ServiceCenterFactory(), "front_desk"))
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=other, ticket_id=ready.pk, method="cash")
    assert _code(exc) == "not_found"
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["eng"], ticket_id=ready.pk, method="cash")
    assert (_code(exc), exc.value.status) == ("permission_denied", 403)
    assert not Payment.objects.exists()


def test_a_customer_may_only_start_a_qr_payment_for_their_own_ticket(ready):
    from repairs.workflow import CustomerActor

    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=CustomerActor(ticket_id=ready.pk), ticket_id=ready.pk, method="cash")
    assert _code(exc) == "permission_denied"
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=CustomerActor(ticket_id=ready.pk + 1), ticket_id=ready.pk, method="alipay")
    assert _code(exc) == "not_found"
    payment = services.payment_create(actor=CustomerActor(ticket_id=ready.pk), ticket_id=ready.pk, method="alipay")
    assert payment.status == PaymentStatus.PENDING


# --- QR payments and notifications ----------------------------------------------------------------


def test_qr_payment_is_pending_with_a_payload_and_reserves_the_amount(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="wechat_pay")
    assert (payment.status, payment.provider) == (PaymentStatus.PENDING, "sandbox")
    assert payment.qr_payload.endswith(f"/payments/sandbox/{payment.order_no}/")
    assert _due(ready) == payment.amount  # not paid yet
    with pytest.raises(DomainError) as exc:
        services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert _code(exc) == "payment_not_due"
    # cancelling it makes the amount payable again
    services.payment_cancel(payment_id=payment.pk, actor=people["desk"])
    assert services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash").status == "succeeded"
    with pytest.raises(DomainError) as exc:
        services.payment_cancel(payment_id=payment.pk, actor=people["desk"])
    assert _code(exc) == "payment_not_pending"


def test_a_signed_notification_settles_once_and_a_repeat_does_nothing(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="alipay")
    headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
    answer, result = services.notification_receive(provider="sandbox", headers=headers, body=body, form={})
    assert (answer.status, result) == (200, "settled")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.provider_txn_id.startswith("SBT")
    assert payment.receipt_no and payment.qr_payload == ""
    # the provider repeats the same notification: answered, not settled twice
    answer, result = services.notification_receive(provider="sandbox", headers=headers, body=body, form={})
    assert (answer.status, result) == (200, "duplicate")
    # another notification for the same order
    assert _notify(payment)[1] == "already_settled"
    assert LedgerEntry.objects.filter(ticket=ready, kind=EntryKind.PAID).count() == 1
    assert OutboxEvent.objects.filter(type="payment.succeeded").count() == 1
    assert _due(ready) == 0


def test_a_bad_signature_is_refused_and_recorded_nowhere(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="alipay")
    headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
    tampered = body.replace(str(payment.amount).encode(), b"0.01")
    answer, result = services.notification_receive(provider="sandbox", headers=headers, body=tampered, form={})
    assert (answer.status, result) == (400, "bad_signature")
    assert not ProviderNotification.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_an_amount_mismatch_is_refused_and_recorded(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="wechat_pay")
    assert _notify(payment, amount=Decimal("0.01"))[1] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    note = ProviderNotification.objects.get()
    assert (note.result, note.payment_id, note.payload["amount"]) == ("amount_mismatch", payment.pk, "0.01")
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAID).exists()


def test_a_closed_trade_fails_the_payment_and_an_unknown_order_is_recorded(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="wechat_pay")
    assert _notify(payment, paid=False)[1] == "not_paid"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    headers, body = sandbox.notification_build(order_no="P-NOPE", amount=Decimal("1.00"))
    assert services.notification_receive(provider="sandbox", headers=headers, body=body, form={})[1] == "unknown_order"


def test_a_cancelled_qr_payment_the_customer_paid_anyway_is_settled(ready, people):
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="wechat_pay")
    services.payment_cancel(payment_id=payment.pk, actor=people["desk"])
    assert _notify(payment)[1] == "settled"
    assert _due(ready) == 0


# --- refunds ------------------------------------------------------------------------------------


def test_partial_then_full_refund_to_the_method_and_no_more(ready, people):
    due = _due(ready)
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    refund = services.refund_create(payment_id=payment.pk, amount="50.00", reason="goodwill", actor=people["desk"])
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, Decimal("50.00"))
    payment.refresh_from_db()
    assert payment.refunded == Decimal("50.00")
    # the refunded 50 is no longer owed
    assert _due(ready) == 0
    assert ticket_money(ready).amount_paid == due - Decimal("50.00")
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=payment.pk, amount=str(due), reason="again", actor=people["desk"])
    assert (_code(exc), exc.value.status, exc.value.extra["refundable"]) == (
        "refund_exceeds_paid",
        422,
        str(due - Decimal("50.00")),
    )
    services.refund_create(payment_id=payment.pk, reason="repair undone", actor=people["desk"])
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=payment.pk, reason="once more", actor=people["desk"])
    assert (_code(exc), exc.value.status) == ("payment_fully_refunded", 409)
    assert OutboxEvent.objects.filter(type="payment.refunded").count() == 2
    assert LedgerEntry.objects.filter(ticket=ready, kind=EntryKind.REFUNDED).count() == 2


def test_refund_needs_a_reason_a_settled_payment_and_the_counter(ready, people):
    pending = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="alipay")
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=pending.pk, reason="x", actor=people["desk"])
    assert _code(exc) == "payment_not_refundable"
    _notify(pending)
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=pending.pk, reason="  ", actor=people["desk"])
    assert (_code(exc), exc.value.field) == ("validation_error", "reason")
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=pending.pk, reason="x", actor=people["eng"])
    assert _code(exc) == "permission_denied"
    with pytest.raises(DomainError) as exc:
        services.refund_create(payment_id=999999, reason="x", actor=people["desk"])
    assert _code(exc) == "not_found"
    # a QR payment is refunded through its provider (the sandbox answers at once)
    refund = services.refund_create(payment_id=pending.pk, reason="customer asked", actor=people["desk"])
    assert refund.provider_refund_id.startswith("SBR") and refund.status == RefundStatus.SUCCEEDED


def test_refund_of_a_mistaken_payment_keeps_the_amount_due(ready, people):
    due = _due(ready)
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    services.refund_create(payment_id=payment.pk, reason="wanted card", actor=people["desk"], keep_due=True)
    assert _due(ready) == due
    services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="card", reference="T-1")
    assert _due(ready) == 0


# --- waivers ------------------------------------------------------------------------------------


def test_only_a_manager_waives_with_a_reason(ready, people):
    due = _due(ready)
    with pytest.raises(DomainError) as exc:
        services.charge_waive(actor=people["desk"], ticket_id=ready.pk, reason="regular customer")
    assert (_code(exc), exc.value.status) == ("permission_denied", 403)
    with pytest.raises(DomainError) as exc:
        services.charge_waive(actor=people["manager"], ticket_id=ready.pk, reason="")
    assert (_code(exc), exc.value.field) == ("validation_error", "reason")
    with pytest.raises(DomainError) as exc:
        services.charge_waive(actor=people["manager"], ticket_id=ready.pk, reason="x", amount=str(due + 1))
    assert _code(exc) == "waive_exceeds_due"
    assert services.charge_waive(actor=people["manager"], ticket_id=ready.pk, reason="our fault") == due
    charge = Charge.objects.get(ticket=ready)
    assert (charge.waived, charge.waive_reason, charge.waived_by) == (due, "our fault", people["manager"].user)
    assert _due(ready) == 0
    with pytest.raises(DomainError) as exc:
        services.charge_waive(actor=people["manager"], ticket_id=ready.pk, reason="again")
    assert (_code(exc), exc.value.status) == ("nothing_to_waive", 409)
    # waived: the device may go
    assert ticket_transition(ticket_id=ready.pk, action="hand_over", actor=people["desk"]).status == "delivered"


def test_partial_waiver_then_pay_the_rest(ready, people):
    due = _due(ready)
    services.charge_waive(actor=people["manager"], ticket_id=ready.pk, reason="discount", amount="20.00")
    payment = services.payment_create(actor=people["desk"], ticket_id=ready.pk, method="cash")
    assert payment.amount == due - Decimal("20.00")


def test_charge_create_is_once_per_source(ready):
    a = services.charge_create(actor=SYSTEM, kind="other", amount="10", source="x:1", ticket_id=ready.pk)
    b = services.charge_create(actor=SYSTEM, kind="other", amount="10", source="x:1", ticket_id=ready.pk)
    assert a.pk == b.pk
    assert LedgerEntry.objects.filter(charge=a).count() == 1


# --- the database holds the invariants ------------------------------------------------------------


def _payment(ready, **kw):
    fields = {
        "center_id": ready.center_id,
        "ticket": ready,
        "method": "cash",
        "provider": "counter",
        "amount": Decimal("10.00"),
        "order_no": kw.pop("order_no", "P1"),
    }
    return Payment.objects.create(**{**fields, **kw})


@pytest.mark.parametrize(
    "bad",
    [
        {"refunded": Decimal("11.00"), "status": "succeeded"},
        {"refunded": Decimal("1.00"), "status": "pending"},
        {"amount": Decimal("0.00")},
    ],
)
def test_payment_constraints(ready, bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        _payment(ready, **bad)


def test_one_payment_per_provider_transaction(ready):
    _payment(ready, provider="sandbox", provider_txn_id="T1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _payment(ready, provider="sandbox", provider_txn_id="T1", order_no="P2")


def test_ledger_and_charge_constraints(ready):
    charge = Charge.objects.get(ticket=ready)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(pk=charge.pk).update(waived=charge.amount + 1, waive_reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(pk=charge.pk).update(waived=1, waive_reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            center_id=ready.center_id, ticket=ready, kind=EntryKind.PAID, amount=1, at=charge.created_at
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.create(center_id=ready.center_id, kind="other", amount=5)  # no subject
