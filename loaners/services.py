"""Writes for loaners: every status change of a loaner or a loan, every ledger entry.

Each function is one transaction: lock the row(s) (``servicehub.locking``: pk order, lock timeout,
``busy`` 409), re-check the state under the lock, write, append the history row
(``LoanerEvent``) and the ledger rows (``DepositEntry``) in the same
transaction. Refusals are ``DomainError`` with a stable code.

Every function takes an ``actor`` and checks it may see the center (objects of other centers
do not exist for it: ``not_found``); jobs and commands pass ``servicehub.actors.SYSTEM``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from repairs.choices import OPEN_STATUSES as TICKET_OPEN_STATUSES
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.locking import lock, lock_first_free, lock_one
from servicehub.money import ZERO, money
from warranty.choices import Tier
from warranty.models import validate_imei

from . import events, selectors
from .choices import (
    OPEN_LOAN_STATUSES,
    AmenityKind,
    AmenityLoanStatus,
    AmenityStockReason,
    EntryKind,
    LoanerAction,
    LoanerCondition,
    LoanerStatus,
    LoanStatus,
    PaymentMethod,
    ReturnCondition,
)
from .models import Amenity, AmenityLoan, AmenityStockMove, DepositEntry, Loan, Loaner, LoanerEvent, LoanerTransfer

_OPEN = [s.value for s in OPEN_LOAN_STATUSES]


# --- helpers ---------------------------------------------------------------------------


def _user(actor):
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


def _label(actor) -> str:
    return actor.label


def _require_actor(actor) -> Actor:
    """No service runs for nobody: a missing actor is a programming error, not "see everything"."""
    if not isinstance(actor, Actor):
        raise TypeError("loaners services need an actor (jobs and commands pass servicehub.actors.SYSTEM)")
    return actor


def _check_center(actor, center_id: int, what: str) -> None:
    """Objects of centers the actor cannot see do not exist for them."""
    if not _require_actor(actor).can_see_center(center_id):
        raise NotFound(_("No such %(what)s.") % {"what": what})


def _lock_loaner(loaner_id: int, actor) -> Loaner:
    _require_actor(actor)
    loaner = lock_one(Loaner, loaner_id, not_found=_("No such loaner."))
    if not (actor.can_see_center(loaner.current_center_id) or actor.can_see_center(loaner.home_center_id)):
        raise NotFound(_("No such loaner."))
    return loaner


def _refuse(loaner_or_loan, action_label: str, allowed: list[str] | None = None):
    return DomainError(
        "invalid_transition",
        _("Cannot %(action)s while the status is %(status)s.")
        % {"action": action_label, "status": loaner_or_loan.get_status_display()},
        status=409,
        allowed_actions=allowed or [],
    )


def _event(
    *, loaner: Loaner, action: str, from_status: str, actor, at: datetime, loan=None, note: str = "", center_id=None
):
    return LoanerEvent.objects.create(
        loaner=loaner,
        loan=loan,
        action=action,
        from_status=from_status,
        to_status=loaner.status,
        center_id=center_id or loaner.current_center_id,
        actor=_user(actor),
        actor_label=_label(actor),
        note=note[:300],
        at=at,
    )


def _append_entry(*, loan: Loan, kind: str, amount: Decimal, from_deposit: Decimal, at: datetime, actor, **fields):
    """Append one ledger row to a locked loan and move its running totals.

    The totals move with ``F()`` increments in the database, not by saving values
    computed in Python: even a writer working from a stale copy of the loan cannot
    push ``refunded + deducted-from-deposit`` past ``held`` (the check constraint fails).
    """
    seq = (loan.entries.aggregate(m=Max("seq"))["m"] or 0) + 1
    if kind == EntryKind.HOLD:
        change = {"held": F("held") + amount}
    elif kind == EntryKind.REFUND:
        change = {"refunded": F("refunded") + amount}
    else:
        change = {"deducted": F("deducted") + amount, "balance_due": F("balance_due") + (amount - from_deposit)}
    Loan.objects.filter(pk=loan.pk).update(**change, updated_at=timezone.now())
    totals = Loan.objects.filter(pk=loan.pk).values("held", "refunded", "deducted", "balance_due").get()
    for name, value in totals.items():
        setattr(loan, name, value)
    return DepositEntry.objects.create(
        loan=loan,
        seq=seq,
        kind=kind,
        amount=amount,
        from_deposit=from_deposit,
        balance_after=loan.held - loan.refunded - (loan.deducted - loan.balance_due),
        center_id=loan.center_id,
        at=at,
        actor=_user(actor),
        actor_label=_label(actor),
        **fields,
    )


# --- pool --------------------------------------------------------------------------------


@transaction.atomic
def loaner_register(
    *,
    imei: str,
    model,
    home_center,
    actor,
    condition: str = LoanerCondition.NEW,
    accessories=(),
    replacement_value: Decimal | str | int = ZERO,
    wiped_at: datetime | None = None,
) -> Loaner:
    """Add a loaner to a center's pool (status ``available``).

    Without ``wiped_at`` it needs a recorded wipe before its first loan.
    Refuses a bad or duplicate IMEI, an unknown condition (``validation_error``)
    and a center outside the actor's (``not_found``).
    """
    imei = (imei or "").strip()
    try:
        validate_imei(imei)
    except ValidationError as exc:
        raise DomainError("validation_error", exc.messages[0], field="imei") from None
    if condition not in LoanerCondition.values:
        raise DomainError("validation_error", _("Unknown condition."), field="condition")
    _check_center(actor, home_center.pk, _("center"))
    if Loaner.objects.filter(imei=imei).exists():
        raise DomainError("validation_error", _("A loaner with this IMEI exists already."), field="imei")
    now = timezone.now()
    loaner = Loaner.objects.create(
        imei=imei,
        model=model,
        home_center=home_center,
        current_center=home_center,
        condition=condition,
        status=LoanerStatus.AVAILABLE,
        accessories=list(accessories),
        replacement_value=money(replacement_value),
        last_wiped_at=wiped_at,
        needs_wipe=wiped_at is None,
    )
    _event(loaner=loaner, action=LoanerAction.REGISTER, from_status="", actor=actor, at=now)
    return loaner


@transaction.atomic
def loaner_wipe(*, loaner_id: int, actor, note: str = "") -> Loaner:
    """Record a factory reset: ``last_wiped_at`` = now, ``needs_wipe`` off (status unchanged).

    Refuses a loaner that is out, transferring or retired (``invalid_transition``, 409).
    """
    loaner = _lock_loaner(loaner_id, actor)
    if loaner.status not in (LoanerStatus.AVAILABLE, LoanerStatus.MAINTENANCE):
        raise _refuse(loaner, _("wipe"))
    now = timezone.now()
    loaner.last_wiped_at = now
    loaner.needs_wipe = False
    loaner.save(update_fields=["last_wiped_at", "needs_wipe", "updated_at"])
    _event(loaner=loaner, action=LoanerAction.WIPE, from_status=loaner.status, actor=actor, at=now, note=note)
    return loaner


@transaction.atomic
def loaner_maintenance_done(*, loaner_id: int, condition: str, actor, note: str = "") -> Loaner:
    """Back from maintenance: ``maintenance`` -> ``available`` with its new condition.

    Refuses another status (409 ``invalid_transition``) and ``damaged`` as the new
    condition (``validation_error``: a damaged phone stays in maintenance or is retired).
    """
    if condition not in LoanerCondition.values or condition == LoanerCondition.DAMAGED:
        raise DomainError("validation_error", _("Choose new, good or fair."), field="condition")
    loaner = _lock_loaner(loaner_id, actor)
    if loaner.status != LoanerStatus.MAINTENANCE:
        raise _refuse(loaner, _("finish maintenance"))
    before = loaner.status
    loaner.status = LoanerStatus.AVAILABLE
    loaner.condition = condition
    loaner.save(update_fields=["status", "condition", "updated_at"])
    _event(
        loaner=loaner,
        action=LoanerAction.MAINTENANCE_DONE,
        from_status=before,
        actor=actor,
        at=timezone.now(),
        note=note,
    )
    return loaner


@transaction.atomic
def loaner_transfer_send(*, loaner_id: int, to_center, actor, note: str = "") -> LoanerTransfer:
    """Send an available loaner to another center: ``available`` -> ``transferring`` plus a transfer row.

    Refuses another status (409 ``invalid_transition``), the same or an inactive
    center (``validation_error``), a loaner outside the actor's centers (``not_found``).
    """
    loaner = _lock_loaner(loaner_id, actor)
    if loaner.status != LoanerStatus.AVAILABLE:
        raise _refuse(loaner, _("send"))
    if to_center.pk == loaner.current_center_id or not to_center.active:
        raise DomainError("validation_error", _("Choose another, active center."), field="to_center")
    now = timezone.now()
    transfer = LoanerTransfer.objects.create(
        loaner=loaner,
        from_center_id=loaner.current_center_id,
        to_center=to_center,
        sent_at=now,
        sent_by=_user(actor),
        note=note[:300],
    )
    before = loaner.status
    loaner.status = LoanerStatus.TRANSFERRING
    loaner.save(update_fields=["status", "updated_at"])
    _event(
        loaner=loaner,
        action=LoanerAction.TRANSFER_SEND,
        from_status=before,
        actor=actor,
        at=now,
        note=_("to %(code)s") % {"code": to_center.code},
    )
    return transfer


@transaction.atomic
def loaner_transfer_receive(*, loaner_id: int, actor, note: str = "") -> LoanerTransfer:
    """Receive a loaner in transfer: it is now at the destination, ``available``.

    Refuses a loaner not in transfer (409 ``invalid_transition``) and a receiver who
    cannot see the destination center (``not_found``).
    """
    _require_actor(actor)
    # The loaner, then its open transfer (parent before child).
    loaner = lock_one(Loaner, loaner_id, not_found=_("No such loaner."))
    transfers = lock(
        LoanerTransfer.objects.filter(loaner_id=loaner_id, received_at__isnull=True).select_related("to_center")
    )
    transfer = transfers[0] if transfers else None
    if transfer is None and not actor.can_see_center(loaner.current_center_id):
        raise NotFound(_("No such loaner."))
    if loaner.status != LoanerStatus.TRANSFERRING or transfer is None:
        raise _refuse(loaner, _("receive"))
    _check_center(actor, transfer.to_center_id, _("loaner"))
    now = timezone.now()
    transfer.received_at = now
    transfer.received_by = _user(actor)
    transfer.save(update_fields=["received_at", "received_by"])
    before = loaner.status
    loaner.status = LoanerStatus.AVAILABLE
    loaner.current_center_id = transfer.to_center_id
    loaner.save(update_fields=["status", "current_center", "updated_at"])
    _event(loaner=loaner, action=LoanerAction.TRANSFER_RECEIVE, from_status=before, actor=actor, at=now, note=note)
    return transfer


@transaction.atomic
def loaner_retire(*, loaner_id: int, actor, note: str = "") -> Loaner:
    """Take a loaner out of the pool for good (``available``/``maintenance`` -> ``retired``).

    Refuses a loaner that is out or in transfer, or already retired (409 ``invalid_transition``).
    """
    loaner = _lock_loaner(loaner_id, actor)
    if loaner.status not in (LoanerStatus.AVAILABLE, LoanerStatus.MAINTENANCE):
        raise _refuse(loaner, _("retire"))
    before = loaner.status
    loaner.status = LoanerStatus.RETIRED
    loaner.save(update_fields=["status", "updated_at"])
    _event(loaner=loaner, action=LoanerAction.RETIRE, from_status=before, actor=actor, at=timezone.now(), note=note)
    return loaner


# --- lending -------------------------------------------------------------------------------


def _pick_loaner(*, center_id: int, tier: str) -> Loaner | None:
    """Lock one lendable loaner; concurrent checkouts skip each other's rows instead of queueing."""
    return lock_first_free(selectors.loaners_lendable(center_id=center_id, tier=tier))


