"""Writes for repairs: customers, bookings, check-in, the ticket state machine and quotes.

Every ticket change goes through ``ticket_transition`` (or ``ticket_book`` /
``ticket_check_in`` for the first event): one transaction that locks the row,
re-checks the move under the lock, writes the ``TicketEvent``, sets the stage
timestamps and SLA due time and calls ``repairs.events.ticket_changed``.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.calendar import BusinessCalendar, add_business_minutes_or_wall, business_minutes_between
from centers.selectors import center_calendar
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError, NotFound
from servicehub.locking import lock, lock_one
from servicehub.phones import phone_normalize

from . import events
from .choices import (
    DEFAULT_STAGE_SLA_MINUTES,
    Action,
    Channel,
    FaultCategory,
    Language,
    QuoteStatus,
    TicketStatus,
)
from .models import Customer, Quote, QuoteLine, RepairTicket, StageSLA, TicketEvent
from .promise import promise_on_move
from .workflow import MOVES, CustomerActor, GuardRefusal, TransitionContext, effects_apply, refusal

S = TicketStatus

# 31 characters: digits and capitals without 0/O, 1/I/L. 10 of them carry 10*log2(31) ~ 49.5 random bits.
SERVICE_NO_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SERVICE_NO_LENGTH = 10
_SERVICE_NO_ATTEMPTS = 8


def service_no_generate() -> str:
    return "".join(secrets.choice(SERVICE_NO_ALPHABET) for _i in range(SERVICE_NO_LENGTH))


def service_no_normalize(raw: str) -> str:
    """What a person typed (lower case, spaces, dashes) -> the stored form."""
    return "".join(ch for ch in str(raw or "").upper() if ch.isalnum())


def _create_ticket_with_number(**fields) -> RepairTicket:
    """Insert a ticket with a fresh random number; a collision (astronomically rare) retries with a new one."""
    for _attempt in range(_SERVICE_NO_ATTEMPTS):
        number = service_no_generate()
        try:
            with transaction.atomic():
                return RepairTicket.objects.create(service_no=number, **fields)
        except IntegrityError:
            if not RepairTicket.objects.filter(service_no=number).exists():
                raise  # some other constraint: not ours to hide
    raise DomainError("service_no_exhausted", _("Could not allocate a service number; try again."), status=503)


# --- customers --------------------------------------------------------------


def customer_get_or_create(*, name: str, phone: str, email: str = "", language: str | None = None) -> Customer:
    """Find the customer by phone (normalised to E.164) or create them.

    For trusted callers only: staff at the desk (who see the person) and verified
    self-service. An existing customer keeps their name; an empty e-mail is filled in.
    Anonymous bookings call it without ``email``/``language`` and keep those on their
    ticket (``ticket_book(contact_email=...)``): unverified input never changes who
    receives a customer's messages. Refuses an invalid phone (``validation_error``,
    field ``phone``) and an empty name (field ``name``).
    """
    e164 = phone_normalize(phone)
    name = str(name or "").strip()
    if language is not None and language not in Language.values:
        raise DomainError("validation_error", _("Unknown language."), field="language")
    with transaction.atomic():
        customer = Customer.objects.filter(phone=e164).first()
        if customer is not None:
            if email and not customer.email:
                customer.email = email
                customer.save(update_fields=["email"])
            return customer
        if not name:
            raise DomainError("validation_error", _("Enter the customer's name."), field="name")
        try:
            with transaction.atomic():
                return Customer.objects.create(
                    name=name[:100], phone=e164, email=email or "", language=language or Language.ZH_HANS
                )
        except IntegrityError:  # created concurrently by another request
            return Customer.objects.get(phone=e164)


def customer_contact_update(
    *, customer_id: int, verified_customer_id: int | None, email: str, language: str, contact_consent: bool
) -> Customer:
    """Change who receives a customer's messages: contact e-mail, language, consent. Verified only.

    ``verified_customer_id`` is the customer proven by an SMS code ("my service" session,
    ``repairs.verification.me_customer_id``). Changes the customer row (one transaction, row
    locked). Refuses: ``verification_required`` (403) when the caller has not verified this
    customer's phone; ``validation_error`` (field ``email`` / ``language``).
    """
    if verified_customer_id is None or int(verified_customer_id) != int(customer_id):
        raise DomainError("verification_required", _("Confirm your phone with a text-message code first."), status=403)
    email = str(email or "").strip()
    if email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("validation_error", _("Enter a valid e-mail address."), field="email") from None
    if language not in Language.values:
        raise DomainError("validation_error", _("Unknown language."), field="language")
    with transaction.atomic():
        customer = lock_one(Customer, customer_id, not_found=_("No such customer."))
        customer.email = email[:254]
        customer.language = language
        customer.contact_consent = bool(contact_consent)
        customer.save(update_fields=["email", "language", "contact_consent"])
    return customer


# --- SLA --------------------------------------------------------------------


def stage_target_minutes(status: str) -> int | None:
    """Target duration of a stage: the StageSLA row (admin), else the code default; None = not tracked."""
    row = StageSLA.objects.filter(status=status).values_list("target_minutes", "active").first()
    if row is not None:
        return row[0] if row[1] else None
    return DEFAULT_STAGE_SLA_MINUTES.get(status)


def _enter_stage(ticket: RepairTicket, status: str, now: dt.datetime, cal: BusinessCalendar) -> None:
    """Enter ``status``: its target counts in the center's business minutes (centers.calendar).

    The waits (awaiting_approval, awaiting_parts) keep a target of their own, for the wait; the repair's
    promise pauses meanwhile (``repairs.promise``).
    """
    ticket.status = status
    ticket.stage_started_at = now
    minutes = stage_target_minutes(status)
    ticket.stage_due_at = add_business_minutes_or_wall(cal, now, minutes) if minutes else None


def _event(
    ticket,
    *,
    action,
    from_status,
    actor: Actor,
    note: str,
    now,
    stage_entered_at=None,
    cal: BusinessCalendar | None = None,
) -> TicketEvent:
    """Append the timeline row of a move; ``stage_entered_at`` is when the ticket entered ``from_status``.

    ``cal`` is the center calendar the move already loaded for ``_enter_stage``: the visit's length is also
    written in business minutes (what the stage targets count), with no query of its own.
    """
    user = getattr(actor, "user", None)
    measured = bool(from_status and stage_entered_at)
    business = business_minutes_between(cal, stage_entered_at, now) if measured and cal is not None else None
    event = TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        from_status=from_status,
        to_status=ticket.status,
        actor=user if getattr(user, "pk", None) else None,
        actor_label=actor.label[:150],
        note=note,
        at=now,
        time_in_stage=(now - stage_entered_at) if measured else None,
        business_minutes_in_stage=business,
    )
    events.ticket_changed(ticket=ticket, event=event)
    return event


# --- booking and check-in -------------------------------------------------------


def _repair_site(center):
    """(repairing center, origin center) for a ticket handed in at ``center``."""
    from centers.choices import CenterKind

    if center.kind in (CenterKind.COLLECTION_POINT, CenterKind.EXPERIENCE_STORE) and center.hub_id:
        return center.hub, center
    if center.kind == CenterKind.COLLECTION_POINT:
        raise DomainError(
            "validation_error", _("This collection point has no hub center to forward to."), field="center"
        )
    return center, None


def _check_choices(fault_category: str, channel: str) -> None:
    if fault_category not in FaultCategory.values:
        raise DomainError("validation_error", _("Unknown fault category."), field="fault.category")
    if channel not in Channel.values:
        raise DomainError("validation_error", _("Unknown channel."), field="channel")


def ticket_book(
    *,
    center,
    customer,
    device,
    fault_category: str,
    fault_description: str = "",
    needs: dict | None = None,
    channel: str = Channel.APPOINTMENT,
    actor=None,
    contact_email: str = "",
    contact_language: str = "",
) -> RepairTicket:
    """Create a ticket in status ``booked`` with a new service number and the timeline event ``book``.

    A collection point's booking is repaired at its hub (``origin_center`` keeps the
    collection point). ``contact_email``/``contact_language`` are the unverified contact
    details of this booking: used for this ticket's messages only. Refuses an inactive
    center, unknown fault or channel, a bad e-mail or language (``validation_error``).
    """
    _check_choices(fault_category, channel)
    contact_email = str(contact_email or "").strip()
    if contact_email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(contact_email)
        except ValidationError:
            raise DomainError("validation_error", _("Enter a valid e-mail address."), field="email") from None
    contact_language = str(contact_language or "").lower()
    if contact_language and contact_language not in Language.values:
        contact_language = ""  # a browser's language we do not speak: the customer's own applies
    if not center.active:
        raise DomainError("validation_error", _("This center is closed for good."), field="center")
    actor = actor or SYSTEM
    repair_center, origin = _repair_site(center)
    now = timezone.now()
    with transaction.atomic():
        ticket = _create_ticket_with_number(
            center=repair_center,
            origin_center=origin,
            channel=channel,
            customer=customer,
            device=device,
            fault_category=fault_category,
            fault_description=fault_description or "",
            needs=needs or {},
            contact_email=contact_email[:254],
            contact_language=contact_language,
            status=S.BOOKED,
            stage_started_at=now,
        )
        _event(ticket, action="book", from_status="", actor=actor, note="", now=now)
    return ticket


_INTAKE_FIELDS = ("accessories", "appearance_notes", "repair_mode_enabled", "data_backup_consent")


def _intake(ticket: RepairTicket, params: dict) -> None:
    # What the desk typed about the fault replaces the booking's words (the form starts from them).
    if params.get("fault_category"):
        if params["fault_category"] not in FaultCategory.values:
            raise DomainError("validation_error", _("Unknown fault category."), field="fault.category")
        ticket.fault_category = params["fault_category"]
    if params.get("fault_description"):
        ticket.fault_description = str(params["fault_description"])
    if "accessories" in params:
        accessories = params["accessories"] or []
        if not isinstance(accessories, list | tuple) or not all(isinstance(a, str) for a in accessories):
            raise DomainError("validation_error", _("Accessories are a list of words."), field="accessories")
        ticket.accessories = [a.strip()[:60] for a in accessories if a.strip()]
    if "appearance_notes" in params:
        ticket.appearance_notes = str(params["appearance_notes"] or "")
    for flag in ("repair_mode_enabled", "data_backup_consent"):
        if flag in params:
            setattr(ticket, flag, bool(params[flag]))


def _device_for_check_in(device: dict, actor):
    from warranty.services import device_get_or_register

    try:
        return device_get_or_register(
            imei=device.get("imei") or None,
            serial=device.get("serial") or None,
            model_code=device.get("model") or None,
            sold_at=device.get("sold_at"),
            proof_note=device.get("proof_note", "") or "",
            actor=actor,
        )
    except DomainError as exc:
        if exc.code == "validation_error":
            exc.field = f"device.{exc.field}" if exc.field else "device"
        raise


def ticket_check_in(
    *,
    actor: Actor,
    center=None,
    service_no: str | None = None,
    channel: str = Channel.WALK_IN,
    customer: dict | None = None,
    device: dict | None = None,
    fault_category: str | None = None,
    fault_description: str = "",
    accessories: list | None = None,
    appearance_notes: str = "",
    repair_mode_enabled: bool = False,
    data_backup_consent: bool = False,
    note: str = "",
    refuse_open_duplicate: bool = False,
) -> RepairTicket:
    """Receive a device at the counter: a booked ticket (``service_no``) or a walk-in, in one transaction.

    Walk-in: finds/creates the customer (by phone) and the device (by IMEI/serial,
    registering it from the proof of purchase if unknown) and creates the ticket
    already ``received``. Refuses what the actor may not do at that center
    (``invalid_transition``), bad phone/IMEI (``validation_error`` with field
    ``customer.phone`` / ``device.imei``), unknown center (``validation_error``).
    A booked ticket takes the fault the desk gives (``fault_category``/``fault_description``, when
    not empty) with the intake fields. With ``refuse_open_duplicate`` (the counter, until the desk
    confirms) a walk-in for a device that already has an open ticket is refused
    (``open_ticket_exists``, 409, field ``confirm_duplicate``); the device row is locked so two
    desks cannot both open one.
    """
    intake = {
        "accessories": accessories or [],
        "appearance_notes": appearance_notes,
        "repair_mode_enabled": repair_mode_enabled,
        "data_backup_consent": data_backup_consent,
    }
    if service_no:
        ticket = RepairTicket.objects.filter(service_no=service_no_normalize(service_no)).only("pk").first()
        if ticket is None:
            raise NotFound(_("No ticket with this service number."))
        if fault_description:
            intake["fault_description"] = fault_description
        if fault_category:
            intake["fault_category"] = fault_category
        return ticket_transition(ticket_id=ticket.pk, action=Action.CHECK_IN, actor=actor, note=note, **intake)

    if center is None or not actor.can_see_center(center.pk):
        raise DomainError("validation_error", _("Unknown center."), field="center")
    from centers.choices import CenterKind

    if channel == Channel.WALK_IN and center.kind == CenterKind.COLLECTION_POINT:
        channel = Channel.COLLECTION_POINT
    fault_category = fault_category or FaultCategory.OTHER
    _check_choices(fault_category, channel)
    customer = customer or {}
    device = device or {}
    with transaction.atomic():
        try:
            cust = customer_get_or_create(
                name=customer.get("name", ""),
                phone=customer.get("phone", ""),
                email=customer.get("email", "") or "",
                language=customer.get("language"),
            )
        except DomainError as exc:
            exc.field = f"customer.{exc.field}" if exc.field else "customer"
            raise
        if "contact_consent" in customer and bool(customer["contact_consent"]) != cust.contact_consent:
            cust.contact_consent = bool(customer["contact_consent"])
            cust.save(update_fields=["contact_consent"])
        dev = _device_for_check_in(device, actor)
        if refuse_open_duplicate:
            from warranty.models import Device

            lock(Device.objects.filter(pk=dev.pk))
            from .selectors import DUPLICATE_GUARD_STATUSES

            if RepairTicket.objects.filter(device=dev, status__in=DUPLICATE_GUARD_STATUSES).exists():
                raise DomainError(
                    "open_ticket_exists",
                    _("This device already has an open ticket. Confirm to open another one."),
                    status=409,
                    field="confirm_duplicate",
                )
        ticket = ticket_book(
            center=center,
            customer=cust,
            device=dev,
            fault_category=fault_category,
            fault_description=fault_description,
            channel=channel,
            actor=actor,
        )
        # The counter books and receives in one go; the same rules as a booked ticket's check-in apply.
        return ticket_transition(ticket_id=ticket.pk, action=Action.CHECK_IN, actor=actor, note=note, **intake)


# --- the state machine ---------------------------------------------------------


def _lock_ticket(ticket_id: int) -> RepairTicket:
    """Lock the ticket row only, with the lock timeout (concurrency tests patch this to show the race).

    Refuses: no such ticket (``not_found``); a lock wait beyond the timeout (``busy``, 409).
    """
    return lock_one(
        RepairTicket.objects.select_related("center", "origin_center", "device", "customer"),
        ticket_id,
        not_found=_("No such ticket."),
    )


def _refuse(ticket, actor, message: str) -> DomainError:
    from .selectors import allowed_actions

    return DomainError(
        "invalid_transition", message, status=409, allowed_actions=allowed_actions(ticket=ticket, actor=actor)
    )


def ticket_transition(*, ticket_id: int, action: str, actor, note: str = "", **params) -> RepairTicket:
    """Apply ``action`` to the ticket: the one state machine (see docs/design.md and ``repairs.workflow``).

    Changes: status, stage timestamps, SLA due time, engineer (``start_repair``),
    quotes (``send_quote`` with ``lines``/``exclusions``; ``approve`` uses plan
    claims; ``cancel`` releases them), intake fields on ``check_in``; writes a
    ``TicketEvent`` and calls ``events.ticket_changed`` in the same transaction.
    Refuses: unknown ticket or one the actor cannot see (``not_found``, 404); a
    move not allowed now or not for this actor (``invalid_transition``, 409, with
    ``allowed_actions``); an outdated quote (``quote_outdated``, 409); pricing
    input (``validation_error``); an exhausted plan (``not_eligible``, 422);
    a ticket locked by another transaction beyond the lock timeout (``busy``, 409).
    """
    move = MOVES.get(action)
    with transaction.atomic():
        ticket = _lock_ticket(ticket_id)
        if not _visible(ticket, actor):
            raise NotFound(_("No such ticket."))
        if move is None:
            raise _refuse(ticket, actor, _("Unknown action “%(action)s”.") % {"action": action})
        why = refusal(move, ticket, actor)
        if why:
            if isinstance(why, GuardRefusal):
                raise DomainError(why.code, str(why), status=409)
            raise _refuse(ticket, actor, why)
        if action == Action.QC_FAIL and not str(note or "").strip():
            raise DomainError("validation_error", _("Say what failed the quality check."), field="note")

        now = timezone.now()
        from_status = ticket.status
        stage_entered_at = ticket.stage_started_at
        target = move.target
        extra_note = ""
        if action == Action.CHECK_IN:
            _intake(ticket, params)
            ticket.received_at = now
        elif action == Action.FORWARD:
            ticket.forwarded_at = now
        elif action == Action.RECEIVE_AT_HUB:
            ticket.hub_received_at = now
        elif action == Action.START_DIAGNOSIS:
            ticket.diagnosis_started_at = now
        elif action == Action.SEND_QUOTE:
            quote = _quote_create(
                ticket,
                actor=actor,
                lines=params.get("lines") or [],
                exclusions=params.get("exclusions") or [],
                note=note,
            )
            ticket.quoted_at = now
            if quote.status == QuoteStatus.AUTO_APPROVED:
                target = S.REPAIRING
                ticket.approved_at = now
                extra_note = _("Quote v%(v)s: nothing to pay, repair starts without approval.") % {"v": quote.version}
            else:
                target = S.AWAITING_APPROVAL
                extra_note = _("Quote v%(v)s: %(total)s CNY.") % {"v": quote.version, "total": quote.total}
        elif action == Action.APPROVE:
            _quote_decide(ticket, actor=actor, approve=True, quote_id=params.get("quote_id"), now=now)
            ticket.approved_at = now
        elif action == Action.DECLINE:
            _quote_decide(ticket, actor=actor, approve=False, quote_id=params.get("quote_id"), now=now)
            extra_note = _("Quote declined: the device is returned unrepaired.")
        elif action == Action.START_REPAIR:
            ticket.engineer = actor.user
            ticket.repair_started_at = now
        elif action == Action.FINISH:
            ticket.repaired_at = now
        elif action == Action.QC_PASS:
            ticket.ready_at = now
        elif action in (Action.HAND_OVER, Action.DELIVER):
            ticket.delivered_at = now
        elif action == Action.CLOSE:
            ticket.closed_at = now
        elif action == Action.EXCHANGE:
            ticket.ready_at = now
        elif action == Action.STATUTORY_RETURN:
            ticket.closed_at = now
        elif action in (Action.CANCEL, Action.NO_SHOW):
            ticket.cancelled_at = now
            Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).update(status=QuoteStatus.CANCELLED)
            if Quote.objects.filter(
                ticket=ticket, status__in=(QuoteStatus.APPROVED, QuoteStatus.AUTO_APPROVED)
            ).exists():
                from warranty.services import plan_claims_release

                plan_claims_release(ticket=ticket, actor=actor)

        assert target is not None  # only send_quote has no fixed target, and it chose one above
        # Later apps' effects (parts reserved on approval, the approved quote charged): same transaction.
        target = effects_apply(
            ticket,
            TransitionContext(
                action=action, actor=actor, from_status=from_status, target=target, now=now, params=params
            ),
        )
        cal = center_calendar(center=ticket.center)
        if action == Action.START_REPAIR:
            # Same status: the repair clock restarts when an engineer actually takes the device.
            _enter_stage(ticket, S.REPAIRING, now, cal)
        else:
            _enter_stage(ticket, target, now, cal)
        slipped_from = promise_on_move(
            ticket, cal=cal, from_status=from_status, stage_entered_at=stage_entered_at, now=now
        )
        ticket.save()
        if slipped_from is not None:
            events.promise_slipped(ticket=ticket, previous=slipped_from, action=action, from_status=from_status)
        full_note = " ".join(p for p in (str(extra_note), note) if p)
        _event(
            ticket,
            action=action,
            from_status=from_status,
            actor=actor,
            note=full_note,
            now=now,
            stage_entered_at=stage_entered_at,
            cal=cal,
        )
    return ticket


def ticket_note_add(*, ticket_id: int, action: str, actor, note: str) -> TicketEvent:
    """Append a timeline row that records a change around the ticket without moving it.

    For changes other apps make to what belongs to a ticket (booking: ``reschedule``, ``on_site_assign``):
    the row has ``from_status == to_status`` and is written under the ticket's lock, in the caller's
    transaction. It is not a status change, so nothing is sent for it. Refuses: unknown ticket or one the
    actor cannot see (``not_found``); ``busy`` (409) when the ticket stays locked beyond the timeout.
    """
    if not isinstance(actor, Actor):
        raise TypeError("ticket_note_add needs an actor (jobs pass servicehub.actors.SYSTEM)")
    with transaction.atomic():
        ticket = _lock_ticket(ticket_id)
        if not _visible(ticket, actor):
            raise NotFound(_("No such ticket."))
        user = getattr(actor, "user", None)
        return TicketEvent.objects.create(
            ticket=ticket,
            action=action[:32],
            from_status=ticket.status,
            to_status=ticket.status,
            actor=user if getattr(user, "pk", None) else None,
            actor_label=actor.label[:150],
            note=str(note),
            at=timezone.now(),
        )


def _visible(ticket, actor) -> bool:
    if isinstance(actor, CustomerActor):
        return actor.ticket_id == ticket.pk
    return actor.can_see_center(ticket.center_id) or (
        ticket.origin_center_id is not None and actor.can_see_center(ticket.origin_center_id)
    )


# --- quotes ----------------------------------------------------------------------


def _quote_create(ticket, *, actor, lines, exclusions, note) -> Quote:
    """Price and store a new quote version (caller holds the ticket lock)."""
    from warranty.choices import Exclusion

    from .pricing import quote_price

    unknown = [e for e in exclusions if e not in Exclusion.values]
    if unknown:
        raise DomainError(
            "validation_error",
            _("Unknown exclusion(s): %(e)s.") % {"e": ", ".join(map(str, unknown))},
            field="exclusions",
        )
    previous = list(
        Quote.objects.filter(
            ticket=ticket, status__in=(QuoteStatus.PENDING, QuoteStatus.APPROVED, QuoteStatus.AUTO_APPROVED)
        )
    )
    if any(q.status != QuoteStatus.PENDING for q in previous):
        # A revision during the repair: claims used by the approved version are given back;
        # the new version uses them again when approved.
        from warranty.services import plan_claims_release

        plan_claims_release(ticket=ticket, actor=actor)
    # Priced after the release, so the revision may use the claims the old version held.
    priced = quote_price(ticket=ticket, lines=lines, exclusions=exclusions)
    Quote.objects.filter(pk__in=[q.pk for q in previous]).update(status=QuoteStatus.SUPERSEDED)
    last = Quote.objects.filter(ticket=ticket).order_by("-version").values_list("version", flat=True).first() or 0
    total = priced.total
    user = getattr(actor, "user", None)
    quote = Quote.objects.create(
        ticket=ticket,
        version=last + 1,
        status=QuoteStatus.AUTO_APPROVED if total == 0 else QuoteStatus.PENDING,
        total=total,
        exclusions=priced.exclusions,
        note=note,
        created_by=user if getattr(user, "pk", None) else None,
        decided_at=timezone.now() if total == 0 else None,
        decided_by_label="" if total else "system",
    )
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote,
            position=i,
            operation=line.operation,
            description=line.description,
            code=line.operation.code,
            grade=line.grade,
            list_part_price=line.list_part_price,
            list_labor=line.list_labor,
            part_price=line.part_price,
            labor=line.labor,
            amount=line.amount,
            rules=line.rules,
            plan_purchase_id=line.plan_purchase_id,
        )
        for i, line in enumerate(priced.lines, start=1)
    )
    if quote.status == QuoteStatus.AUTO_APPROVED:
        _use_claims(quote, ticket=ticket, actor=actor)
    return quote


def _use_claims(quote: Quote, *, ticket, actor) -> None:
    faults: dict[int, str] = {}
    for pid, fault in quote.lines.order_by("position").values_list("plan_purchase_id", "operation__fault_category"):
        if pid is not None:
            faults.setdefault(pid, fault)
    if not faults:
        return
    from warranty.services import plan_claim_use

    for pid in sorted(faults):  # ordered by pk: two approvals never deadlock on the purchase rows
        plan_claim_use(purchase_id=pid, ticket=ticket, actor=actor, fault=faults[pid])


def _quote_decide(ticket, *, actor, approve: bool, quote_id, now) -> Quote:
    quote = Quote.objects.filter(ticket=ticket, status=QuoteStatus.PENDING).first()
    if quote is None:
        raise _refuse(ticket, actor, _("There is no quote waiting for approval."))
    if quote_id is not None and int(quote_id) != quote.pk:
        raise DomainError(
            "quote_outdated",
            _("This quote has been replaced by a newer version; please look at the new one."),
            status=409,
        )
    quote.status = QuoteStatus.APPROVED if approve else QuoteStatus.DECLINED
    quote.decided_at = now
    quote.decided_by_label = actor.label[:150]
    quote.save(update_fields=["status", "decided_at", "decided_by_label"])
    if approve:
        _use_claims(quote, ticket=ticket, actor=actor)
    return quote
