"""Writes: device registration, plan sales, refunds, claims and their release.

Each function is one transaction. State changes lock the row first
(``servicehub.locking``: pk order, lock timeout, ``busy`` 409), re-check the
state under the lock, write, and append a ``PlanPurchaseEvent`` ledger row.
Services that change a purchase or a claim take an ``actor`` and check its scope
themselves (what the actor may not see does not exist: ``not_found``); jobs pass
``servicehub.actors.SYSTEM``.
``device_get_or_register``, ``plan_claim_use`` and ``plan_claims_release`` are
cross-app contracts used by the repairs app: keep their signatures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import overload

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import SYSTEM, Actor
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.locking import lock, lock_many, lock_one
from servicehub.money import money

from . import dates, events
from .choices import (
    ClaimStatus,
    NotEligibleReason,
    PlanKind,
    PurchaseAction,
    PurchaseChannel,
    PurchaseStatus,
    SaleChannel,
)
from .identity import device_id_require
from .models import Device, DeviceModel, PlanClaim, PlanProduct, PlanPurchase, PlanPurchaseEvent, validate_imei
from .selectors import (
    normalize_imei,
    plan_price_for,
    plan_product_eligible,
    plan_purchase_visible,
    statutory_policy_for,
)

# A purchase/sale time this far ahead of the server clock is still accepted (clock skew of a till).
CLOCK_SKEW = dt.timedelta(minutes=5)
# No device of this maker was sold before; an earlier date is a typo (or year 1, which has no sensible
# UTC offset in Asia/Shanghai: it would be answered with the +08:05:43 local mean time).
EARLIEST_SALE_DATE = dt.date(2000, 1, 1)


# --- helpers -------------------------------------------------------------------


def _actor_user(actor):
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


def _actor_label(actor) -> str:
    return actor.label if actor is not None else "system"


def _require_actor(actor) -> Actor:
    if not isinstance(actor, Actor):
        raise TypeError("warranty services need an actor (jobs and commands pass servicehub.actors.SYSTEM)")
    return actor


def _check_purchase_scope(purchase: PlanPurchase, actor) -> None:
    """A purchase the actor may not see (``selectors.plan_purchases_visible``) does not exist for them."""
    if not plan_purchase_visible(purchase=purchase, actor=_require_actor(actor)):
        raise NotFound(_("No such plan purchase."))


def _check_ticket_scope(ticket, actor) -> None:
    """Claims follow the repair: an actor who cannot see the ticket's center cannot use or release them."""
    _require_actor(actor)
    centers = [c for c in (getattr(ticket, "center_id", None), getattr(ticket, "origin_center_id", None)) if c]
    if centers and not any(actor.can_see_center(c) for c in centers):
        raise NotFound(_("No such ticket."))


def not_eligible(reason: str, message: str | None = None) -> DomainError:
    return DomainError("not_eligible", message or str(NotEligibleReason(reason).label), status=422, reason=reason)


def _clean_imei(imei: str) -> str:
    imei = normalize_imei(imei)
    try:
        validate_imei(imei)
    except ValidationError as exc:
        raise DomainError("validation_error", exc.messages[0], field="imei") from None
    return imei


def _clean_serial(serial: str | None) -> str | None:
    serial = (serial or "").strip() or None
    if serial is not None and len(serial) > 64:
        raise DomainError("validation_error", _("A serial number has at most 64 characters."), field="serial")
    return serial


@overload
def _clean_sold_at(sold_at: dt.datetime, *, field: str = ...) -> dt.datetime: ...
@overload
def _clean_sold_at(sold_at: None, *, field: str = ...) -> None: ...
@overload
def _clean_sold_at(sold_at: dt.datetime | None, *, field: str = ...) -> dt.datetime | None: ...
def _clean_sold_at(sold_at: dt.datetime | None, *, field: str = "sold_at") -> dt.datetime | None:
    if sold_at is None:
        return None
    if not isinstance(sold_at, dt.datetime):
        raise DomainError("validation_error", _("Give the sale time as a date and time."), field=field)
    if timezone.is_naive(sold_at):
        sold_at = timezone.make_aware(sold_at)
    earliest = timezone.make_aware(dt.datetime.combine(EARLIEST_SALE_DATE, dt.time()))
    if sold_at < earliest:
        raise DomainError(
            "validation_error",
            _("The sale date cannot be before %(date)s.") % {"date": EARLIEST_SALE_DATE.isoformat()},
            field=field,
        )
    if sold_at > timezone.now() + CLOCK_SKEW:
        raise DomainError("validation_error", _("The sale date cannot be in the future."), field=field)
    return sold_at


