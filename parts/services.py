"""Writes for parts: every change of a stock counter, reservation, transfer, return batch and count.

Each function is one transaction: lock what it changes (``servicehub.locking``: pk order, lock timeout,
``busy`` 409), re-check under the lock, write, append the ``StockMove`` ledger row(s), emit the event.
The counters move with ``F()`` expressions, so even a writer that skipped the lock could not push them
past the database's check constraints (on_hand >= 0, reserved >= 0, reserved <= on_hand).

Lock order (docs/architecture.md): ticket, then stock levels (pk order), then units, then the rest.
The ticket effects (``ticket_parts_reserve`` ...) run inside ``repairs.services.ticket_transition``, whose
transaction already holds the ticket's lock. ``transfer_receive`` locks the waiting tickets before the
level for the same reason.

Every function takes an ``actor``: objects of centers it cannot see do not exist for it (``not_found``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from centers.models import ServiceCenter
from repairs.choices import Action, QuoteStatus, TicketStatus
from repairs.models import QuoteLine, RepairTicket
from servicehub.actors import Actor
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.locking import lock, lock_first_free, lock_many, lock_one

from . import events
from .choices import (
    ACTIVE_RESERVATION_STATUSES,
    BatchStatus,
    CountStatus,
    MoveKind,
    ReplenishmentStatus,
    ReservationStatus,
    TransferStatus,
    UnitStatus,
)
from .models import (
    MakerReturnBatch,
    MakerReturnLine,
    OperationPart,
    Part,
    PartReservation,
    ReorderPoint,
    ReplenishmentRequest,
    StockCount,
    StockCountLine,
    StockLevel,
    StockMove,
    StockTransfer,
    StockUnit,
)

# Who may move stock at a location; adjustments and counts that change the books are the manager's.
STOCK_ROLES = ("manager", "front_desk", "engineer")
BOOKS_ROLES = ("manager",)


# --- helpers -----------------------------------------------------------------------------------------


def _require_actor(actor: Any) -> Actor:
    if not isinstance(actor, Actor):
        raise TypeError("parts services need an actor (jobs and commands pass servicehub.actors.SYSTEM)")
    return actor


def _user(actor: Actor) -> Any:
    user = getattr(actor, "user", None)
    return user if getattr(user, "pk", None) else None


def _check_role(actor: Actor, location_id: int, roles: tuple[str, ...]) -> None:
    """Locations the actor cannot see do not exist for them; seeing is not enough to move stock."""
    if not _require_actor(actor).can_see_center(location_id):
        raise NotFound(_("No such location."))
    if actor.is_system or actor.has_role("hq"):
        return
    if not any(actor.has_role(r, location_id) for r in roles):
        raise DomainError("forbidden", _("Your role may not change the stock of this location."), status=403)


def _location(location_id: int, actor: Actor) -> ServiceCenter:
    center = ServiceCenter.objects.filter(pk=location_id).first()
    if center is None or not actor.can_see_center(center.pk):
        raise NotFound(_("No such location."))
    return center


def _part(part_id: int) -> Part:
    part = Part.objects.filter(pk=part_id, active=True).first()
    if part is None:
        raise NotFound(_("No such part."))
    return part


def _positive(quantity: Any, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise DomainError("validation_error", _("The quantity must be a whole number above zero."), field=field)
    return quantity


def _levels_lock(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """Lock the stock levels of these (location, part) pairs in pk order, creating missing rows first."""
    wanted = sorted(set(pairs))
    if not wanted:
        return {}
    existing = {
        (loc, part): pk
        for pk, loc, part in StockLevel.objects.filter(
            location_id__in={loc for loc, _p in wanted}, part_id__in={p for _l, p in wanted}
        ).values_list("pk", "location_id", "part_id")
    }
    for loc, part in wanted:
        if (loc, part) not in existing:
            try:
                with transaction.atomic():  # a savepoint: a concurrent creator wins, we lock its row
                    existing[(loc, part)] = StockLevel.objects.create(location_id=loc, part_id=part).pk
            except IntegrityError:
                existing[(loc, part)] = StockLevel.objects.get(location_id=loc, part_id=part).pk
    rows = lock_many(StockLevel, [existing[p] for p in wanted])
    return {(r.location_id, r.part_id): r for r in rows.values()}


def _level_lock(location_id: int, part_id: int) -> StockLevel:
    return _levels_lock([(location_id, part_id)])[(location_id, part_id)]


def _waiting_tickets_lock(pairs: list[tuple[int, int]]) -> None:
    """Lock the tickets waiting for these (location, part) pairs: tickets come before stock levels in the
    lock order, and new stock may resume them (``_serve_waiting``)."""
    ids: set[int] = set()
    for loc, part in set(pairs):
        ids.update(
            PartReservation.objects.filter(
                location_id=loc, part_id=part, status=ReservationStatus.AWAITING
            ).values_list("ticket_id", flat=True)
        )
    lock_many(RepairTicket, ids)


def _move(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on_hand: int = 0,
    reserved: int = 0,
    actor: Actor,
    now: dt.datetime,
    **refs: Any,
) -> StockMove:
    """Apply a counter change to a locked level (``F()`` in the database) and append its ledger row."""
    changes: dict[str, Any] = {}
    if on_hand:
        changes["on_hand"] = F("on_hand") + on_hand
    if reserved:
        changes["reserved"] = F("reserved") + reserved
    if changes:
        StockLevel.objects.filter(pk=level.pk).update(**changes, updated_at=now)
        level.on_hand += on_hand
        level.reserved += reserved
    return StockMove.objects.create(
        location_id=level.location_id,
        part_id=level.part_id,
        kind=kind,
        quantity=quantity,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        actor=_user(actor),
        actor_label=actor.label[:150],
        at=now,
        **refs,
    )


def _low_stock_check(level: StockLevel, *, available_before: int) -> None:
    """Emit ``parts.low_stock`` when available falls below the reorder point (once per crossing)."""
    point = ReorderPoint.objects.filter(location_id=level.location_id, part_id=level.part_id).first()
    if point is None:
        return
    available = level.on_hand - level.reserved
    if available < point.min_available <= available_before:
        location_code = ServiceCenter.objects.filter(pk=level.location_id).values_list("code", flat=True).get()
        part_number = Part.objects.filter(pk=level.part_id).values_list("part_number", flat=True).get()
        events.low_stock(level=level, point=point, location_code=location_code, part_number=part_number)


def _clean_serials(serials: list[str] | None) -> list[str]:
    out = [str(s).strip() for s in (serials or []) if str(s).strip()]
    if len(set(out)) != len(out):
        raise DomainError("validation_error", _("A serial is listed twice."), field="serials")
    if any(len(s) > 64 for s in out):
        raise DomainError("validation_error", _("A serial is at most 64 characters."), field="serials")
    return out


# --- receipts and adjustments ------------------------------------------------------------------------


def stock_receive(
    *, actor: Actor, location_id: int, part_id: int, quantity: int, serials: list[str] | None = None, reason: str = ""
) -> StockMove:
    """Book parts received from the maker at a location (``receipt``): on_hand += quantity.

    Serial-tracked parts need exactly one serial per unit. Refuses: ``not_found`` (location, part),
    ``forbidden`` (role), ``validation_error`` (quantity, serials), ``serial_exists`` (409).
    """
    actor = _require_actor(actor)
    quantity = _positive(quantity)
    part = _part(part_id)
    _location(location_id, actor)
    _check_role(actor, location_id, STOCK_ROLES)
    clean = _clean_serials(serials)
    if part.serial_tracked and len(clean) != quantity:
        raise DomainError("validation_error", _("Enter one serial per unit of this part."), field="serials")
    if not part.serial_tracked and clean:
        raise DomainError("validation_error", _("This part is counted, not serial-tracked."), field="serials")
    now = timezone.now()
    with transaction.atomic():
        _waiting_tickets_lock([(location_id, part.pk)])
        level = _level_lock(location_id, part.pk)
        if clean and StockUnit.objects.filter(part=part, serial__in=clean).exists():
            raise Conflict("serial_exists", _("A unit with one of these serials is already known."))
        StockUnit.objects.bulk_create(StockUnit(part=part, serial=s, location_id=location_id) for s in clean)
        move = _move(
            level, kind=MoveKind.RECEIPT, quantity=quantity, on_hand=quantity, actor=actor, now=now, reason=reason[:200]
        )
        _serve_waiting(level, actor=actor, now=now, transfer=None)
    return move


def stock_adjust(*, actor: Actor, location_id: int, part_id: int, delta: int, reason: str) -> StockMove:
    """Correct on_hand by ``delta`` (positive or negative) with a reason (``adjust``), counted parts only.

    Refuses: ``not_found``, ``forbidden`` (managers only), ``validation_error`` (zero delta, no reason,
    a serial-tracked part: receive or return its units instead), ``insufficient_stock`` (409: below reserved).
    """
    actor = _require_actor(actor)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise DomainError(
            "validation_error", _("The adjustment must be a whole number other than zero."), field="delta"
        )
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError("validation_error", _("Say why the stock is adjusted."), field="reason")
    part = _part(part_id)
    _location(location_id, actor)
    _check_role(actor, location_id, BOOKS_ROLES)
    if part.serial_tracked:
        raise DomainError("validation_error", _("Serial-tracked parts are adjusted unit by unit."), field="part")
    now = timezone.now()
    with transaction.atomic():
        if delta > 0:
            _waiting_tickets_lock([(location_id, part.pk)])
        level = _level_lock(location_id, part.pk)
        return _adjust(level, delta=delta, reason=reason, actor=actor, now=now)


def _adjust(level: StockLevel, *, delta: int, reason: str, actor: Actor, now: dt.datetime) -> StockMove:
    if level.on_hand + delta < level.reserved:
        raise Conflict(
            "insufficient_stock",
            _("Only %(n)s are on hand beyond the reserved ones.") % {"n": level.on_hand - level.reserved},
        )
    before = level.on_hand - level.reserved
    move = _move(level, kind=MoveKind.ADJUST, quantity=delta, on_hand=delta, actor=actor, now=now, reason=reason[:200])
    if delta < 0:
        _low_stock_check(level, available_before=before)
    else:
        _serve_waiting(level, actor=actor, now=now, transfer=None)
    return move


def stock_return_defective(
    *, actor: Actor, location_id: int, part_id: int, serial: str = "", reason: str
) -> MakerReturnLine:
    """Take one defective unit out of stock (``return_defective``) into the location's open return batch.

    Refuses: ``not_found``, ``forbidden``, ``validation_error`` (no reason; serial missing for a
    serial-tracked part), ``unknown_serial`` (422), ``insufficient_stock`` (409: all units reserved).
    """
    actor = _require_actor(actor)
    part = _part(part_id)
    _location(location_id, actor)
    _check_role(actor, location_id, STOCK_ROLES)
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError("validation_error", _("Say what is wrong with the part."), field="reason")
    serial = str(serial or "").strip()
    if part.serial_tracked and not serial:
        raise DomainError("validation_error", _("Enter the serial of the defective unit."), field="serial")
    now = timezone.now()
    with transaction.atomic():
        level = _level_lock(location_id, part.pk)
        unit = None
        if part.serial_tracked:
            unit = (
                StockUnit.objects.select_for_update(of=("self",))
                .filter(part=part, serial=serial, location_id=location_id, status=UnitStatus.IN_STOCK)
                .first()
            )
            if unit is None:
                raise DomainError("unknown_serial", _("No unit with this serial is in stock here."), status=422)
        if level.on_hand - level.reserved < 1:
            raise Conflict("insufficient_stock", _("Every unit of this part here is reserved."))
        before = level.on_hand - level.reserved
        if unit is not None:
            unit.status = UnitStatus.DEFECTIVE
            unit.location = None
            unit.save(update_fields=["status", "location"])
        _move(
            level,
            kind=MoveKind.RETURN_DEFECTIVE,
            quantity=1,
            on_hand=-1,
            actor=actor,
            now=now,
            unit=unit,
            reason=reason[:200],
        )
        _low_stock_check(level, available_before=before)
        return _batch_line_add(
            location_id=location_id, part=part, serial=serial, imei="", ticket_id=None, reason=reason, now=now
        )


# --- reservations: the ticket effects ----------------------------------------------------------------


def _needed_parts(ticket: RepairTicket) -> list[Part]:
    """The parts the ticket's approved (or auto-approved) quote consumes, one per line with a mapped part."""
    lines = list(
        QuoteLine.objects.filter(
            quote__ticket_id=ticket.pk, quote__status__in=(QuoteStatus.APPROVED, QuoteStatus.AUTO_APPROVED)
        )
        .order_by("-quote__version", "position")
        .values_list("quote_id", "operation_id", "grade")
    )
    if not lines:
        return []
    quote_id = lines[0][0]
    keys = [(op, grade) for q, op, grade in lines if q == quote_id]
    mapped = {
        (m.operation_id, m.grade): m.part
        for m in OperationPart.objects.filter(operation_id__in=[op for op, _g in keys]).select_related("part")
    }
    parts: dict[int, Part] = {}
    for key in keys:
        part = mapped.get(key)
        if part is not None and part.active:
            parts[part.pk] = part
    return list(parts.values())