def loan_checkout(
    *,
    ticket_id: int,
    tier: str,
    payment_method: str,
    actor,
    reference: str = "",
    terms_accepted: bool = True,
) -> Loan:
    """Lend a wiped, available loaner of ``tier`` at the ticket's center and take the deposit.

    Writes the loan (status ``out``, due at the ticket's promised time or now + the
    default repair days, plus the grace days), the loaner's ``lend`` event and the
    deposit ``hold`` entry (none when the deposit is waived for a plan holder).
    Refuses:
    ``validation_error`` (400): unknown tier or payment method, terms not accepted;
    ``not_found`` (404): no such ticket at the actor's centers;
    ``invalid_transition`` (409): the ticket is not between received and ready;
    ``loan_exists`` (409): the ticket already has an open loan;
    ``overdue_loan`` (409): the customer has an overdue loan;
    ``no_loaner_available`` (409): none of the tier here, with ``nearby_centers``.
    """
    from repairs.models import RepairTicket

    if tier not in Tier.values:
        raise DomainError(
            "validation_error", _("Tier must be one of: %(v)s.") % {"v": ", ".join(Tier.values)}, field="tier"
        )
    if payment_method and payment_method not in PaymentMethod.values:
        raise DomainError(
            "validation_error",
            _("Payment method must be one of: %(v)s.") % {"v": ", ".join(PaymentMethod.values)},
            field="payment_method",
        )
    if not terms_accepted:
        raise DomainError("validation_error", _("The customer must accept the loan terms."), field="terms_accepted")

    _require_actor(actor)
    with transaction.atomic():
        # The ticket lock serialises checkouts of one ticket; its status is read under it. It is taken
        # with the lock timeout like every lock (a stuck transaction on the ticket answers ``busy``).
        ticket = lock_one(
            RepairTicket.objects.select_related("center", "device"), ticket_id, not_found=_("No such ticket.")
        )
        _check_center(actor, ticket.center_id, _("ticket"))
        if ticket.status not in TICKET_OPEN_STATUSES:
            raise DomainError(
                "invalid_transition",
                _("A loaner can only be lent while the device is with us (received to ready); this ticket is %(s)s.")
                % {"s": ticket.get_status_display()},
                status=409,
                allowed_actions=[],
            )
        existing = Loan.objects.filter(ticket_id=ticket.pk, status__in=_OPEN).values_list("pk", flat=True).first()
        if existing:
            raise Conflict("loan_exists", _("This ticket already has a loaner out."), loan_id=existing)
        now = timezone.now()
        if Loan.objects.filter(
            Q(status=LoanStatus.OVERDUE) | Q(status=LoanStatus.OUT, due_at__lt=now), customer_id=ticket.customer_id
        ).exists():
            raise Conflict("overdue_loan", _("The customer has an overdue loaner; it must be returned first."))

        terms = selectors.deposit_terms_for(center=ticket.center, tier=tier, device=ticket.device)
        if not terms.waived and not payment_method:
            raise DomainError("validation_error", _("Choose how the deposit is paid."), field="payment_method")

        loaner = _pick_loaner(center_id=ticket.center_id, tier=tier)
        if loaner is None:
            raise Conflict(
                "no_loaner_available",
                _("No %(tier)s loaner is available at this center.") % {"tier": Tier(tier).label},
                tier=tier,
                center=ticket.center.code,
                nearby_centers=selectors.centers_with_loaner_nearby(center=ticket.center, tier=tier),
            )
        try:
            with transaction.atomic():  # savepoint: a constraint hit becomes a clean 409
                loan = Loan.objects.create(
                    ticket=ticket,
                    loaner=loaner,
                    customer_id=ticket.customer_id,
                    center_id=ticket.center_id,
                    tier=tier,
                    status=LoanStatus.OUT,
                    out_at=now,
                    due_at=selectors.loan_due_at(promised_at=ticket.promised_at, now=now),
                    condition_out=loaner.condition,
                    accessories_out=list(loaner.accessories),
                    terms_accepted_at=now,
                    payment_method="" if terms.waived else payment_method,
                    payment_reference=(reference or "")[:64],
                    deposit=terms.deposit,
                    deposit_waived=terms.waived,
                    late_fee_per_day=terms.late_fee_per_day,
                    lent_by=_user(actor),
                )
        except IntegrityError:
            raise Conflict("loan_exists", _("This ticket or loaner already has an open loan.")) from None
        before = loaner.status
        loaner.status = LoanerStatus.OUT
        loaner.save(update_fields=["status", "updated_at"])
        _event(
            loaner=loaner,
            loan=loan,
            action=LoanerAction.LEND,
            from_status=before,
            actor=actor,
            at=now,
            note=_("ticket %(no)s") % {"no": ticket.service_no},
        )
        if terms.deposit > 0:
            _append_entry(
                loan=loan,
                kind=EntryKind.HOLD,
                amount=terms.deposit,
                from_deposit=ZERO,
                at=now,
                actor=actor,
                payment_method=payment_method,
                reference=(reference or "")[:64],
            )
        return loan