def _model_by_code(model_code: str | None) -> DeviceModel:
    model = DeviceModel.objects.filter(code=(model_code or "").strip()).first() if model_code else None
    if model is None:
        if not model_code:
            raise DomainError(
                "validation_error", _("We do not know this device yet: choose its model from the list."), field="model"
            )
        raise DomainError("validation_error", _("Unknown device model: %s.") % model_code, field="model")
    return model


def _event(purchase: PlanPurchase, *, action: str, from_status: str, actor, note: str = "", at=None) -> None:
    PlanPurchaseEvent.objects.create(
        purchase=purchase,
        action=action,
        from_status=from_status,
        to_status=purchase.status,
        claims_used=purchase.claims_used,
        actor=_actor_user(actor),
        actor_label=_actor_label(actor),
        note=note[:300],
        at=at or timezone.now(),
    )


# --- devices -------------------------------------------------------------------


def device_get_or_register(
    *,
    imei: str | None = None,
    serial: str | None = None,
    model_code: str | None = None,
    sold_at: dt.datetime | None = None,
    proof_note: str = "",
    actor=None,
) -> Device:
    """Find a device by IMEI (else serial); register it at check-in when it was never registered.

    Changes: creates a ``Device`` (channel ``unregistered``, ``sold_at`` = the proof-of-purchase
    date entered at the desk, ``proof_note`` kept) when none matches. An existing device is
    returned unchanged (its sale data is never overwritten here).
    Refuses (``validation_error``): neither IMEI nor serial (field ``imei``); malformed IMEI
    (field ``imei``); unknown model code when a device must be created (field ``model``);
    a sale date in the future (field ``sold_at``).
    """
    device_id_require(imei, serial)
    clean_imei = _clean_imei(imei) if imei else None
    clean_serial = _clean_serial(serial)
    lookup: dict[str, str | None] = {"imei": clean_imei} if clean_imei else {"serial": clean_serial}
    existing = Device.objects.select_related("model").filter(**lookup).first()
    if existing is None and clean_imei and clean_serial:
        # Known by its serial only so far (e.g. registered before the IMEI was read): same device.
        existing = Device.objects.select_related("model").filter(serial=clean_serial, imei__isnull=True).first()
    if existing is not None:
        return existing
    model = _model_by_code(model_code)
    sold_at = _clean_sold_at(sold_at)
    try:
        with transaction.atomic():
            return Device.objects.create(
                imei=clean_imei,
                serial=clean_serial,
                model=model,
                sold_at=sold_at,
                channel=SaleChannel.UNREGISTERED,
                proof_of_purchase_note=(proof_note or "")[:300],
            )
    except IntegrityError:
        # Registered concurrently by another desk (unique IMEI/serial): use that one.
        found = Device.objects.select_related("model").filter(**lookup).first()
        if found is None:
            raise DomainError(
                "validation_error", _("This serial number belongs to another device."), field="serial"
            ) from None
        return found