def _hold_one(
    level: StockLevel, reservation: PartReservation, *, actor: Actor, now: dt.datetime, transfer=None
) -> bool:
    """Reserve one unit on a locked level for ``reservation`` if one is available; True when done."""
    if level.on_hand - level.reserved < 1:
        return False
    part = reservation.part
    unit = None
    if part.serial_tracked:
        unit = lock_first_free(
            StockUnit.objects.filter(location_id=level.location_id, part_id=part.pk, status=UnitStatus.IN_STOCK)
        )
        if unit is None:  # the counters say yes but every unit is held: the books need a count
            return False
        unit.status = UnitStatus.RESERVED
        unit.save(update_fields=["status"])
    before = level.on_hand - level.reserved
    _move(
        level,
        kind=MoveKind.RESERVE,
        quantity=1,
        reserved=1,
        actor=actor,
        now=now,
        ticket_id=reservation.ticket_id,
        unit=unit,
        transfer=transfer,
    )
    reservation.status = ReservationStatus.RESERVED
    reservation.unit = unit
    reservation.reserved_at = now
    reservation.save(update_fields=["status", "unit", "reserved_at"])
    _low_stock_check(level, available_before=before)
    return True


def _release(reservation: PartReservation, level: StockLevel | None, *, actor: Actor, now: dt.datetime) -> None:
    if reservation.status == ReservationStatus.RESERVED and level is not None:
        if reservation.unit_id:
            StockUnit.objects.filter(pk=reservation.unit_id).update(status=UnitStatus.IN_STOCK)
        _move(
            level,
            kind=MoveKind.RELEASE,
            quantity=1,
            reserved=-1,
            actor=actor,
            now=now,
            ticket_id=reservation.ticket_id,
            unit_id=reservation.unit_id,
        )
    reservation.status = ReservationStatus.RELEASED
    reservation.closed_at = now
    reservation.save(update_fields=["status", "closed_at"])