def _lock_loan(loan_id: int) -> Loan | None:
    """Lock the loan's loaner, then the loan (parent before child, the documented order); ``None`` if no such loan.

    A second return of the same loan waits here, then sees it returned. The loaner of a loan never
    changes, so its id is read before the locks. (The concurrency test's control replaces this.)
    """
    loaner_id = Loan.objects.filter(pk=loan_id).values_list("loaner_id", flat=True).first()
    if loaner_id is None:
        return None
    loaner = lock_one(Loaner, loaner_id)
    rows = lock(Loan.objects.filter(pk=loan_id))
    if not rows:
        return None
    loan = rows[0]
    loan.loaner = loaner
    return loan


def loan_return(
    *,
    loan_id: int,
    condition: str,
    deductions: list[dict],
    actor,
    at: datetime | None = None,
) -> Loan:
    """Take a loaner back: deductions (late fee, loss computed), refund, loan closed, loaner to wipe/maintenance.

    Writes, in one transaction: one ``deduction`` entry per line of
    ``selectors.loan_settlement`` and a ``refund`` entry for what is left of the
    deposit; the loan becomes ``returned`` (``lost`` for condition ``lost``) with
    ``balance_due`` for deductions beyond the deposit; the loaner becomes
    available-but-needs-wipe (``ok``), ``maintenance`` (``damaged`` or
    ``missing_accessories``) or ``retired`` (``lost``).
    Refuses: ``not_found`` (404), ``invalid_transition`` (409: not open, e.g. returned
    twice), ``validation_error`` (400: unknown condition, deduction without a reason,
    zero or negative amount).
    """
    _require_actor(actor)
    with transaction.atomic():
        loan = _lock_loan(loan_id)
        if loan is None:
            raise NotFound(_("No such loan."))
        _check_center(actor, loan.center_id, _("loan"))
        if not loan.is_open:  # re-checked under the lock: a second return stops here
            raise _refuse(loan, _("return"))
        loaner = loan.loaner  # locked with the loan by _lock_loan
        settlement = selectors.loan_settlement(loan=loan, condition=condition, deductions=deductions, at=at)
        now = settlement.at
        method = loan.payment_method
        for line in settlement.lines:
            _append_entry(
                loan=loan,
                kind=EntryKind.DEDUCTION,
                amount=line.amount,
                from_deposit=line.from_deposit,
                at=now,
                actor=actor,
                deduction_kind=line.kind,
                reason=line.reason[:300],
                payment_method=method,
            )
        if settlement.refund > 0:
            _append_entry(
                loan=loan,
                kind=EntryKind.REFUND,
                amount=settlement.refund,
                from_deposit=settlement.refund,
                at=now,
                actor=actor,
                payment_method=method,
                reference=loan.payment_reference,
            )
        loan.status = settlement.loan_status
        loan.condition_in = condition
        loan.returned_by = _user(actor)
        if condition != ReturnCondition.LOST:
            loan.returned_at = now
        # Totals were moved by _append_entry; never write them back from this copy.
        loan.save(update_fields=["status", "condition_in", "returned_by", "returned_at", "updated_at"])

        before = loaner.status
        if condition == ReturnCondition.LOST:
            loaner.status = LoanerStatus.RETIRED
            action = LoanerAction.LOST
        else:
            action = LoanerAction.RETURN
            loaner.needs_wipe = True
            if condition == ReturnCondition.OK:
                loaner.status = LoanerStatus.AVAILABLE
            else:
                loaner.status = LoanerStatus.MAINTENANCE
                if condition == ReturnCondition.DAMAGED:
                    loaner.condition = LoanerCondition.DAMAGED
        loaner.save(update_fields=["status", "needs_wipe", "condition", "updated_at"])
        _event(
            loaner=loaner,
            loan=loan,
            action=action,
            from_status=before,
            actor=actor,
            at=now,
            note=_("refund %(r)s, deducted %(d)s, balance due %(b)s")
            % {"r": settlement.refund, "d": settlement.deducted, "b": settlement.balance_due},
        )
        return loan