@transaction.atomic
def device_register_sale(
    *,
    imei: str | None = None,
    serial: str | None = None,
    model_code: str,
    sold_at: dt.datetime,
    retailer=None,
    channel: str = SaleChannel.RETAIL,
    region=None,
    actor=None,
) -> Device:
    """A retailer registers a sold device; its statutory warranty starts at ``sold_at``.

    Changes: creates the ``Device``; or completes a device that was registered at a repair
    check-in without a sale date (locked row; model must match).
    Refuses: ``validation_error`` for a missing/malformed IMEI (field ``imei``), an unknown
    model (``model``), a missing or future sale date (``sold_at``), an unknown channel
    (``channel``); 409 ``device_exists`` when the device is already registered as sold.
    """
    device_id_require(imei, serial)
    clean_imei = _clean_imei(imei) if imei else None
    clean_serial = _clean_serial(serial)
    model = _model_by_code(model_code)
    if sold_at is None:
        raise DomainError("validation_error", _("The sale date is required."), field="sold_at")
    sold_at = _clean_sold_at(sold_at)
    if channel not in SaleChannel.values:
        raise DomainError("validation_error", _("Unknown sales channel."), field="channel")
    lookup: dict[str, str | None] = {"imei": clean_imei} if clean_imei else {"serial": clean_serial}
    rows = lock(Device.objects.filter(**lookup))
    existing = rows[0] if rows else None
    if existing is not None:
        if existing.sold_at is not None or existing.model_id != model.pk:
            raise Conflict("device_exists", _("This device is already registered."))
        existing.sold_at = sold_at
        existing.retailer = retailer
        existing.channel = channel
        existing.region = region
        existing.save(update_fields=["sold_at", "retailer", "channel", "region"])
        return existing
    try:
        with transaction.atomic():
            return Device.objects.create(
                imei=clean_imei,
                serial=clean_serial,
                model=model,
                sold_at=sold_at,
                retailer=retailer,
                channel=channel,
                region=region,
            )
    except IntegrityError:
        raise Conflict("device_exists", _("This device is already registered.")) from None


# --- plan purchases ------------------------------------------------------------


def plan_purchase_terms(*, product: PlanProduct, device: Device, purchased_on: dt.date) -> tuple[dt.date, dt.date]:
    """(starts_on, ends_on), local dates, inclusive.

    Extended warranty: from the day after the statutory main-unit repair period to the sale
    date + (statutory + term) months. Other kinds: from the purchase date for ``term_months``.
    """
    if product.kind == PlanKind.EXTENDED_WARRANTY:
        policy = statutory_policy_for(category=device.model.category)
        assert device.sold_at is not None  # eligibility refuses a device without a sale date (no_sale_date)
        sale_date = dates.local_date(device.sold_at)
        starts = dates.add_days(policy.repair_until(sale_date), 1)
        ends = dates.add_months(sale_date, policy.repair_months + product.term_months)
        return starts, ends
    return purchased_on, dates.add_months(purchased_on, product.term_months)


def _check_eligible(*, product: PlanProduct, device: Device, purchased_at: dt.datetime) -> Decimal:
    """Raise ``not_eligible`` (422) with a reason, or return the list price for the device's tier."""
    if not product.on_sale:
        raise not_eligible(NotEligibleReason.NOT_ON_SALE)
    if not plan_product_eligible(product=product, model=device.model):
        raise not_eligible(NotEligibleReason.MODEL_NOT_ELIGIBLE)
    if device.sold_at is None:
        raise not_eligible(NotEligibleReason.NO_SALE_DATE)
    sale_date = dates.local_date(device.sold_at)
    last_day = dates.add_days(sale_date, product.purchase_window_days)
    if dates.local_date(purchased_at) > last_day:
        raise not_eligible(
            NotEligibleReason.WINDOW_PASSED,
            _("The purchase window for this plan ended on %(day)s.") % {"day": last_day.isoformat()},
        )
    if product.kind == PlanKind.EXTENDED_WARRANTY:
        policy = statutory_policy_for(category=device.model.category)
        if dates.local_date(purchased_at) > policy.repair_until(sale_date):
            raise not_eligible(NotEligibleReason.WARRANTY_ENDED)
    price = plan_price_for(product=product, tier=device.model.tier)
    if price is None:
        raise not_eligible(NotEligibleReason.NO_PRICE)
    return price


def plan_eligibility_check(*, product: PlanProduct, device: Device, at: dt.datetime | None = None) -> Decimal:
    """Read-only: may ``device`` buy ``product`` at ``at``? Returns the list price for its tier.

    Raises the same 422 ``not_eligible`` (with ``reason``) as ``plan_purchase_create`` would, except
    ``already_active`` (callers listing plans filter active ones themselves). For web pages and
    the counter, so they never disagree with the sale.
    """
    return _check_eligible(product=product, device=device, purchased_at=at or timezone.now())