def ticket_parts_reserve(*, ticket: RepairTicket, actor: Actor, now: dt.datetime) -> bool:
    """Reserve at the ticket's center every part its approved quote needs; True when all are reserved.

    Runs in ``ticket_transition``'s transaction (the ticket is locked). Parts no longer needed by a revised
    quote are released; a part with nothing available becomes an ``awaiting`` reservation and a
    ``ReplenishmentRequest`` to the center's hub (``parts.awaiting``).
    """
    needed = {p.pk: p for p in _needed_parts(ticket)}
    active = list(
        PartReservation.objects.filter(ticket_id=ticket.pk, status__in=ACTIVE_RESERVATION_STATUSES).select_related(
            "part"
        )
    )
    pairs = [(ticket.center_id, pk) for pk in needed] + [(r.location_id, r.part_id) for r in active]
    levels = _levels_lock(pairs)
    have = {r.part_id for r in active}
    for r in active:
        if r.part_id not in needed:
            _release(r, levels.get((r.location_id, r.part_id)), actor=actor, now=now)
    all_reserved = all(r.status == ReservationStatus.RESERVED for r in active if r.part_id in needed)
    for part in needed.values():
        if part.pk in have:
            continue
        reservation = PartReservation.objects.create(
            ticket=ticket, part=part, location_id=ticket.center_id, status=ReservationStatus.AWAITING, created_at=now
        )
        if not _hold_one(levels[(ticket.center_id, part.pk)], reservation, actor=actor, now=now):
            all_reserved = False
            hub_id = ticket.center.hub_id if ticket.center.hub_id != ticket.center_id else None
            request = ReplenishmentRequest.objects.create(
                center_id=ticket.center_id, hub_id=hub_id, part=part, quantity=1, ticket=ticket, created_at=now
            )
            reservation.replenishment = request
            reservation.save(update_fields=["replenishment"])
            events.parts_awaiting(reservation=reservation, replenishment=request)
    return all_reserved