# --- jobs ------------------------------------------------------------------------------------


def loans_mark_overdue(*, now: datetime | None = None) -> int:
    """Mark loans past their ``due_at`` as ``overdue`` (one short transaction each); returns how many.

    Idempotent: a loan already overdue or returned meanwhile is skipped under its lock.
    """
    now = now or timezone.now()
    ids = list(Loan.objects.filter(status=LoanStatus.OUT, due_at__lt=now).order_by("pk").values_list("pk", flat=True))
    marked = 0
    for loan_id in ids:
        with transaction.atomic():
            rows = lock(
                Loan.objects.select_related("loaner", "ticket", "center").filter(
                    pk=loan_id, status=LoanStatus.OUT, due_at__lt=now
                )
            )
            if not rows:
                continue
            loan = rows[0]
            loan.status = LoanStatus.OVERDUE
            loan.save(update_fields=["status", "updated_at"])
            _event(
                loaner=loan.loaner,
                loan=loan,
                action=LoanerAction.OVERDUE,
                from_status=loan.loaner.status,
                actor=SYSTEM,
                at=now,
                center_id=loan.center_id,
            )
            # In this transaction: the outbox row commits with the change. The partners operating the center
            # hear of it (partners.subscribers), the customer gets the "overdue" message (notifications.reminders).
            events.loan_overdue(loan=loan)
            marked += 1
    return marked