@transaction.atomic
def plan_purchase_create(
    *,
    device: Device | int,
    plan_code: str,
    purchased_at: dt.datetime | None = None,
    price: Decimal | str | None = None,
    channel: str = PurchaseChannel.STORE,
    partner=None,
    center=None,
    actor: Actor,
    awaiting_payment: bool = False,
) -> PlanPurchase:
    """Sell a plan for a device (counter, web or partner).

    ``awaiting_payment``: a web order paid afterwards by QR; the purchase is ``pending`` (covers nothing)
    until ``plan_purchase_activate`` (called when the payment settles) or ``plan_purchase_abandon``.

    Changes: creates an ``active`` ``PlanPurchase`` (claims allowed copied from the product,
    start/end dates per ``plan_purchase_terms``) and its ``purchase`` ledger row. ``price``
    defaults to the list price of the device's tier.
    Refuses: ``validation_error`` for an unknown plan (field ``plan``), a purchase time in the
    future or before the sale (field ``purchased_at``), a negative/malformed price (``price``),
    an unknown channel (``channel``); 422 ``not_eligible`` with ``reason``: ``not_on_sale``,
    ``model_not_eligible``, ``no_sale_date``, ``window_passed``, ``warranty_ended``,
    ``no_price``, ``already_active`` (same plan already active on the device); 404 ``not_found``
    for a selling ``center`` the actor cannot see.
    """
    _require_actor(actor)
    if channel not in PurchaseChannel.values:
        raise DomainError("validation_error", _("Unknown channel."), field="channel")
    product = PlanProduct.objects.prefetch_related("eligible_models", "prices").filter(code=plan_code).first()
    if product is None:
        raise DomainError("validation_error", _("Unknown plan: %s.") % plan_code, field="plan")
    # Lock the device: two sales of the same plan for one device are serialised (the partial
    # unique constraint backs this up).
    if center is not None and not _require_actor(actor).can_see_center(center.pk):
        raise NotFound(_("No such center."))
    device_id = device.pk if isinstance(device, Device) else device
    device = lock_one(Device.objects.select_related("model"), device_id, not_found=_("No such device."))
    now = timezone.now()
    purchased_at = purchased_at or now
    if timezone.is_naive(purchased_at):
        purchased_at = timezone.make_aware(purchased_at)
    if purchased_at > now + CLOCK_SKEW:
        raise DomainError("validation_error", _("The purchase date cannot be in the future."), field="purchased_at")
    if device.sold_at is not None and purchased_at < device.sold_at:
        raise DomainError(
            "validation_error", _("The purchase date cannot be before the device's sale."), field="purchased_at"
        )
    list_price = _check_eligible(product=product, device=device, purchased_at=purchased_at)
    if price is None:
        paid = list_price
    else:
        try:
            paid = money(price)
        except (InvalidOperation, ValueError, TypeError):
            raise DomainError("validation_error", _("Give the price as a decimal amount."), field="price") from None
        if paid < 0:
            raise DomainError("validation_error", _("The price cannot be negative."), field="price")
    active = lock(PlanPurchase.objects.filter(device=device, product=product, status=PurchaseStatus.ACTIVE))
    current = active[0] if active else None
    if current is not None:
        if current.ends_on >= dates.local_date(now):
            raise not_eligible(NotEligibleReason.ALREADY_ACTIVE)
        # Its term is over (the daily expiry job has not run yet): it no longer blocks a new one.
        current.status = PurchaseStatus.EXPIRED
        current.save(update_fields=["status"])
        _event(current, action=PurchaseAction.EXPIRE, from_status=PurchaseStatus.ACTIVE, actor=SYSTEM, at=now)
    starts_on, ends_on = plan_purchase_terms(
        product=product, device=device, purchased_on=dates.local_date(purchased_at)
    )
    try:
        with transaction.atomic():
            purchase = PlanPurchase.objects.create(
                device=device,
                product=product,
                purchased_at=purchased_at,
                starts_on=starts_on,
                ends_on=ends_on,
                price_paid=paid,
                channel=channel,
                partner=partner,
                center=center,
                sold_by=_actor_user(actor),
                claims_allowed=product.claims_allowed,
                status=PurchaseStatus.PENDING if awaiting_payment else PurchaseStatus.ACTIVE,
            )
    except IntegrityError:
        raise not_eligible(NotEligibleReason.ALREADY_ACTIVE) from None
    if awaiting_payment:
        _event(purchase, action=PurchaseAction.ORDER, from_status="", actor=actor, at=now)
        return purchase
    _event(purchase, action=PurchaseAction.PURCHASE, from_status="", actor=actor, at=now)
    events.plan_activated(purchase=purchase, product=product, device=device, partner=partner, center=center)
    return purchase