def ticket_parts_release(*, ticket: RepairTicket, actor: Actor, now: dt.datetime) -> int:
    """Give back every active reservation of the ticket (cancel, no-show, declined quote); how many."""
    active = list(PartReservation.objects.filter(ticket_id=ticket.pk, status__in=ACTIVE_RESERVATION_STATUSES))
    levels = _levels_lock([(r.location_id, r.part_id) for r in active if r.status == ReservationStatus.RESERVED])
    for r in active:
        _release(r, levels.get((r.location_id, r.part_id)), actor=actor, now=now)
    return len(active)


def ticket_parts_consume(
    *, ticket: RepairTicket, actor: Actor, now: dt.datetime, serials: dict[str, dict[str, str]] | None = None
) -> list[PartReservation]:
    """Book the reserved parts as fitted (``consume``) with the serials the engineer entered.

    ``serials``: ``{reservation id: {"fitted": serial, "removed": serial}}``. A serial-tracked part needs both:
    the fitted one must be a unit of that part in stock here (the reserved one, or another free one, which
    then takes its place), the removed one goes into the location's open return batch to the maker; for a
    counted part the removed serial is optional (given: it goes into the batch too). Refuses:
    ``parts_not_reserved`` (409: a part is still awaited), ``serial_required`` (422), ``unknown_serial`` (422).
    """
    serials = {str(k): v for k, v in (serials or {}).items()}
    active = list(
        PartReservation.objects.filter(ticket_id=ticket.pk, status__in=ACTIVE_RESERVATION_STATUSES).select_related(
            "part", "unit"
        )
    )
    if any(r.status == ReservationStatus.AWAITING for r in active):
        raise Conflict("parts_not_reserved", _("A part for this repair has not arrived yet."))
    levels = _levels_lock([(r.location_id, r.part_id) for r in active])
    for r in active:
        given = serials.get(str(r.pk)) or {}
        fitted = str(given.get("fitted") or "").strip()[:64]
        removed = str(given.get("removed") or "").strip()[:64]
        if r.part.serial_tracked and not (fitted and removed):
            raise DomainError(
                "serial_required",
                _("Enter the serials of the %(part)s fitted and removed.") % {"part": r.part.name},
                status=422,
                field=f"serials.{r.pk}",
            )
        unit = r.unit
        if r.part.serial_tracked and (unit is None or unit.serial != fitted):
            other = (
                StockUnit.objects.select_for_update(of=("self",))
                .filter(part_id=r.part_id, serial=fitted, location_id=r.location_id, status=UnitStatus.IN_STOCK)
                .first()
            )
            if other is None:
                raise DomainError(
                    "unknown_serial",
                    _("No free unit of %(part)s with serial %(serial)s is in stock here.")
                    % {"part": r.part.name, "serial": fitted},
                    status=422,
                    field=f"serials.{r.pk}",
                )
            if unit is not None:  # the engineer took another unit from the shelf: the reserved one is free again
                StockUnit.objects.filter(pk=unit.pk).update(status=UnitStatus.IN_STOCK)
            unit = other
        if unit is not None:
            StockUnit.objects.filter(pk=unit.pk).update(status=UnitStatus.CONSUMED, location=None)
        _move(
            levels[(r.location_id, r.part_id)],
            kind=MoveKind.CONSUME,
            quantity=1,
            on_hand=-1,
            reserved=-1,
            actor=actor,
            now=now,
            ticket_id=ticket.pk,
            unit=unit,
        )
        r.status = ReservationStatus.CONSUMED
        r.unit = unit
        r.fitted_serial = fitted
        r.removed_serial = removed
        r.closed_at = now
        r.save(update_fields=["status", "unit", "fitted_serial", "removed_serial", "closed_at"])
        if removed or r.part.serial_tracked:
            _batch_line_add(
                location_id=r.location_id,
                part=r.part,
                serial=removed,
                imei="",
                ticket_id=ticket.pk,
                reason=_("Removed in repair %(no)s") % {"no": ticket.service_no},
                now=now,
            )
    return active