def loans_due_tomorrow(*, now: datetime | None = None) -> QuerySet:
    """Loans still out whose ``due_at`` falls on tomorrow's local (Asia/Shanghai) date (for the reminder job)."""
    now = now or timezone.now()
    start, end = selectors.local_day_bounds(timezone.localdate(now) + timedelta(days=1))
    return (
        selectors.loans_due_between(start=start, end=end)
        .select_related("customer", "ticket", "loaner__model", "center")
        .order_by("due_at", "pk")
    )


# --- amenities (issue #22): umbrellas, power banks, reading glasses lent at the desk ----------------------------
# The deposit's money goes through payments at the interfaces, in the same transaction as these services
# (``payments.services.amenity_deposit_take`` / ``amenity_deposit_settle``), as for loaner deposits: loaners stands
# below payments and never imports it.

AMENITY_DESK_ROLES = ("front_desk", "manager")
AMENITY_STOCK_ROLES = ("manager",)
AMENITY_MAX_STOCK = 10_000


def _amenity_desk_center(actor, center_id: int):
    """The center whose desk the actor works (front desk, managers; HQ and the system anywhere)."""
    from centers.models import ServiceCenter

    _require_actor(actor)
    center = ServiceCenter.objects.filter(pk=center_id, active=True).first()
    if center is None or not actor.can_see_center(center.pk):
        raise NotFound(_("No such center."))
    if not (actor.is_system or actor.user is None or actor.has_role("hq")) and not any(
        actor.has_role(role, center.pk) for role in AMENITY_DESK_ROLES
    ):
        raise DomainError(
            "permission_denied", _("Only the front desk and managers of this center lend amenities."), status=403
        )
    return center


