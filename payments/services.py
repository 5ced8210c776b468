"""Writes for payments: amounts due, waivers, payments, provider notifications, refunds.

Every function is one transaction. It locks the *subject* first (the repair ticket, the loan or the plan
order: ``servicehub.locking``, the order of the layers), so two cashiers -- or a cashier and a QR
notification -- working on one amount due serialise there and the second one sees what the first wrote.
Then it re-checks the balance under the lock, writes its row and the matching ``LedgerEntry`` rows, and
emits its event. The balance is always ``due - waived - paid + refunded`` over the ledger.

Who may do what:

- take a payment or give a refund: front desk or a manager at the counter's center (HQ and superusers
  anywhere), a partner key of that center, the system; a customer on their signed tracking link may
  only start a QR payment for their own ticket;
- waive: a manager of the center (or HQ), always with a reason.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from loaners.choices import AmenityLoanStatus
from loaners.models import AmenityLoan, Loan
from repairs.choices import Action, Channel, QuoteStatus
from repairs.models import Quote, RepairTicket
from repairs.workflow import CustomerActor, GuardRefusal, TransitionContext, role_center_id
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.locking import lock, lock_one
from servicehub.money import MONEY_MAX, ZERO, NonAsciiDigitsError, money
from warranty.choices import PurchaseChannel, PurchaseStatus
from warranty.models import PlanPurchase
from warranty.services import plan_purchase_activate

from . import events
from .choices import ChargeKind, EntryKind, Method, PaymentStatus, RefundStatus
from .models import Charge, LedgerEntry, Payment, ProviderNotification, Refund
from .providers.base import Notification, ProviderError
from .providers.registry import QR_METHODS, provider_for_method, provider_get, provider_name_for_method
from .selectors import Balance, subject_balance

logger = logging.getLogger("servicehub.payments")

COUNTER = "counter"  # the provider of cash and terminal-card payments: the till
MONEY_ROLES = ("front_desk", "manager")
# The subject columns of a money row, as ``_lock_subject`` takes them.
SUBJECT_ID_FIELDS = ("ticket_id", "loan_id", "plan_purchase_id", "amenity_loan_id")
WAIVE_ROLES = ("manager",)


# --- subjects -----------------------------------------------------------------------------------


@dataclass
class Subject:
    """The ticket, loan, plan order or amenity loan money is for, locked; ``center_id`` is where the money is
    taken."""

    ticket: RepairTicket | None = None
    loan: Loan | None = None
    plan_purchase: PlanPurchase | None = None
    amenity_loan: AmenityLoan | None = None
    center_id: int | None = 0
    service_no: str = ""

    @property
    def ids(self) -> dict[str, int | None]:
        return {
            "ticket_id": self.ticket.pk if self.ticket else None,
            "loan_id": self.loan.pk if self.loan else None,
            "plan_purchase_id": self.plan_purchase.pk if self.plan_purchase else None,
            "amenity_loan_id": self.amenity_loan.pk if self.amenity_loan else None,
        }

    @property
    def fields(self) -> dict[str, Model | None]:
        return {
            "ticket": self.ticket,
            "loan": self.loan,
            "plan_purchase": self.plan_purchase,
            "amenity_loan": self.amenity_loan,
        }

    @property
    def staff_center_ids(self) -> set[int | None]:
        """The centers whose staff handle this money (None: a web order, HQ's)."""
        if self.ticket is not None:
            return {self.ticket.center_id, role_center_id(self.ticket, Action.HAND_OVER)}
        if self.amenity_loan is not None and self.amenity_loan.returned_at_center_id:
            # An umbrella brought back to another center of the network: its desk gives the deposit back.
            return {self.center_id, self.amenity_loan.returned_at_center_id}
        return {self.center_id}

    def refund_center_id(self, payment: Payment) -> int | None:
        """Whose drawer the money goes back out of: the payment's center, except for an amenity brought back to
        another center of the network, whose desk hands the deposit back (its daily close counts it)."""
        if self.amenity_loan is not None and self.amenity_loan.returned_at_center_id:
            return self.amenity_loan.returned_at_center_id
        return payment.center_id

    def balance(self) -> Balance:
        return subject_balance(**{k: v for k, v in self.ids.items() if v is not None})


def _lock_subject(
    *,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    amenity_loan_id: int | None = None,
) -> Subject:
    """Lock the subject row (the ticket, the loan, the plan order or the amenity loan); ``not_found`` when there
    is none."""
    given = [x for x in (ticket_id, loan_id, plan_purchase_id, amenity_loan_id) if x is not None]
    if len(given) != 1:
        raise DomainError("validation_error", _("Say what the money is for: one ticket, loan or plan order."))
    if amenity_loan_id is not None:
        amenity_loan = lock_one(AmenityLoan, amenity_loan_id, not_found=_("No such amenity loan."))
        return Subject(amenity_loan=amenity_loan, center_id=amenity_loan.center_id)
    if ticket_id is not None:
        ticket = lock_one(RepairTicket.objects.select_related("center"), ticket_id, not_found=_("No such ticket."))
        return Subject(ticket=ticket, center_id=role_center_id(ticket, Action.HAND_OVER), service_no=ticket.service_no)
    if loan_id is not None:
        loan = lock_one(Loan.objects.select_related("ticket"), loan_id, not_found=_("No such loan."))
        return Subject(loan=loan, center_id=loan.center_id, service_no=loan.ticket.service_no)
    purchase = lock_one(PlanPurchase, plan_purchase_id, not_found=_("No such plan order."))
    if purchase.center_id is None and purchase.channel != PurchaseChannel.WEB:
        raise DomainError("validation_error", _("This plan order was not sold at a center."))
    return Subject(plan_purchase=purchase, center_id=purchase.center_id)  # None: bought online


def _require_actor(actor: Any) -> Actor:
    if not isinstance(actor, Actor):
        raise TypeError("payments services need an actor (jobs pass servicehub.actors.SYSTEM)")
    return actor


def _check_sees(actor: Actor, subject: Subject) -> None:
    if isinstance(actor, CustomerActor):
        if subject.ticket is None or actor.ticket_id != subject.ticket.pk:
            raise NotFound(_("No such ticket."))
        return
    # A web order has no center (None): only actors who see every center (HQ, the system) see it.
    if not any(
        actor.can_see_center(c) if c is not None else actor.center_ids is None for c in subject.staff_center_ids
    ):
        raise NotFound(_("Not found."))


def _check_role(actor: Actor, subject: Subject, roles: tuple[str, ...], message: str) -> None:
    if actor.is_system or isinstance(actor, CustomerActor):
        return
    if actor.user is None:  # a partner key of the center: its scope was checked by the API
        return
    if actor.has_role("hq") or any(actor.has_role(r, c) for r in roles for c in subject.staff_center_ids):
        return
    raise DomainError("permission_denied", message, status=403)


def _user(actor: Actor) -> Any:
    user = actor.user
    return user if getattr(user, "pk", None) else None


def _amount(value: Any, *, field: str = "amount") -> Decimal:
    try:
        amount = money(value)
    except (InvalidOperation, NonAsciiDigitsError, TypeError, ValueError):
        raise DomainError("validation_error", _("Enter an amount like 129.00."), field=field) from None
    if amount <= 0 or amount > MONEY_MAX:
        raise DomainError("validation_error", _("The amount must be more than 0."), field=field)
    return amount


def _ledger(
    subject_fields: dict[str, Any], *, center_id: int | None, kind: str, amount: Decimal, actor: Actor, **rows: Any
):
    return LedgerEntry.objects.create(
        **subject_fields,
        center_id=center_id,
        kind=kind,
        amount=amount,
        actor=actor.label[:150],
        at=timezone.now(),
        **rows,
    )


def _notify_url(provider: str) -> str:
    """Where the provider posts its notification: ``POST /payments/notify/<provider>/`` on the public host."""
    return settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/") + reverse("payments:notify", args=[provider])


def _number(prefix: str) -> str:
    return f"{prefix}{timezone.localtime():%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}"


# --- amounts due ---------------------------------------------------------------------------------


def _charge_add(
    subject: Subject, *, kind: str, amount: Decimal, actor: Actor, source: str = "", description: str = ""
) -> Charge:
    charge = Charge.objects.create(
        **subject.fields,
        center_id=subject.ticket.center_id if subject.ticket else subject.center_id,
        kind=kind,
        amount=amount,
        source=source,
        description=description[:200],
    )
    _ledger(subject.fields, center_id=charge.center_id, kind=EntryKind.DUE, amount=amount, actor=actor, charge=charge)
    return charge


def _within(value: Decimal | None, limit: Decimal, *, code: str, message: str, extra: str) -> Decimal:
    """``value`` (default: all of ``limit``), refused with 422 ``code`` when above ``limit``; the limit is given
    back in the problem's ``extra`` member so a client can offer it."""
    if value is None:
        return limit
    if value > limit:
        raise DomainError(code, message, status=422, field="amount", **{extra: str(limit)})
    return value


def _charge_once(
    subject: Subject, *, source: str, kind: str, amount: Decimal, actor: Actor, description: str = ""
) -> Charge | None:
    """``_charge_add`` unless a charge of that ``source`` exists (a retried checkout or settle charges once);
    the new charge, or None when it was there already. Call with the subject locked."""
    if Charge.objects.filter(source=source).exists():
        return None
    return _charge_add(subject, kind=kind, amount=amount, actor=actor, source=source, description=description)


def _release(subject: Subject, *, amount: Decimal, reason: str, actor: Actor, kinds: tuple[str, ...] = ()) -> Decimal:
    """Take ``amount`` off the subject's charges (newest first), as ``waived`` ledger rows; return what was taken."""
    charges = lock(Charge.objects.filter(**subject.ids))
    left = amount
    for charge in sorted(charges, key=lambda c: (c.created_at, c.pk), reverse=True):
        if left <= 0:
            break
        if kinds and charge.kind not in kinds:
            continue
        room = charge.amount - charge.waived
        part = min(room, left)
        if part <= 0:
            continue
        charge.waived += part
        charge.waive_reason = reason[:2000]
        charge.waived_by = _user(actor)
        charge.waived_at = timezone.now()
        charge.save(update_fields=["waived", "waive_reason", "waived_by", "waived_at"])
        _ledger(
            subject.fields,
            center_id=charge.center_id,
            kind=EntryKind.WAIVED,
            amount=part,
            actor=actor,
            charge=charge,
            note=reason[:200],
        )
        left -= part
    return amount - left


def charge_create(
    *,
    actor: Actor,
    kind: str,
    amount: Any,
    description: str = "",
    source: str = "",
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
) -> Charge:
    """Add an amount due to a subject (a loan's deposit or balance due, a plan order, an extra charge).

    Writes the ``Charge`` and its ``due`` ledger row. The same non-empty ``source`` is charged once: a
    second call returns the first charge. Refuses: ``validation_error`` (kind, amount); ``not_found``.
    """
    _require_actor(actor)
    if kind not in ChargeKind.values:
        raise DomainError("validation_error", _("Unknown kind of charge."), field="kind")
    value = _amount(amount)
    with transaction.atomic():
        subject = _lock_subject(ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id)
        _check_sees(actor, subject)
        if source:
            existing = Charge.objects.filter(source=source).first()
            if existing is not None:
                return existing
        return _charge_add(subject, kind=kind, amount=value, actor=actor, source=source, description=description)


def ticket_quote_charge(ticket: RepairTicket, ctx: TransitionContext) -> None:
    """The APPROVE effect (inside ``ticket_transition``): what the approved quote costs becomes due.

    A revised quote charges the difference to what earlier quotes charged; a lower one releases the
    difference (a ``waived`` row naming the revision; if that was already paid, the amount due goes
    negative and the counter refunds it). A free quote is auto-approved by ``send_quote`` and never
    reaches here: nothing is due.
    """
    quote = Quote.objects.filter(ticket_id=ticket.pk, status=QuoteStatus.APPROVED).order_by("-version").first()
    if quote is None:
        return None
    subject = Subject(ticket=ticket, center_id=role_center_id(ticket, Action.HAND_OVER), service_no=ticket.service_no)
    charged = sum(
        (c.amount - c.waived for c in Charge.objects.filter(ticket_id=ticket.pk, kind=ChargeKind.REPAIR)), ZERO
    )
    delta = quote.total - charged
    if delta > 0:
        _charge_add(
            subject,
            kind=ChargeKind.REPAIR,
            amount=delta,
            actor=ctx.actor,
            source=f"quote:{quote.pk}",
            description=_("Repair, quote v%(v)s") % {"v": quote.version},
        )
    elif delta < 0:
        _release(
            subject,
            amount=-delta,
            reason=_("Revised quote v%(v)s") % {"v": quote.version},
            actor=ctx.actor,
            kinds=(ChargeKind.REPAIR,),
        )
    return None


def ticket_ship_back_refusal(ticket: RepairTicket) -> str | None:
    """The guard on SHIP_BACK: a mail-in parcel goes to the customer, so it leaves only when paid.

    A collection-point device travels back to the collection point and is paid for there, at HAND_OVER."""
    if ticket.channel != Channel.MAIL_IN:
        return None
    return ticket_handover_refusal(ticket)


def ticket_handover_refusal(ticket: RepairTicket) -> str | None:
    """The guard on HAND_OVER: the device leaves us only when nothing is left to pay (or it was waived)."""
    due = subject_balance(ticket_id=ticket.pk).amount_due
    if due > 0:
        return GuardRefusal(
            _("%(amount)s CNY is still to be paid (or waived by a manager) before the device leaves us.")
            % {"amount": due},
            code="payment_required",
        )
    return None


def charge_waive(
    *,
    actor: Actor,
    reason: str,
    amount: Any = None,
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
) -> Decimal:
    """Let the customer off ``amount`` (default: all) of what the subject owes; return the amount waived.

    A manager's decision: writes ``waived`` on the charges (newest first) with who and why, and a
    ``waived`` ledger row per charge. Refuses: ``validation_error`` (no reason, bad amount);
    ``permission_denied`` (403, not a manager there); ``nothing_to_waive`` (409, nothing is due);
    ``waive_exceeds_due`` (422, more than is due); ``not_found``.
    """
    _require_actor(actor)
    why = (reason or "").strip()
    if not why:
        raise DomainError("validation_error", _("Say why the amount is waived."), field="reason")
    value = None if amount in (None, "") else _amount(amount)
    with transaction.atomic():
        subject = _lock_subject(ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id)
        _check_sees(actor, subject)
        if isinstance(actor, CustomerActor):
            raise DomainError("permission_denied", _("Only a manager may waive an amount due."), status=403)
        if actor.user is None and not actor.is_system:
            raise DomainError("permission_denied", _("Only a manager may waive an amount due."), status=403)
        _check_role(actor, subject, WAIVE_ROLES, _("Only a manager may waive an amount due."))
        payable = subject.balance().payable_now
        if payable <= 0:
            raise Conflict("nothing_to_waive", _("Nothing is due here."))
        value = _within(
            value,
            payable,
            code="waive_exceeds_due",
            message=_("Only %(due)s CNY is due.") % {"due": payable},
            extra="amount_due",
        )
        return _release(subject, amount=value, reason=why, actor=actor)


# --- payments ------------------------------------------------------------------------------------


def _settle(payment: Payment, subject: Subject, *, actor: Actor, txn_id: str = "") -> Payment:
    now = timezone.now()
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = now
    if txn_id:
        payment.provider_txn_id = txn_id[:64]
    payment.receipt_no = f"R{timezone.localtime(now):%Y%m%d}{payment.pk:07d}"
    payment.qr_payload = ""
    payment.save(update_fields=["status", "succeeded_at", "provider_txn_id", "receipt_no", "qr_payload"])
    _ledger(
        subject.fields,
        center_id=payment.center_id,
        kind=EntryKind.PAID,
        amount=payment.amount,
        actor=actor,
        payment=payment,
        method=payment.method,
    )
    events.payment_succeeded(payment=payment, service_no=subject.service_no)
    if subject.plan_purchase is not None and subject.plan_purchase.channel == PurchaseChannel.WEB:
        _plan_order_paid(payment, subject.plan_purchase)
    return payment


CANCELLED_ORDER_REFUND_REASON = "The plan order was cancelled (the plan was already active, or the order had expired)."


def _plan_order_paid(payment: Payment, purchase: PlanPurchase) -> None:
    """A web plan order's payment settled: the plan becomes active. When it cannot (the same plan became
    active on the device meanwhile, or the order was abandoned unpaid before this late notification), the
    order is cancelled and the money goes back after the commit. A refund the provider refuses then (the
    notification is still answered: the settlement stands) is retried by ``plan_orders_refund_cancelled``."""
    purchase = plan_purchase_activate(purchase_id=purchase.pk, actor=SYSTEM)
    if purchase.status == PurchaseStatus.ACTIVE:
        return
    payment_id = payment.pk
    transaction.on_commit(lambda: _refund_cancelled_order(payment_id), robust=True)


def _refund_cancelled_order(payment_id: int) -> Refund | None:
    try:
        return refund_create(payment_id=payment_id, reason=CANCELLED_ORDER_REFUND_REASON, actor=SYSTEM)
    except DomainError as exc:
        logger.warning(
            "Refund of cancelled plan order payment %s not made now (%s); retried by the job", payment_id, exc.code
        )
        return None


def plan_orders_refund_cancelled() -> int:
    """Give back what is still kept for cancelled web plan orders (a refund that failed after the settlement);
    how many refunds were made. Called by ``jobs.plan_orders_abandon``; idempotent (``refund_create`` locks
    and re-checks the payment: nothing is refunded twice)."""
    from django.db.models import F

    kept = Payment.objects.filter(
        status=PaymentStatus.SUCCEEDED,
        plan_purchase__channel=PurchaseChannel.WEB,
        plan_purchase__status=PurchaseStatus.CANCELLED,
        refunded__lt=F("amount"),
    ).exclude(refunds__status=RefundStatus.PENDING)
    done = 0
    for payment_id in kept.values_list("pk", flat=True)[:200]:
        done += _refund_cancelled_order(payment_id) is not None
    return done


def _description(subject: Subject) -> str:
    """What the customer's WeChat/Alipay screen says the money is for."""
    if subject.service_no:
        return _("Repair %(no)s") % {"no": subject.service_no}
    if subject.plan_purchase is not None:
        return subject.plan_purchase.product.name
    return _("ServiceHub")


def plan_order_qr(*, plan_purchase_id: int, method: str) -> Payment:
    """The customer pays a web plan order (a ``pending`` purchase) by WeChat Pay or Alipay: the price becomes
    due on the order and a QR payment starts; its settlement activates the plan (``_settle``).

    Refuses: ``validation_error`` (a method other than the QR ones; not a pending web order) and what
    ``payment_create`` refuses (``provider_error``...).
    """
    if method not in QR_METHODS:
        raise DomainError("validation_error", _("Pay by WeChat Pay or Alipay."), field="method")
    with transaction.atomic():
        subject = _lock_subject(plan_purchase_id=plan_purchase_id)
        purchase = subject.plan_purchase
        assert purchase is not None
        if purchase.status != PurchaseStatus.PENDING or purchase.channel != PurchaseChannel.WEB:
            raise DomainError("validation_error", _("This order is not waiting for a payment."))
        _charge_once(
            subject,
            source=f"plan:{purchase.pk}",
            kind=ChargeKind.PLAN,
            amount=purchase.price_paid,
            actor=SYSTEM,
            description=purchase.product.name,
        )
        return payment_create(actor=SYSTEM, method=method, plan_purchase_id=purchase.pk)


def payment_create(
    *,
    actor: Actor,
    method: str,
    amount: Any = None,
    reference: str = "",
    ticket_id: int | None = None,
    loan_id: int | None = None,
    plan_purchase_id: int | None = None,
    notify_url: str = "",
) -> Payment:
    """Take money for a subject: cash and card settle at once, WeChat Pay/Alipay start a QR order.

    ``amount`` defaults to everything payable now (the amount due less pending QR payments). Cash and
    card: the payment is ``succeeded`` with its receipt number, a ``paid`` ledger row and the
    ``payment.succeeded`` event. QR methods: a ``pending`` payment with the provider's ``qr_payload``;
    the provider's notification settles it (``payment_confirm``).
    Refuses: ``validation_error`` (method, amount, a card payment without the terminal reference);
    ``not_found``; ``permission_denied`` (403); ``payment_not_due`` (409: nothing is payable now);
    ``amount_exceeds_due`` (422: more than is payable, with ``amount_due``); ``provider_error`` (502:
    the provider refused to create the order); ``busy`` (409).
    """
    _require_actor(actor)
    if method not in Method.values:
        raise DomainError(
            "validation_error",
            _("Method must be one of: %(v)s.") % {"v": ", ".join(Method.values)},
            field="method",
        )
    reference = (reference or "").strip()
    if method == Method.CARD and not reference:
        # 422, not 400: the body is well-formed (the schema cannot say "reference required for card").
        raise DomainError(
            "validation_error", _("Enter the card terminal's reference number."), status=422, field="reference"
        )
    if isinstance(actor, CustomerActor) and method not in QR_METHODS:
        raise DomainError("permission_denied", _("Pay by WeChat Pay or Alipay."), status=403)
    value = None if amount in (None, "") else _amount(amount)
    with transaction.atomic():
        subject = _lock_subject(ticket_id=ticket_id, loan_id=loan_id, plan_purchase_id=plan_purchase_id)
        _check_sees(actor, subject)
        _check_role(actor, subject, MONEY_ROLES, _("Only the front desk or a manager takes payments."))
        balance = subject.balance()
        payable = balance.payable_now
        if payable <= 0:
            if balance.pending > 0:
                message = _("A QR payment is waiting for the customer's scan; cancel it to take another.")
            else:
                message = _("Nothing is due.")
            raise Conflict("payment_not_due", message, amount_due=str(balance.amount_due))
        value = _within(
            value,
            payable,
            code="amount_exceeds_due",
            message=_("Only %(due)s CNY is due.") % {"due": payable},
            extra="amount_due",
        )
        qr = method in QR_METHODS
        payment = Payment.objects.create(
            **subject.fields,
            center_id=subject.center_id,
            method=method,
            provider=provider_name_for_method(method) if qr else COUNTER,
            amount=value,
            order_no=_number("P"),
            reference=reference[:64],
            created_by=_user(actor),
        )
        if not qr:
            return _settle(payment, subject, actor=actor)
        provider = provider_for_method(method)
        try:
            order = provider.qr_create(
                order_no=payment.order_no,
                amount=value,
                description=_description(subject),
                notify_url=notify_url or _notify_url(payment.provider),
            )
        except ProviderError as exc:
            logger.warning("QR order refused by %s: %s", payment.provider, exc)
            raise DomainError(
                "provider_error", _("The payment provider did not accept the order. Try again."), status=502
            ) from None
        payment.qr_payload = order.qr_payload[:512]
        payment.save(update_fields=["qr_payload"])
        return payment


def payment_cancel(*, payment_id: int, actor: Actor) -> Payment:
    """Give up a pending QR payment (the customer left, or chose another method) so the amount is payable again.

    Refuses: ``not_found``; ``permission_denied``; ``payment_not_pending`` (409). A provider notification
    arriving later for it is still honoured (the money was taken): see ``payment_confirm``.
    """
    _require_actor(actor)
    with transaction.atomic():
        row = Payment.objects.filter(pk=payment_id).values(*SUBJECT_ID_FIELDS).first()
        if row is None:
            raise NotFound(_("No such payment."))
        subject = _lock_subject(**row)
        _check_sees(actor, subject)
        _check_role(actor, subject, MONEY_ROLES, _("Only the front desk or a manager takes payments."))
        payment = lock_one(Payment, payment_id)
        if payment.status != PaymentStatus.PENDING:
            raise Conflict("payment_not_pending", _("Only a payment waiting for the scan can be cancelled."))
        payment.status = PaymentStatus.CANCELLED
        payment.qr_payload = ""
        payment.save(update_fields=["status", "qr_payload"])
        return payment


def payment_confirm(*, provider: str, notification: Notification) -> str:
    """Act on a provider notification whose signature was verified; return what happened.

    Results (also stored on the ``ProviderNotification`` row, which is written once per provider
    notification id): ``settled`` (the payment succeeded now), ``duplicate`` (this notification was seen
    before: nothing done), ``already_settled`` (another notification settled it), ``unknown_order``,
    ``not_paid`` (the provider says the trade closed: a pending payment is marked failed),
    ``amount_mismatch`` (refused: the payment stays pending and the row records both amounts),
    ``txn_reused`` (refused: that provider transaction already settled another payment).
    A payment cancelled at the counter is still settled: the provider did take the money.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                note = ProviderNotification.objects.create(
                    provider=provider,
                    notification_id=notification.notification_id[:128],
                    payload={
                        **notification.payload,
                        "order_no": notification.order_no,
                        "amount": str(notification.amount),
                    },
                )
        except IntegrityError:
            return "duplicate"
        row = (
            Payment.objects.filter(order_no=notification.order_no, provider=provider)
            .values("pk", *SUBJECT_ID_FIELDS)
            .first()
        )
        if row is None:
            note.result = "unknown_order"
            note.save(update_fields=["result"])
            return note.result
        payment_id = row["pk"]
        subject = _lock_subject(**{k: row[k] for k in SUBJECT_ID_FIELDS})
        payment = lock_one(Payment, payment_id)
        note.payment = payment
        if payment.status == PaymentStatus.SUCCEEDED:
            note.result = "already_settled"
        elif not notification.paid:
            if payment.status == PaymentStatus.PENDING:
                payment.status = PaymentStatus.FAILED
                payment.save(update_fields=["status"])
            note.result = "not_paid"
        elif notification.amount != payment.amount:
            logger.warning(
                "Amount mismatch on %s: provider says %s, we asked %s",
                payment.order_no,
                notification.amount,
                payment.amount,
            )
            note.result = "amount_mismatch"
        else:
            try:
                with transaction.atomic():
                    _settle(payment, subject, actor=Actor(is_system=True), txn_id=notification.provider_txn_id)
                note.result = "settled"
            except IntegrityError:
                note.result = "txn_reused"
        note.save(update_fields=["payment", "result"])
        return note.result


def notification_receive(*, provider: str, headers: dict[str, str], body: bytes, form: dict[str, str]):
    """The notify endpoint's work: verify with the provider, confirm, and the provider's expected answer.

    Returns ``(answer, result)``; ``result`` is ``bad_signature`` when the notification does not verify
    (nothing is recorded: an unverified id proves nothing) or ``payment_confirm``'s result.
    """
    try:
        impl = provider_get(provider)
    except KeyError:
        raise NotFound(_("No such payment provider.")) from None
    notification = impl.notification_parse(headers=headers, body=body, form=form)
    if notification is None:
        logger.warning("Payment notification from %s did not verify", provider)
        return impl.answer(ok=False), "bad_signature"
    result = payment_confirm(provider=provider, notification=notification)
    return impl.answer(ok=True), result


# --- refunds -------------------------------------------------------------------------------------


def refund_create(*, payment_id: int, reason: str, actor: Actor, amount: Any = None, keep_due: bool = False) -> Refund:
    """Give money back from one payment, to its method (cash from the drawer, a card/QR through its provider).

    ``amount`` defaults to all that is left of the payment. The refunded amount is no longer owed: it is
    released from the subject's charges (``waived`` rows) -- except the part that was overpaid, and
    except with ``keep_due`` (a payment taken by mistake: the amount stays due, e.g. to pay by another
    method). Writes the ``Refund``, ``payment.refunded``, the ``refunded`` ledger row and the
    ``payment.refunded`` event. Refuses: ``validation_error`` (no reason, bad amount); ``not_found``;
    ``permission_denied``; ``payment_not_refundable`` (409: not a succeeded payment);
    ``payment_fully_refunded`` (409); ``refund_exceeds_paid`` (422, with ``refundable``);
    ``provider_error`` (502: the provider refused; nothing is written).
    """
    _require_actor(actor)
    why = (reason or "").strip()
    if not why:
        raise DomainError("validation_error", _("Say why the money is refunded."), field="reason")
    value = None if amount in (None, "") else _amount(amount)
    with transaction.atomic():
        row = Payment.objects.filter(pk=payment_id).values(*SUBJECT_ID_FIELDS).first()
        if row is None:
            raise NotFound(_("No such payment."))
        subject = _lock_subject(**row)
        _check_sees(actor, subject)
        if isinstance(actor, CustomerActor):
            raise NotFound(_("No such payment."))
        _check_role(actor, subject, MONEY_ROLES, _("Only the front desk or a manager gives refunds."))
        payment = lock_one(Payment, payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            raise Conflict("payment_not_refundable", _("Only a completed payment can be refunded."))
        pending = sum((r.amount for r in payment.refunds.filter(status=RefundStatus.PENDING)), ZERO)
        left = payment.amount - payment.refunded - pending
        if left <= 0:
            raise Conflict("payment_fully_refunded", _("This payment has been refunded in full."))
        value = _within(
            value,
            left,
            code="refund_exceeds_paid",
            message=_("At most %(left)s CNY of this payment can be refunded.") % {"left": left},
            extra="refundable",
        )
        overpaid = max(ZERO, -subject.balance().amount_due)
        refund = Refund.objects.create(
            payment=payment, amount=value, reason=why[:2000], refund_no=_number("F"), created_by=_user(actor)
        )
        if payment.provider == COUNTER:
            succeeded, provider_refund_id = True, ""
        else:
            try:
                result = provider_get(payment.provider).refund(
                    order_no=payment.order_no,
                    provider_txn_id=payment.provider_txn_id,
                    refund_no=refund.refund_no,
                    amount=value,
                    total=payment.amount,
                )
            except ProviderError as exc:
                logger.warning("Refund refused by %s: %s", payment.provider, exc)
                raise DomainError(
                    "provider_error", _("The payment provider did not accept the refund. Try again."), status=502
                ) from None
            succeeded, provider_refund_id = result.succeeded, result.provider_refund_id
        refund.provider_refund_id = provider_refund_id[:64]
        if not succeeded:  # the provider confirms later (WeChat: refund notification); reserved until then
            refund.save(update_fields=["provider_refund_id"])
            return refund
        refund.status = RefundStatus.SUCCEEDED
        refund.succeeded_at = timezone.now()
        refund.save(update_fields=["provider_refund_id", "status", "succeeded_at"])
        payment.refunded += value
        payment.save(update_fields=["refunded"])
        _ledger(
            subject.fields,
            center_id=subject.refund_center_id(payment),
            kind=EntryKind.REFUNDED,
            amount=value,
            actor=actor,
            refund=refund,
            method=payment.method,
            note=why[:200],
        )
        if not keep_due:
            release = value - min(value, overpaid)
            if release > 0:
                _release(subject, amount=release, reason=_("Refunded: %(why)s") % {"why": why}, actor=actor)
        events.payment_refunded(refund=refund, service_no=subject.service_no)
        return refund


# --- deposits: loaners and amenities -------------------------------------------------------------
# Loaners keeps its own deposit ledger (``DepositEntry``: held, deducted, refunded, balance due); the money
# itself goes through this one. The desk and API checkout/return call these in the same transaction as
# ``loan_checkout``/``loan_return`` (and ``amenity_lend``/``amenity_return``), so the two ledgers commit or roll
# back together. A deposit is taken and given back at the counter the same way for both: the two helpers below.


def _deposit_take(
    subject: Subject, *, source: str, kind: str, amount: Decimal, method: str, reference: str, actor: Actor, what: str
) -> Payment | None:
    """The deposit becomes an amount due (charged once per ``source``) and a settled ``counter`` payment by
    ``method``, with its receipt; None when it was taken already. Call with the subject locked."""
    charged = _charge_once(subject, source=source, kind=kind, amount=amount, actor=actor, description=what)
    if charged is None:
        return None
    payment = Payment.objects.create(
        **subject.fields,
        center_id=subject.center_id,
        method=method or Method.CASH,
        provider=COUNTER,
        amount=amount,
        order_no=_number("P"),
        reference=(reference or "")[:64],
        created_by=_user(actor),
    )
    return _settle(payment, subject, actor=actor)


def _deposit_refund(subject: Subject, *, give_back_total: Decimal, reason: str, actor: Actor) -> Refund | None:
    """Bring what was refunded of the subject's deposit payment up to ``give_back_total`` (``refund_create``,
    to the payment's method, released from the deposit charge); None when nothing is left to give back."""
    payment = (
        Payment.objects.filter(**subject.ids, status=PaymentStatus.SUCCEEDED, provider=COUNTER).order_by("pk").first()
    )
    if payment is None:
        return None
    give_back = give_back_total - payment.refunded
    if give_back <= 0:
        return None
    return refund_create(payment_id=payment.pk, amount=give_back, reason=reason, actor=actor)


def loan_deposit_take(*, loan_id: int, actor: Actor) -> Payment | None:
    """At checkout: the loan's deposit becomes an amount due and is paid at once by the loan's method.

    Deposits are taken at the counter (cash, card terminal, or the customer's WeChat/Alipay code scanned
    by the counter's scanner): a ``counter`` payment, settled, with its receipt. None when the loan has no
    deposit (waived for a plan holder). Idempotent: a second call finds the charge and takes nothing.
    """
    _require_actor(actor)
    with transaction.atomic():
        subject = _lock_subject(loan_id=loan_id)
        _check_sees(actor, subject)
        loan = subject.loan
        assert loan is not None
        if loan.deposit <= 0 or loan.deposit_waived:
            return None
        return _deposit_take(
            subject,
            source=f"loan:{loan.pk}:deposit",
            kind=ChargeKind.DEPOSIT,
            amount=loan.deposit,
            method=loan.payment_method,
            reference=loan.payment_reference,
            actor=actor,
            what=_("Loaner deposit"),
        )


def loan_deposit_settle(*, loan_id: int, actor: Actor) -> Refund | None:
    """At return (after ``loan_return``): give back what loaners refunds, keep the deductions, charge the rest.

    The refund goes to the deposit payment's method through ``refund_create`` (which releases it from
    the deposit charge); what was deducted stays paid; a ``balance_due`` beyond the deposit becomes a
    ``deduction`` charge on the loan, collectible with ``payment_create(loan_id=...)``.
    """
    _require_actor(actor)
    with transaction.atomic():
        subject = _lock_subject(loan_id=loan_id)
        _check_sees(actor, subject)
        loan = subject.loan
        assert loan is not None
        refund = _deposit_refund(subject, give_back_total=loan.refunded, reason=_("Loaner returned"), actor=actor)
        if loan.balance_due > 0:
            _charge_once(
                subject,
                source=f"loan:{loan.pk}:balance",
                kind=ChargeKind.DEDUCTION,
                amount=loan.balance_due,
                actor=actor,
                description=_("Loaner deductions beyond the deposit"),
            )
        return refund


def amenity_deposit_take(*, amenity_loan_id: int, actor: Actor) -> Payment | None:
    """At the desk (after ``loaners.services.amenity_lend``): the amenity's deposit becomes an amount due on the
    amenity loan and is paid at once by the loan's method -- a ``counter`` payment, settled, with its receipt.

    None for a free amenity (deposit 0: nothing is charged or paid). Idempotent: a second call takes nothing.
    Refuses: ``not_found`` (no such loan, or not at the actor's centers).
    """
    _require_actor(actor)
    with transaction.atomic():
        subject = _lock_subject(amenity_loan_id=amenity_loan_id)
        _check_sees(actor, subject)
        loan = subject.amenity_loan
        assert loan is not None
        if loan.deposit <= 0:
            return None
        return _deposit_take(
            subject,
            source=f"amenity_loan:{loan.pk}:deposit",
            kind=ChargeKind.AMENITY_DEPOSIT,
            amount=loan.deposit,
            method=loan.payment_method,
            reference=loan.payment_reference,
            actor=actor,
            what=_("Amenity deposit"),
        )


def amenity_deposit_settle(*, amenity_loan_id: int, actor: Actor) -> Refund | None:
    """After ``amenity_return`` / ``amenity_mark_lost``: a returned amenity's deposit goes back in full to its
    method (``refund_create``: released from the deposit charge, so nothing stays due); a lost one's is kept
    (it stays paid). None when nothing is given back (lost, free, or refunded already: idempotent).

    The desk of the center where it came back gives the money back (it may be another center's loan).
    Refuses: ``not_found``; ``invalid_transition`` (409) while the amenity is still out.
    """
    _require_actor(actor)
    with transaction.atomic():
        subject = _lock_subject(amenity_loan_id=amenity_loan_id)
        _check_sees(actor, subject)
        loan = subject.amenity_loan
        assert loan is not None
        if loan.status == AmenityLoanStatus.OUT:
            raise Conflict("invalid_transition", _("The amenity is still out: return it or mark it lost first."))
        if loan.status != AmenityLoanStatus.RETURNED:
            return None  # lost: the deposit is kept
        return _deposit_refund(subject, give_back_total=loan.deposit, reason=_("Amenity returned"), actor=actor)


# --- plan orders ---------------------------------------------------------------------------------


def plan_order_take(*, plan_purchase_id: int, method: str, actor: Actor, reference: str = "") -> Payment | None:
    """A plan sold at the counter: its price becomes due on the plan order and is paid there at once.

    Called by the desk's "sell a plan" page in the sale's transaction. Like deposits, a WeChat/Alipay
    payment at the counter is the customer's code scanned by the counter's scanner (settled at once).
    None for a free plan. Refuses: ``validation_error`` (method); ``not_found``.
    """
    _require_actor(actor)
    if method not in Method.values:
        raise DomainError("validation_error", _("Choose how the customer pays."), field="payment_method")
    with transaction.atomic():
        subject = _lock_subject(plan_purchase_id=plan_purchase_id)
        _check_sees(actor, subject)
        purchase = subject.plan_purchase
        assert purchase is not None
        if purchase.price_paid <= 0:
            return None
        charged = _charge_once(
            subject,
            source=f"plan:{purchase.pk}",
            kind=ChargeKind.PLAN,
            amount=purchase.price_paid,
            actor=actor,
            description=purchase.product.name,
        )
        if charged is None:
            return None
        payment = Payment.objects.create(
            **subject.fields,
            center_id=subject.center_id,
            method=method,
            provider=COUNTER,
            amount=purchase.price_paid,
            order_no=_number("P"),
            reference=(reference or "")[:64],
            created_by=_user(actor),
        )
        return _settle(payment, subject, actor=actor)