# The effects and the guard registered with repairs.workflow in PartsConfig.ready().


def guard_parts_arrived(ticket: RepairTicket) -> str | None:
    """``parts_arrived`` by hand only when no part of the ticket is still awaited."""
    if PartReservation.objects.filter(ticket_id=ticket.pk, status=ReservationStatus.AWAITING).exists():
        return _("A part for this repair has not arrived yet.")
    return None


def effect_reserve(ticket: RepairTicket, ctx: Any) -> str | None:
    """APPROVE, and SEND_QUOTE when the quote is free (auto-approved): reserve, or wait for parts."""
    if ctx.target != TicketStatus.REPAIRING:
        return None  # a quote waiting for approval reserves nothing yet
    if ticket_parts_reserve(ticket=ticket, actor=ctx.actor, now=ctx.now):
        return None
    return TicketStatus.AWAITING_PARTS


def effect_release(ticket: RepairTicket, ctx: Any) -> str | None:
    ticket_parts_release(ticket=ticket, actor=ctx.actor, now=ctx.now)
    return None


def effect_consume(ticket: RepairTicket, ctx: Any) -> str | None:
    ticket_parts_consume(ticket=ticket, actor=ctx.actor, now=ctx.now, serials=ctx.params.get("part_serials"))
    return None


# --- replenishment and transfers ---------------------------------------------------------------------


def transfer_ship(
    *,
    actor: Actor,
    from_location_id: int,
    to_location_id: int,
    part_id: int,
    quantity: int,
    seal_no: str,
    serials: list[str] | None = None,
    replenishment_id: int | None = None,
) -> StockTransfer:
    """Ship parts from one location to another (``transfer_out``), sealed; the receiver books them in.

    With ``replenishment_id`` the request it answers is marked shipped (it fixes part, hub and center).
    Serial-tracked parts ship the named units (free ones at the source). Refuses: ``not_found``,
    ``forbidden``, ``validation_error`` (quantity, seal, same location, serials), ``insufficient_stock`` (409),
    ``unknown_serial`` (422), ``invalid_transition`` (409: the request was already shipped).
    """
    actor = _require_actor(actor)
    quantity = _positive(quantity)
    seal_no = str(seal_no or "").strip()
    if not seal_no or len(seal_no) > 40:
        raise DomainError("validation_error", _("Enter the seal number of the parcel."), field="seal_no")
    if from_location_id == to_location_id:
        raise DomainError("validation_error", _("A transfer goes to another location."), field="to_location")
    part = _part(part_id)
    _location(from_location_id, actor)
    _check_role(actor, from_location_id, STOCK_ROLES)
    if not ServiceCenter.objects.filter(pk=to_location_id).exists():
        raise NotFound(_("No such location."))
    clean = _clean_serials(serials)
    if part.serial_tracked and len(clean) != quantity:
        raise DomainError("validation_error", _("Enter one serial per unit of this part."), field="serials")
    now = timezone.now()
    with transaction.atomic():
        request = None
        if replenishment_id is not None:
            request = lock_one(ReplenishmentRequest, replenishment_id, not_found=_("No such replenishment request."))
            if request.part_id != part.pk or request.center_id != to_location_id:
                raise DomainError("validation_error", _("This request is for another part or center."), field="part")
            if request.status != ReplenishmentStatus.OPEN:
                raise Conflict("invalid_transition", _("This request was already shipped."))
        level = _level_lock(from_location_id, part.pk)
        if level.on_hand - level.reserved < quantity:
            raise Conflict(
                "insufficient_stock",
                _("Only %(n)s available at %(loc)s.") % {"n": level.on_hand - level.reserved, "loc": from_location_id},
            )
        transfer = StockTransfer.objects.create(
            from_location_id=from_location_id,
            to_location_id=to_location_id,
            part=part,
            quantity=quantity,
            seal_no=seal_no,
            replenishment=request,
            shipped_at=now,
            shipped_by_label=actor.label[:150],
        )
        if clean:
            units = lock(
                StockUnit.objects.filter(
                    part=part, serial__in=clean, location_id=from_location_id, status=UnitStatus.IN_STOCK
                )
            )
            if len(units) != len(clean):
                raise DomainError("unknown_serial", _("Not every serial is a free unit at this location."), status=422)
            StockUnit.objects.filter(pk__in=[u.pk for u in units]).update(
                status=UnitStatus.IN_TRANSIT, location=None, transfer=transfer
            )
        before = level.on_hand - level.reserved
        _move(
            level,
            kind=MoveKind.TRANSFER_OUT,
            quantity=quantity,
            on_hand=-quantity,
            actor=actor,
            now=now,
            transfer=transfer,
        )
        _low_stock_check(level, available_before=before)
        if request is not None:
            ReplenishmentRequest.objects.filter(pk=request.pk).update(
                status=ReplenishmentStatus.SHIPPED, shipped_at=now
            )
        events.transfer_shipped(transfer=transfer)
    return transfer