def _stock_move(amenity: Amenity, *, reason: str, delta: int, actor, at=None, loan=None, note: str = ""):
    """The history row of a change of ``amenity.on_hand`` (already saved, under its lock), in the caller's
    transaction."""
    return AmenityStockMove.objects.create(
        amenity=amenity,
        delta=delta,
        on_hand_after=amenity.on_hand,
        reason=reason,
        loan=loan,
        by=_user(actor),
        by_label=_label(actor)[:150],
        at=at or timezone.now(),
        note=(note or "")[:300],
    )


def _lock_amenity(amenity_id: int) -> Amenity:
    """Lock the amenity row: lends of its last one serialise here. (The concurrency test's control replaces this.)"""
    return lock_one(Amenity.objects.select_related("center"), amenity_id, not_found=_("No such amenity."))


def amenity_lend(
    *,
    amenity_id: int,
    borrower_name: str,
    borrower_phone: str,
    actor,
    payment_method: str = "",
    reference: str = "",
    note: str = "",
) -> AmenityLoan:
    """Lend one amenity from a center's shelf to a person, against its deposit (may be 0).

    Locks the amenity row, re-checks the shelf under the lock, takes one off ``on_hand`` and writes the loan
    (``out``, due back after the amenity's ``loan_days``) and its ``AmenityStockMove`` (``lend``, -1); a refused
    lend writes neither. The deposit's money is taken by the caller in the same
    transaction (``payments.services.amenity_deposit_take``).
    Refuses: ``validation_error`` (400: no name, not a phone number, no or unknown payment method while a deposit is
    due); ``not_found`` (404: no such amenity at the actor's centers); ``permission_denied`` (403: not the center's
    front desk or a manager); ``amenity_unavailable`` (409: inactive, or none on the shelf);
    ``amenity_loan_exists`` (409: this phone already has one of this kind out, anywhere, with ``loan_id``).
    """
    from servicehub.phones import phone_normalize

    _require_actor(actor)
    name = " ".join((borrower_name or "").split())[:60]
    if not name:
        raise DomainError("validation_error", _("Enter the borrower's name."), field="borrower_name")
    phone = phone_normalize(borrower_phone, field="borrower_phone")
    if payment_method and payment_method not in PaymentMethod.values:
        raise DomainError(
            "validation_error",
            _("Payment method must be one of: %(v)s.") % {"v": ", ".join(PaymentMethod.values)},
            field="payment_method",
        )
    with transaction.atomic():
        center_id = Amenity.objects.filter(pk=amenity_id).values_list("center_id", flat=True).first()
        if center_id is None:
            raise NotFound(_("No such amenity."))
        _amenity_desk_center(actor, center_id)
        amenity = _lock_amenity(amenity_id)
        if amenity.deposit > 0 and not payment_method:
            raise DomainError("validation_error", _("Choose how the deposit is paid."), field="payment_method")
        if not amenity.active or amenity.on_hand <= 0:  # re-checked under the lock: the last one goes once
            raise Conflict(
                "amenity_unavailable",
                _("No %(name)s is left to lend here.") % {"name": amenity.name},
                on_hand=amenity.on_hand,
            )
        existing = (
            AmenityLoan.objects.filter(borrower_phone=phone, kind=amenity.kind, status=AmenityLoanStatus.OUT)
            .values_list("pk", flat=True)
            .first()
        )
        if existing:
            raise Conflict(
                "amenity_loan_exists",
                _("This phone number already has a %(name)s out; it must come back first.") % {"name": amenity.name},
                loan_id=existing,
            )
        now = timezone.now()
        try:
            with transaction.atomic():  # savepoint: a constraint hit past the check becomes a clean 409
                loan = AmenityLoan.objects.create(
                    center_id=amenity.center_id,
                    amenity=amenity,
                    kind=amenity.kind,
                    borrower_name=name,
                    borrower_phone=phone,
                    deposit=amenity.deposit,
                    payment_method=payment_method if amenity.deposit > 0 else "",
                    payment_reference=(reference or "")[:64] if amenity.deposit > 0 else "",
                    status=AmenityLoanStatus.OUT,
                    lent_at=now,
                    due_back_at=now + timedelta(days=amenity.loan_days),
                    note=(note or "")[:300],
                    lent_by=_user(actor),
                    actor_label=_label(actor)[:150],
                )
        except IntegrityError:
            raise Conflict(
                "amenity_loan_exists", _("This phone number already has one of these out; it must come back first.")
            ) from None
        amenity.on_hand -= 1
        amenity.save(update_fields=["on_hand", "updated_at"])
        _stock_move(amenity, reason=AmenityStockReason.LEND, delta=-1, actor=actor, at=now, loan=loan)
        return loan


def _lock_amenity_loan(loan_id: int) -> AmenityLoan:
    """Lock the loan (a second return waits here, then sees it returned)."""
    return lock_one(
        AmenityLoan.objects.select_related("amenity", "center"), loan_id, not_found=_("No such amenity loan.")
    )