@transaction.atomic
def plan_purchase_activate(*, purchase_id: int, actor: Actor) -> PlanPurchase:
    """A pending web order was paid: it becomes ``active`` (idempotent: an active one is returned as is).

    Under the device lock, like a sale: when the same plan became active on the device meanwhile (two orders
    paid for one device), this one is ``cancelled`` instead and returned so; the caller refunds its payment.
    """
    device_id = PlanPurchase.objects.filter(pk=purchase_id).values_list("device_id", flat=True).first()
    if device_id is None:
        raise NotFound(_("No such plan purchase."))
    lock_one(Device, device_id)
    purchase = _lock_purchase(purchase_id)
    if purchase.status != PurchaseStatus.PENDING:
        return purchase
    now = timezone.now()
    today = dates.local_date(now)
    taken = PlanPurchase.objects.filter(
        device_id=device_id, product_id=purchase.product_id, status=PurchaseStatus.ACTIVE, ends_on__gte=today
    ).exists()
    if taken:
        purchase.status = PurchaseStatus.CANCELLED
        purchase.save(update_fields=["status"])
        _event(
            purchase,
            action=PurchaseAction.CANCEL,
            from_status=PurchaseStatus.PENDING,
            actor=actor,
            at=now,
            note="the same plan is already active on this device",
        )
        return purchase
    # A term already over (the daily expiry job has not run yet) frees the slot: expired here, with its event.
    for stale in PlanPurchase.objects.filter(
        device_id=device_id, product_id=purchase.product_id, status=PurchaseStatus.ACTIVE, ends_on__lt=today
    ):
        stale.status = PurchaseStatus.EXPIRED
        stale.save(update_fields=["status"])
        _event(stale, action=PurchaseAction.EXPIRE, from_status=PurchaseStatus.ACTIVE, actor=SYSTEM, at=now)
    purchase.status = PurchaseStatus.ACTIVE
    purchase.save(update_fields=["status"])
    _event(purchase, action=PurchaseAction.PURCHASE, from_status=PurchaseStatus.PENDING, actor=actor, at=now)
    events.plan_activated(
        purchase=purchase,
        product=purchase.product,
        device=purchase.device,
        partner=purchase.partner,
        center=purchase.center,
    )
    return purchase


@transaction.atomic
def plan_purchase_abandon(*, purchase_id: int, actor: Actor, note: str = "") -> PlanPurchase:
    """A pending web order that was never paid is ``cancelled`` (idempotent; an active one is left alone)."""
    purchase = _lock_purchase(purchase_id)
    if purchase.status == PurchaseStatus.PENDING:
        purchase.status = PurchaseStatus.CANCELLED
        purchase.save(update_fields=["status"])
        _event(
            purchase,
            action=PurchaseAction.CANCEL,
            from_status=PurchaseStatus.PENDING,
            actor=actor,
            note=note or "not paid",
        )
    return purchase


def _lock_purchase(purchase_id: int) -> PlanPurchase:
    """The purchase row, locked for this transaction. (Tests replace it to show what the lock prevents.)"""
    return lock_one(
        PlanPurchase.objects.select_related("product", "device"), purchase_id, not_found=_("No such plan purchase.")
    )


def _after_claim_checks(purchase: PlanPurchase) -> None:
    """A seam for the concurrency test's control run (forces every claimant past the checks first)."""