@dataclass
class Received:
    transfer: StockTransfer
    resumed_ticket_ids: list[int]


def transfer_receive(*, actor: Actor, transfer_id: int) -> Received:
    """Book a shipped transfer in at its destination (``transfer_in``) and serve the tickets waiting there.

    Each waiting reservation of that part at the destination (oldest first) is reserved while stock lasts;
    a ticket in ``awaiting_parts`` whose parts are now all reserved moves on (``parts_arrived``, by this
    actor) and the engineer is told (``parts.arrived``; the move's timeline row names the part). Refuses:
    ``not_found``, ``forbidden`` (a role at the destination), ``invalid_transition`` (409: already received).
    """
    actor = _require_actor(actor)
    now = timezone.now()
    with transaction.atomic():
        transfer = lock_one(StockTransfer.objects.select_related("part"), transfer_id, not_found=_("No such transfer."))
        if not actor.can_see_center(transfer.to_location_id):
            raise NotFound(_("No such transfer."))
        _check_role(actor, transfer.to_location_id, STOCK_ROLES)
        if transfer.status != TransferStatus.SHIPPED:
            raise Conflict("invalid_transition", _("This transfer was already received."))
        # Tickets before stock levels (the order every ticket move takes): lock the waiting tickets first.
        _waiting_tickets_lock([(transfer.to_location_id, transfer.part_id)])
        level = _level_lock(transfer.to_location_id, transfer.part_id)
        StockTransfer.objects.filter(pk=transfer.pk).update(
            status=TransferStatus.RECEIVED, received_at=now, received_by_label=actor.label[:150]
        )
        transfer.status = TransferStatus.RECEIVED
        StockUnit.objects.filter(transfer=transfer, status=UnitStatus.IN_TRANSIT).update(
            status=UnitStatus.IN_STOCK, location_id=transfer.to_location_id
        )
        _move(
            level,
            kind=MoveKind.TRANSFER_IN,
            quantity=transfer.quantity,
            on_hand=transfer.quantity,
            actor=actor,
            now=now,
            transfer=transfer,
        )
        if transfer.replenishment_id:
            ReplenishmentRequest.objects.filter(pk=transfer.replenishment_id).update(
                status=ReplenishmentStatus.RECEIVED, received_at=now
            )
        resumed = _serve_waiting(level, actor=actor, now=now, transfer=transfer)
    return Received(transfer=transfer, resumed_ticket_ids=resumed)


def _serve_waiting(level: StockLevel, *, actor: Actor, now: dt.datetime, transfer: StockTransfer | None) -> list[int]:
    """Reserve new stock on a locked level for the tickets waiting for it, oldest first; resume them."""
    from repairs.services import ticket_note_add, ticket_transition
    from repairs.workflow import MOVES, refusal

    waiting = list(
        PartReservation.objects.filter(
            location_id=level.location_id, part_id=level.part_id, status=ReservationStatus.AWAITING
        )
        .select_related("part", "ticket")
        .order_by("created_at", "pk")
    )
    resumed: list[int] = []
    for reservation in waiting:
        if not _hold_one(level, reservation, actor=actor, now=now, transfer=transfer):
            break
        ticket = reservation.ticket
        still_waiting = PartReservation.objects.filter(ticket_id=ticket.pk, status=ReservationStatus.AWAITING).exists()
        if transfer is not None:
            events.parts_arrived(reservation=reservation, transfer=transfer)
        note = _("%(part)s arrived and is reserved for this repair.") % {"part": reservation.part.part_number}
        if still_waiting or ticket.status != TicketStatus.AWAITING_PARTS:
            ticket_note_add(ticket_id=ticket.pk, action="parts_reserved", actor=actor, note=note)
        elif refusal(MOVES[Action.PARTS_ARRIVED], ticket, actor, check_guards=False) is None:
            ticket_transition(ticket_id=ticket.pk, action=Action.PARTS_ARRIVED, actor=actor, note=note)
            resumed.append(ticket.pk)
        else:  # e.g. a system receipt: the part is reserved, the engineer resumes the repair from the bench
            ticket_note_add(ticket_id=ticket.pk, action="parts_reserved", actor=actor, note=note)
    return resumed