def amenity_return(
    *, loan_id: int, actor, center_id: int | None = None, borrower_phone: str = "", at: datetime | None = None
) -> AmenityLoan:
    """Take an amenity back, at the center that lent it or at any other center of the network.

    ``center_id``: the desk where it comes back (default: the lending center). It goes back on that center's shelf
    (its amenity of the same kind; one is added, empty, if that center had none), with its ``AmenityStockMove``
    (``return``, +1) on that shelf. At another center the desk must
    give the borrower's phone number (what the borrower tells them): a loan id alone proves nothing, and a loan of
    another center answers ``not_found`` without it.
    The deposit goes back through ``payments.services.amenity_deposit_settle``, called by the interface in the same
    transaction. Refuses: ``not_found`` (404); ``permission_denied`` (403: not the desk of the return center);
    ``invalid_transition`` (409: not out -- returned twice, or lost).
    """
    from servicehub.phones import phone_normalize

    _require_actor(actor)
    with transaction.atomic():
        # The lending center and the kind never change: read before the locks.
        row = AmenityLoan.objects.filter(pk=loan_id).values("center_id", "kind", "borrower_phone").first()
        if row is None:
            raise NotFound(_("No such amenity loan."))
        lent_at_center = row["center_id"]
        back_at = center_id or lent_at_center
        if back_at == lent_at_center:
            if not actor.can_see_center(lent_at_center):
                raise NotFound(_("No such amenity loan."))
        elif not actor.can_see_center(lent_at_center):
            # Another center's loan: the borrower's phone number is what shows the desk it is theirs.
            try:
                phone = phone_normalize(borrower_phone, field="borrower_phone") if borrower_phone else ""
            except DomainError:
                phone = ""
            if not phone or phone != row["borrower_phone"]:
                raise NotFound(_("No such amenity loan."))
        back_center = _amenity_desk_center(actor, back_at)
        # Parents before children: the shelf it goes back on, then the loan.
        shelf_id = Amenity.objects.filter(center_id=back_at, kind=row["kind"]).values_list("pk", flat=True).first()
        if shelf_id is None:
            origin = Amenity.objects.get(loans__pk=loan_id)
            shelf_id = Amenity.objects.get_or_create(
                center_id=back_at,
                kind=row["kind"],
                defaults={
                    "name_zh": origin.name_zh,
                    "name_en": origin.name_en,
                    "deposit": origin.deposit,
                    "loan_days": origin.loan_days,
                    "on_hand": 0,
                },
            )[0].pk
        shelf = lock_one(Amenity, shelf_id)
        loan = _lock_amenity_loan(loan_id)
        if loan.status != AmenityLoanStatus.OUT:  # re-checked under the lock: a second return stops here
            raise _refuse(loan, _("return"))
        now = at or timezone.now()
        loan.status = AmenityLoanStatus.RETURNED
        loan.returned_at = now
        loan.returned_at_center = back_center
        loan.closed_by = _user(actor)
        loan.closed_by_label = _label(actor)[:150]
        loan.save(update_fields=["status", "returned_at", "returned_at_center", "closed_by", "closed_by_label"])
        shelf.on_hand += 1
        shelf.save(update_fields=["on_hand", "updated_at"])
        _stock_move(shelf, reason=AmenityStockReason.RETURN, delta=1, actor=actor, at=now, loan=loan)
        return loan


def amenity_mark_lost(*, loan_id: int, actor, note: str = "") -> AmenityLoan:
    """The borrower will not bring it back: the loan becomes ``lost`` and its deposit is kept (nothing refunded;
    the shelf stays one short: its ``AmenityStockMove`` is ``lost`` with delta 0). Only the lending center's desk.
    Refuses: ``not_found`` (404); ``permission_denied`` (403); ``invalid_transition`` (409: not out)."""
    _require_actor(actor)
    with transaction.atomic():
        center_id = AmenityLoan.objects.filter(pk=loan_id).values_list("center_id", flat=True).first()
        if center_id is None or not actor.can_see_center(center_id):
            raise NotFound(_("No such amenity loan."))
        _amenity_desk_center(actor, center_id)
        # Parents before children (as a return): the shelf, read for the history row, then the loan.
        amenity_id = AmenityLoan.objects.filter(pk=loan_id).values_list("amenity_id", flat=True).get()
        shelf = lock_one(Amenity, amenity_id)
        loan = _lock_amenity_loan(loan_id)
        if loan.status != AmenityLoanStatus.OUT:
            raise _refuse(loan, _("mark lost"))
        loan.status = AmenityLoanStatus.LOST
        loan.lost_at = timezone.now()
        loan.closed_by = _user(actor)
        loan.closed_by_label = _label(actor)[:150]
        if note:
            loan.note = note[:300]
        loan.save(update_fields=["status", "lost_at", "closed_by", "closed_by_label", "note"])
        # The shelf was one short since the lend: the history says it will stay so.
        _stock_move(shelf, reason=AmenityStockReason.LOST, delta=0, actor=actor, at=loan.lost_at, loan=loan, note=note)
        return loan