@transaction.atomic
def plan_purchase_refund(
    *, purchase_id: int, actor: Actor, at: dt.datetime | None = None, note: str = ""
) -> PlanPurchase:
    """Refund a plan within its cooling-off period.

    Changes: status ``active`` → ``refunded``, ``refunded_amount`` = price paid, ledger row.
    Refuses: 404 ``not_found`` (also a purchase the actor may not see); 422 ``not_eligible`` with
    reason ``claim_used`` (a claim is in
    use — released claims do not count), ``not_active`` (not active), ``cooling_off_passed``
    (local date after purchase date + cooling-off days).
    """
    at = at or timezone.now()
    _require_actor(actor)
    purchase = _lock_purchase(purchase_id)
    _check_purchase_scope(purchase, actor)
    if purchase.claims_used > 0 or purchase.claims.filter(status=ClaimStatus.ACTIVE).exists():
        raise not_eligible(NotEligibleReason.CLAIM_USED)
    if purchase.status != PurchaseStatus.ACTIVE:
        raise not_eligible(NotEligibleReason.NOT_ACTIVE)
    last_day = dates.add_days(dates.local_date(purchase.purchased_at), purchase.product.cooling_off_days)
    if dates.local_date(at) > last_day:
        raise not_eligible(
            NotEligibleReason.COOLING_OFF_PASSED,
            _("The cooling-off period ended on %(day)s.") % {"day": last_day.isoformat()},
        )
    before = purchase.status
    purchase.status = PurchaseStatus.REFUNDED
    purchase.refunded_amount = purchase.price_paid
    purchase.closed_at = at
    purchase.save(update_fields=["status", "refunded_amount", "closed_at"])
    _event(purchase, action=PurchaseAction.REFUND, from_status=before, actor=actor, note=note)
    return purchase


@transaction.atomic
def plan_purchase_cancel(*, purchase_id: int, actor: Actor, note: str = "") -> PlanPurchase:
    """Void a purchase entered by mistake (no money back recorded).

    Changes: status ``active`` → ``cancelled`` and a ledger row. Refuses: 404 (also a purchase the
    actor may not see); 422 ``not_eligible`` with reason ``not_active`` or ``claim_used``.
    """
    _require_actor(actor)
    purchase = _lock_purchase(purchase_id)
    _check_purchase_scope(purchase, actor)
    if purchase.status != PurchaseStatus.ACTIVE:
        raise not_eligible(NotEligibleReason.NOT_ACTIVE)
    if purchase.claims.filter(status=ClaimStatus.ACTIVE).exists():
        raise not_eligible(NotEligibleReason.CLAIM_USED)
    purchase.status = PurchaseStatus.CANCELLED
    purchase.closed_at = timezone.now()
    purchase.save(update_fields=["status", "closed_at"])
    _event(purchase, action=PurchaseAction.CANCEL, from_status=PurchaseStatus.ACTIVE, actor=actor, note=note)
    return purchase


def plan_purchases_expire(*, now: dt.datetime | None = None, device_id: int | None = None) -> int:
    """Mark active purchases whose term ended before today (local) as ``expired``; returns how many.

    Idempotent (periodic job). Each row is re-checked under its lock.
    """
    today = dates.local_date(now or timezone.now())
    qs = PlanPurchase.objects.filter(status=PurchaseStatus.ACTIVE, ends_on__lt=today)
    if device_id is not None:
        qs = qs.filter(device_id=device_id)
    count = 0
    with transaction.atomic():
        for purchase in lock(qs):
            purchase.status = PurchaseStatus.EXPIRED
            purchase.save(update_fields=["status"])
            _event(purchase, action=PurchaseAction.EXPIRE, from_status=PurchaseStatus.ACTIVE, actor=SYSTEM)
            count += 1
    return count


# --- claims --------------------------------------------------------------------