# --- return batches to the maker ---------------------------------------------------------------------


def _batch_open(location_id: int, now: dt.datetime) -> MakerReturnBatch:
    batch = lock(MakerReturnBatch.objects.filter(location_id=location_id, status=BatchStatus.OPEN))
    if batch:
        return batch[0]
    try:
        with transaction.atomic():
            return MakerReturnBatch.objects.create(
                code=f"RMA-{now:%Y%m%d}-{get_random_string(6, '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ')}",
                location_id=location_id,
                created_at=now,
            )
    except IntegrityError:  # someone opened it at the same moment
        return lock_one(MakerReturnBatch.objects.filter(location_id=location_id, status=BatchStatus.OPEN))


def _batch_line_add(
    *, location_id: int, part: Part | None, serial: str, imei: str, ticket_id: int | None, reason: str, now: dt.datetime
) -> MakerReturnLine:
    batch = _batch_open(location_id, now)
    return MakerReturnLine.objects.create(
        batch=batch, part=part, serial=serial, imei=imei, ticket_id=ticket_id, reason=str(reason)[:200], added_at=now
    )


def return_batch_line_add(
    *,
    actor: Actor,
    location_id: int,
    part_id: int | None = None,
    serial: str = "",
    imei: str = "",
    ticket_id: int | None = None,
    reason: str = "",
) -> MakerReturnLine:
    """Add a part (by serial) or a whole device (by IMEI) to the location's open return batch (opened if none).

    For other apps (returns/exchanges add returned devices). Refuses: ``not_found``, ``forbidden``,
    ``validation_error`` (neither or both of part and IMEI; an IMEI that is not 15 digits).
    """
    actor = _require_actor(actor)
    _location(location_id, actor)
    _check_role(actor, location_id, STOCK_ROLES)
    serial, imei = str(serial or "").strip()[:64], str(imei or "").strip()
    if (part_id is None) == (not imei):
        raise DomainError("validation_error", _("Name either a part or a device IMEI."), field="imei")
    if imei and (len(imei) != 15 or not imei.isdigit()):
        raise DomainError("validation_error", _("An IMEI has 15 digits."), field="imei")
    part = _part(part_id) if part_id is not None else None
    with transaction.atomic():
        return _batch_line_add(
            location_id=location_id,
            part=part,
            serial=serial,
            imei=imei,
            ticket_id=ticket_id,
            reason=reason,
            now=timezone.now(),
        )


_BATCH_NEXT: dict[str, str] = {
    BatchStatus.OPEN: BatchStatus.SEALED,
    BatchStatus.SEALED: BatchStatus.SHIPPED,
    BatchStatus.SHIPPED: BatchStatus.RECEIVED,
}


def return_batch_advance(
    *, actor: Actor, batch_id: int, to_status: str, seal_no: str = "", tracking_no: str = ""
) -> MakerReturnBatch:
    """Move a return batch on: open -> sealed (``seal_no``) -> shipped (``tracking_no``) -> received.

    Refuses: ``not_found``, ``forbidden``, ``invalid_transition`` (409: not the next status),
    ``validation_error`` (missing seal/tracking number), ``batch_empty`` (409: sealing an empty box).
    """
    actor = _require_actor(actor)
    now = timezone.now()
    with transaction.atomic():
        batch = lock_one(MakerReturnBatch, batch_id, not_found=_("No such return batch."))
        if not actor.can_see_center(batch.location_id):
            raise NotFound(_("No such return batch."))
        _check_role(actor, batch.location_id, STOCK_ROLES)
        if _BATCH_NEXT.get(batch.status) != to_status:
            raise Conflict("invalid_transition", _("The batch is “%(s)s”.") % {"s": batch.get_status_display()})
        if to_status == BatchStatus.SEALED:
            seal_no = str(seal_no or "").strip()
            if not seal_no or len(seal_no) > 40:
                raise DomainError("validation_error", _("Enter the seal number."), field="seal_no")
            if not batch.lines.exists():
                raise Conflict("batch_empty", _("There is nothing in this batch to seal."))
            batch.seal_no, batch.sealed_at = seal_no, now
        elif to_status == BatchStatus.SHIPPED:
            tracking_no = str(tracking_no or "").strip()
            if not tracking_no or len(tracking_no) > 40:
                raise DomainError("validation_error", _("Enter the tracking number."), field="tracking_no")
            batch.tracking_no, batch.shipped_at = tracking_no, now
        else:
            batch.received_at = now
        batch.status = to_status
        batch.save()
    return batch