def amenity_loan_mark_reminded(*, loan_id: int, now: datetime | None = None) -> bool:
    """Record that the borrower's overdue reminder goes out (compare-and-set: False when it already had, or the
    loan is not out any more -- returned or lost meanwhile)."""
    return bool(
        AmenityLoan.objects.filter(pk=loan_id, status=AmenityLoanStatus.OUT, reminded_at__isnull=True).update(
            reminded_at=now or timezone.now()
        )
    )


def amenity_save_check(
    *,
    actor,
    center_id: int,
    kind: str,
    name_zh: str,
    name_en: str,
    deposit,
    on_hand: int,
    loan_days: int = 3,
    active: bool = True,
    position: int = 0,
    amenity_id: int | None = None,
) -> dict:
    """What ``amenity_save`` would write, checked and cleaned, without writing anything: the admin form runs it in
    its ``clean()`` so a refusal shows next to the field with what was typed. Refuses as ``amenity_save``."""
    _require_actor(actor)
    if kind not in AmenityKind.values:
        raise DomainError("validation_error", _("Unknown kind."), field="kind")
    if not (name_zh or "").strip() or not (name_en or "").strip():
        raise DomainError("validation_error", _("Give the name in Chinese and in English."), field="name_zh")
    try:
        value = money(deposit)
    except Exception:
        raise DomainError("validation_error", _("Enter an amount like 20.00."), field="deposit") from None
    if value < 0:
        raise DomainError("validation_error", _("The deposit cannot be negative."), field="deposit")
    if not (0 <= int(on_hand) <= AMENITY_MAX_STOCK):
        raise DomainError("validation_error", _("Enter how many are on the shelf (0 to 10000)."), field="on_hand")
    if int(loan_days) < 1:
        raise DomainError("validation_error", _("Lend it for at least one day."), field="loan_days")
    from centers.models import ServiceCenter

    if not ServiceCenter.objects.filter(pk=center_id).exists() or not actor.can_see_center(center_id):
        raise NotFound(_("No such center."))
    if not (actor.is_system or actor.has_role("hq") or any(actor.has_role(r, center_id) for r in AMENITY_STOCK_ROLES)):
        raise DomainError("permission_denied", _("Only the center's managers set up amenities."), status=403)
    if amenity_id is not None:
        current = Amenity.objects.filter(pk=amenity_id).values_list("center_id", flat=True).first()
        if current is None or not actor.can_see_center(current):
            raise NotFound(_("No such amenity."))
    if Amenity.objects.filter(center_id=center_id, kind=kind).exclude(pk=amenity_id or 0).exists():
        raise DomainError("validation_error", _("This center has this kind of amenity already."), field="kind")
    return {
        "center_id": center_id,
        "kind": kind,
        "name_zh": name_zh.strip()[:60],
        "name_en": name_en.strip()[:60],
        "deposit": value,
        "on_hand": int(on_hand),
        "loan_days": int(loan_days),
        "active": bool(active),
        "position": int(position),
    }


def amenity_save(
    *,
    actor,
    center_id: int,
    kind: str,
    name_zh: str,
    name_en: str,
    deposit,
    on_hand: int,
    loan_days: int = 3,
    active: bool = True,
    position: int = 0,
    amenity_id: int | None = None,
) -> Amenity:
    """A manager sets up an amenity of their center and counts its shelf (``on_hand`` as counted now).

    An existing row is locked first, so a lend landing while the form was open is not lost behind the manager's
    back: what they typed is what is on the shelf after the save. A count that changes the number writes its
    ``AmenityStockMove`` (reason ``count``, the difference) in the same transaction.
    Refuses (``amenity_save_check``): ``validation_error`` (400: names, kind, deposit below 0, stock outside
    0..10000, days below 1; the kind exists at the center); ``not_found`` (404); ``permission_denied`` (403:
    managers of the center and HQ only).
    """
    with transaction.atomic():
        fields = amenity_save_check(
            actor=actor,
            center_id=center_id,
            kind=kind,
            name_zh=name_zh,
            name_en=name_en,
            deposit=deposit,
            on_hand=on_hand,
            loan_days=loan_days,
            active=active,
            position=position,
            amenity_id=amenity_id,
        )
        if amenity_id is None:
            amenity = Amenity.objects.create(**fields)
            if amenity.on_hand:
                _stock_move(amenity, reason=AmenityStockReason.COUNT, delta=amenity.on_hand, actor=actor)
            return amenity
        amenity = lock_one(Amenity, amenity_id, not_found=_("No such amenity."))
        if not actor.can_see_center(amenity.center_id):
            raise NotFound(_("No such amenity."))
        counted_before = amenity.on_hand
        for name, v in fields.items():
            setattr(amenity, name, v)
        amenity.save()
        if amenity.on_hand != counted_before:
            _stock_move(amenity, reason=AmenityStockReason.COUNT, delta=amenity.on_hand - counted_before, actor=actor)
        return amenity