@transaction.atomic
def plan_claim_use(*, purchase_id: int, ticket, actor: Actor, fault: str | None = None) -> PlanClaim:
    """Use one claim of a plan for a repair, atomically.

    Changes: ``claims_used`` + 1 (status ``used_up`` when the last one goes), a ``PlanClaim``
    (fee = the product's fee for the ticket's fault) and a ledger row. Idempotent per ticket:
    if this ticket already holds an active claim on this purchase, that claim is returned.
    Guarded twice: the purchase row is locked, and the ``claims_used <= claims_allowed``
    CheckConstraint rejects an over-use that slips past (then ``not_eligible``).
    Refuses: 404 ``not_found`` (also a ticket whose center the actor cannot see); 422
    ``not_eligible`` with reason ``other_device``, ``not_active``, ``not_started``, ``expired``,
    ``no_claims_left``.
    """
    now = timezone.now()
    _check_ticket_scope(ticket, actor)
    purchase = _lock_purchase(purchase_id)
    existing = purchase.claims.filter(ticket=ticket, status=ClaimStatus.ACTIVE).first()
    if existing is not None:
        return existing
    if purchase.device_id != ticket.device_id:
        raise not_eligible(NotEligibleReason.OTHER_DEVICE)
    today = dates.local_date(now)
    if purchase.status == PurchaseStatus.USED_UP:
        raise not_eligible(NotEligibleReason.NO_CLAIMS_LEFT)
    if purchase.status != PurchaseStatus.ACTIVE:
        raise not_eligible(NotEligibleReason.NOT_ACTIVE)
    if today < purchase.starts_on:
        raise not_eligible(NotEligibleReason.NOT_STARTED)
    if today > purchase.ends_on:
        raise not_eligible(NotEligibleReason.EXPIRED)
    if purchase.claims_allowed is not None and purchase.claims_used >= purchase.claims_allowed:
        raise not_eligible(NotEligibleReason.NO_CLAIMS_LEFT)
    _after_claim_checks(purchase)
    try:
        with transaction.atomic():
            # F() increment: even without the row lock the database evaluates it on the current row,
            # so the CheckConstraint sees the real count.
            PlanPurchase.objects.filter(pk=purchase.pk).update(claims_used=F("claims_used") + 1)
            purchase.refresh_from_db(fields=["claims_used"])
            claim = PlanClaim.objects.create(
                purchase=purchase,
                ticket=ticket,
                status=ClaimStatus.ACTIVE,
                fee=money(purchase.product.fee_for(fault or getattr(ticket, "fault_category", None))),
                used_at=now,
                actor_label=_actor_label(actor),
            )
    except IntegrityError:
        raise not_eligible(NotEligibleReason.NO_CLAIMS_LEFT) from None
    before = purchase.status
    if purchase.claims_allowed is not None and purchase.claims_used >= purchase.claims_allowed:
        purchase.status = PurchaseStatus.USED_UP
        purchase.save(update_fields=["status"])
    _event(
        purchase,
        action=PurchaseAction.CLAIM_USE,
        from_status=before,
        actor=actor,
        note=f"ticket {getattr(ticket, 'service_no', ticket.pk)}",
        at=now,
    )
    return claim


@transaction.atomic
def plan_claims_release(*, ticket, actor: Actor) -> int:
    """Give back every active claim ``ticket`` used (the repair was cancelled); returns how many.

    Changes: each claim → ``released``; its purchase's ``claims_used`` − 1 and ``used_up`` →
    ``active`` again (if still within its term, else ``expired``); a ledger row per claim.
    Purchases are locked in pk order (no deadlock with a concurrent ``plan_claim_use``).
    Refuses a ticket whose center the actor cannot see (``not_found``); a ticket without claims returns 0.
    """
    _check_ticket_scope(ticket, actor)
    purchase_ids = sorted(
        set(PlanClaim.objects.filter(ticket=ticket, status=ClaimStatus.ACTIVE).values_list("purchase_id", flat=True))
    )
    if not purchase_ids:
        return 0
    now = timezone.now()
    today = dates.local_date(now)
    purchases = lock_many(PlanPurchase, purchase_ids)  # the purchases, then their claims (parents first)
    released = 0
    for _pk, purchase in sorted(purchases.items()):
        claims = lock(purchase.claims.filter(ticket=ticket, status=ClaimStatus.ACTIVE))
        for claim in claims:
            claim.status = ClaimStatus.RELEASED
            claim.released_at = now
            claim.save(update_fields=["status", "released_at"])
            purchase.claims_used = max(purchase.claims_used - 1, 0)
            released += 1
        before = purchase.status
        if purchase.status == PurchaseStatus.USED_UP:
            if today > purchase.ends_on:
                purchase.status = PurchaseStatus.EXPIRED
            elif not PlanPurchase.objects.filter(
                device_id=purchase.device_id, product_id=purchase.product_id, status=PurchaseStatus.ACTIVE
            ).exists():
                purchase.status = PurchaseStatus.ACTIVE
            # else: the same plan was bought again meanwhile; this one keeps its claim count but stays used_up.
        purchase.save(update_fields=["claims_used", "status"])
        _event(
            purchase,
            action=PurchaseAction.CLAIM_RELEASE,
            from_status=before,
            actor=actor,
            note=f"ticket {getattr(ticket, 'service_no', ticket.pk)}",
            at=now,
        )
    return released