# --- reorder points and counts -----------------------------------------------------------------------


def reorder_point_set(
    *, actor: Actor, location_id: int, part_id: int, min_available: int, reorder_qty: int
) -> ReorderPoint:
    """Set (create or change) the reorder point of a part at a location. Refuses: ``not_found``, ``forbidden``,
    ``validation_error``."""
    actor = _require_actor(actor)
    if isinstance(min_available, bool) or not isinstance(min_available, int) or min_available < 0:
        raise DomainError(
            "validation_error", _("The reorder point is a whole number, zero or more."), field="min_available"
        )
    reorder_qty = _positive(reorder_qty, "reorder_qty")
    _part(part_id)
    _location(location_id, actor)
    _check_role(actor, location_id, BOOKS_ROLES)
    with transaction.atomic():
        point, _created = ReorderPoint.objects.update_or_create(
            location_id=location_id,
            part_id=part_id,
            defaults={"min_available": min_available, "reorder_qty": reorder_qty},
        )
    return point


def stock_count_open(*, actor: Actor, location_id: int) -> StockCount:
    """Open a count of a location: one line per part with stock rows, expecting today's on_hand.

    Refuses: ``not_found``, ``forbidden`` (managers), ``count_open`` (409: one is open already)."""
    actor = _require_actor(actor)
    _location(location_id, actor)
    _check_role(actor, location_id, BOOKS_ROLES)
    now = timezone.now()
    with transaction.atomic():
        if StockCount.objects.filter(location_id=location_id, status=CountStatus.OPEN).exists():
            raise Conflict("count_open", _("A count of this location is already open."))
        try:
            with transaction.atomic():
                count = StockCount.objects.create(
                    location_id=location_id, created_at=now, created_by_label=actor.label[:150]
                )
        except IntegrityError:
            raise Conflict("count_open", _("A count of this location is already open.")) from None
        StockCountLine.objects.bulk_create(
            StockCountLine(count=count, part_id=part_id, expected=on_hand)
            for part_id, on_hand in StockLevel.objects.filter(location_id=location_id).values_list("part_id", "on_hand")
        )
    return count


def stock_count_record(*, actor: Actor, count_id: int, counts: dict[int, int]) -> StockCount:
    """Record counted quantities ``{part_id: counted}`` on an open count. Refuses: ``not_found``, ``forbidden``,
    ``invalid_transition`` (closed), ``validation_error`` (negative, a part not on the count)."""
    actor = _require_actor(actor)
    with transaction.atomic():
        count = lock_one(StockCount, count_id, not_found=_("No such stock count."))
        if not actor.can_see_center(count.location_id):
            raise NotFound(_("No such stock count."))
        _check_role(actor, count.location_id, STOCK_ROLES)
        if count.status != CountStatus.OPEN:
            raise Conflict("invalid_transition", _("This count is closed."))
        lines = {line.part_id: line for line in count.lines.all()}
        for part_id, counted in counts.items():
            if part_id not in lines:
                raise DomainError("validation_error", _("This part is not on the count."), field="counts")
            if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
                raise DomainError("validation_error", _("A counted quantity is zero or more."), field="counts")
            lines[part_id].counted = counted
        StockCountLine.objects.bulk_update(lines.values(), ["counted"])
    return count


def stock_count_close(*, actor: Actor, count_id: int) -> list[StockMove]:
    """Close a count: each counted line with a variance becomes an ``adjust`` move (reason: the count).

    Refuses: ``not_found``, ``forbidden`` (managers), ``invalid_transition`` (closed), ``count_incomplete``
    (409: a line not counted), ``insufficient_stock`` (409: the count is below what is reserved).
    """
    actor = _require_actor(actor)
    now = timezone.now()
    with transaction.atomic():
        count = lock_one(StockCount, count_id, not_found=_("No such stock count."))
        if not actor.can_see_center(count.location_id):
            raise NotFound(_("No such stock count."))
        _check_role(actor, count.location_id, BOOKS_ROLES)
        if count.status != CountStatus.OPEN:
            raise Conflict("invalid_transition", _("This count is closed."))
        lines = list(count.lines.select_related("part"))
        if any(line.counted is None for line in lines):
            raise Conflict("count_incomplete", _("Count every line before closing."))
        varied = [line for line in lines if line.counted != line.expected]
        _waiting_tickets_lock([(count.location_id, line.part_id) for line in varied])
        levels = _levels_lock([(count.location_id, line.part_id) for line in varied])
        moves = []
        for line in varied:
            assert line.counted is not None
            moves.append(
                _adjust(
                    levels[(count.location_id, line.part_id)],
                    delta=line.counted - line.expected,
                    reason=_("Stock count C%(id)s") % {"id": count.pk},
                    actor=actor,
                    now=now,
                )
            )
        count.status, count.closed_at = CountStatus.CLOSED, now
        count.save(update_fields=["status", "closed_at"])
    return moves
