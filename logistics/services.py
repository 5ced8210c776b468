"""Writes for shipments and their custody chain.

A courier event is one transaction: lock the shipment, check the move and the
seal, append the ``ShipmentEvent``, move the ticket through
``repairs.services.ticket_transition`` (system actor) when the device arrives,
and write the ``shipment.updated`` webhook rows -- all or nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError, NotFound
from servicehub.locking import lock_one

from . import events
from .choices import ALLOWED_FROM, HANDOVER_EVENTS, Leg, ShipmentEventKind, ShipmentStatus
from .models import Shipment, ShipmentEvent

FUTURE_TOLERANCE = timedelta(minutes=10)

# (leg, event) -> the ticket action it triggers (applied only when the ticket is in a source status of it).
TICKET_ACTIONS: dict[tuple[str, str], str] = {
    (Leg.CUSTOMER_TO_HUB, ShipmentEventKind.DELIVERED): "check_in",
    (Leg.COLLECTION_POINT_TO_CENTER, ShipmentEventKind.PICKED_UP): "forward",
    (Leg.COLLECTION_POINT_TO_CENTER, ShipmentEventKind.DELIVERED): "receive_at_hub",
    (Leg.HUB_TO_CUSTOMER, ShipmentEventKind.PICKED_UP): "ship_back",
    (Leg.HUB_TO_CUSTOMER, ShipmentEventKind.DELIVERED): "deliver",
    (Leg.CENTER_TO_COLLECTION_POINT, ShipmentEventKind.PICKED_UP): "ship_back",
    # Arrival at the collection point: the ticket stays "returning" until the operator hands it over.
}


def _require_actor(actor) -> Actor:
    """No change runs for nobody: couriers' callbacks and jobs pass ``servicehub.actors.SYSTEM``."""
    if not isinstance(actor, Actor):
        raise TypeError("logistics services need an actor (jobs and callbacks pass servicehub.actors.SYSTEM)")
    return actor


def _ends(ticket, leg: str):
    if leg == Leg.CUSTOMER_TO_HUB:
        return None, ticket.center
    if leg == Leg.HUB_TO_CUSTOMER:
        return ticket.center, None
    if leg == Leg.COLLECTION_POINT_TO_CENTER:
        return ticket.origin_center, ticket.center
    return ticket.center, ticket.origin_center


def _courier_partner(courier: str):
    from partners.choices import PartnerKind
    from partners.models import Partner

    if not courier:
        return None
    return Partner.objects.filter(name=courier, kind=PartnerKind.COURIER, active=True).first()


def shipment_create(
    *,
    ticket,
    leg: str,
    address: str = "",
    courier: str = "",
    actor=None,
    seal_no: str = "",
    tracking_no: str = "",
    courier_partner=None,
    pickup_from=None,
    pickup_until=None,
) -> Shipment:
    """Create one leg of a ticket's journey (status ``created``).

    ``courier`` is the carrier's name; when a courier partner of that name exists,
    it is assigned (its key may then post this shipment's events). ``pickup_from`` /
    ``pickup_until`` (aware) are when the courier comes to the door; a customer
    pickup tells the customer (``logistics.events.shipment_created``: SMS with the
    window, and the courier's number when already known). Refuses
    (``validation_error``): an unknown leg, a collection-point leg for a ticket
    without a collection point, a pickup window that is not aware or ends before
    it starts; (409 ``shipment_exists``) a second open shipment for the same
    ticket and leg; (409 ``invalid_state``) a closed/cancelled ticket.
    """
    if (pickup_from is None) != (pickup_until is None) or (
        pickup_from is not None
        and (timezone.is_naive(pickup_from) or timezone.is_naive(pickup_until) or pickup_until <= pickup_from)
    ):
        raise DomainError(
            "validation_error",
            _("Give the pickup window as two times with their offset, start first."),
            field="pickup_from",
        )
    if leg not in Leg.values:
        raise DomainError("validation_error", _("Unknown leg."), field="leg")
    if ticket.status in ("closed", "cancelled"):
        raise DomainError("invalid_state", _("This ticket is closed."), status=409)
    origin, destination = _ends(ticket, leg)
    if leg in (Leg.COLLECTION_POINT_TO_CENTER, Leg.CENTER_TO_COLLECTION_POINT) and ticket.origin_center_id is None:
        raise DomainError("validation_error", _("This ticket was not handed in at a collection point."), field="leg")
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                ticket=ticket,
                leg=leg,
                address=address[:300],
                courier=courier[:120],
                courier_partner=courier_partner or _courier_partner(courier),
                seal_no=seal_no[:64],
                tracking_no=tracking_no[:64],
                origin_center=origin,
                destination_center=destination,
                pickup_from=pickup_from,
                pickup_until=pickup_until,
            )
            events.shipment_created(shipment=shipment)
    except IntegrityError:
        raise DomainError(
            "shipment_exists", _("This ticket already has an open shipment on this leg."), status=409
        ) from None
    return shipment


def _actor_label(actor) -> str:
    return getattr(actor, "label", "") or str(actor or "system")


def _move_ticket(shipment: Shipment, event: ShipmentEvent) -> str:
    """Apply the ticket action this arrival/pickup implies; return its name ('' when none applied)."""
    action = TICKET_ACTIONS.get((shipment.leg, event.event))
    if not action:
        return ""
    from repairs.models import RepairTicket
    from repairs.services import ticket_transition
    from repairs.workflow import MOVES

    status = RepairTicket.objects.filter(pk=shipment.ticket_id).values_list("status", flat=True).first()
    move = MOVES.get(action)
    if move is None or status not in move.sources:
        return ""  # staff already moved it (e.g. checked in at the counter): the custody row is enough
    note = _("Shipment %(id)s %(event)s (courier %(courier)s, tracking %(tracking)s).") % {
        "id": shipment.pk,
        "event": event.event,
        "courier": shipment.courier or "-",
        "tracking": shipment.tracking_no or "-",
    }
    ticket_transition(ticket_id=shipment.ticket_id, action=action, actor=SYSTEM, note=note)
    return action


def shipment_event_record(
    *,
    shipment_id: int,
    event: str,
    at,
    tracking_no: str = "",
    seal_no: str = "",
    actor,
    note: str = "",
    external_id: str = "",
) -> ShipmentEvent:
    """Append a custody event to a shipment and move the ticket when the device arrives.

    Changes: the shipment's status (and tracking/seal number when first given), a new
    ``ShipmentEvent``, the ticket (``check_in`` / ``forward`` / ``receive_at_hub`` /
    ``ship_back`` / ``deliver`` as the leg implies), ``shipment.updated`` webhooks.
    Refuses: a shipment the actor may not see (404 ``not_found``); an event not possible
    in the shipment's status (409 ``invalid_shipment_event`` with ``allowed_events``);
    a seal/bag number differing from the one recorded (409 ``seal_mismatch``); a hand-over
    without the seal number once one is recorded (400 ``validation_error``, field
    ``seal_no``); a different tracking number (409 ``tracking_mismatch``); a time in
    the future or before the previous event (400 ``validation_error``, field ``at``).
    A repeat of the last event with the same time and seal returns it unchanged; so does an event whose
    courier id (``external_id``, a route push row) was recorded before.
    """
    from .selectors import shipments_for_actor

    if event not in ShipmentEventKind.values:
        raise DomainError("validation_error", _("Unknown shipment event."), field="event")
    if at is None or timezone.is_naive(at):
        raise DomainError("validation_error", _("Give the time with its UTC offset."), field="at")
    now = timezone.now()
    if at > now + FUTURE_TOLERANCE:
        raise DomainError("validation_error", _("This time is in the future."), field="at")
    tracking_no, seal_no = (tracking_no or "").strip(), (seal_no or "").strip()
    _require_actor(actor)
    with transaction.atomic():
        visible = shipments_for_actor(actor=actor)
        # The ticket first, then its shipment (the documented order; an arrival moves the ticket under
        # this same lock). A shipment's ticket never changes, so reading its id unlocked is safe.
        ticket_id = visible.filter(pk=shipment_id).values_list("ticket_id", flat=True).first()
        if ticket_id is None:
            raise NotFound(_("No such shipment."))
        from repairs.models import RepairTicket

        lock_one(RepairTicket, ticket_id)
        shipment = lock_one(visible, shipment_id, not_found=_("No such shipment."))
        if external_id:
            seen = shipment.events.filter(external_id=external_id).first()
            if seen is not None:
                return seen  # the courier pushed it again
        last = shipment.events.order_by("-at", "-pk").first()
        if last is not None and last.event == event and last.at == at and (not seal_no or seal_no == last.seal_no):
            return last  # a courier's retry
        if shipment.status not in ALLOWED_FROM[event]:
            allowed = [e for e, sources in ALLOWED_FROM.items() if shipment.status in sources]
            raise DomainError(
                "invalid_shipment_event",
                _("“%(event)s” is not possible while the shipment is “%(status)s”.")
                % {"event": event, "status": shipment.status},
                status=409,
                allowed_events=[str(a) for a in allowed],
            )
        if last is not None and at < last.at:
            raise DomainError("validation_error", _("This time is before the previous event."), field="at")
        if tracking_no and shipment.tracking_no and tracking_no != shipment.tracking_no:
            raise DomainError(
                "tracking_mismatch",
                _("This shipment has another tracking number."),
                status=409,
                tracking_no=shipment.tracking_no,
            )
        seal_ok = None
        if shipment.seal_no:
            if seal_no:
                if seal_no != shipment.seal_no:
                    raise DomainError(
                        "seal_mismatch",
                        _("The seal/bag number does not match the one recorded: stop and report the hand-over."),
                        status=409,
                    )
                seal_ok = True
            elif event in HANDOVER_EVENTS:
                raise DomainError("validation_error", _("Give the seal/bag number at each hand-over."), field="seal_no")
        elif seal_no:
            if event != ShipmentEventKind.PICKED_UP:
                # A seal first seen mid-route cannot prove the bag was not opened before.
                raise DomainError("seal_mismatch", _("No seal was recorded at pickup for this shipment."), status=409)
            shipment.seal_no = seal_no
        tracking_assigned = bool(tracking_no and not shipment.tracking_no)
        if tracking_assigned:
            shipment.tracking_no = tracking_no
        status_after: dict[str, str] = {
            ShipmentEventKind.PICKED_UP: ShipmentStatus.PICKED_UP,
            ShipmentEventKind.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
            ShipmentEventKind.DELIVERED: ShipmentStatus.DELIVERED,
        }
        shipment.status = status_after[event]
        if event == ShipmentEventKind.DELIVERED:
            shipment.delivered_at = at
        shipment.save(update_fields=["status", "seal_no", "tracking_no", "delivered_at", "updated_at"])
        row = ShipmentEvent.objects.create(
            shipment=shipment,
            event=event,
            at=at,
            tracking_no=tracking_no,
            seal_no=seal_no,
            seal_ok=seal_ok,
            partner=getattr(actor, "partner", None),
            user=getattr(actor, "user", None) if isinstance(actor, Actor) else None,
            actor_label=_actor_label(actor)[:150],
            note=note[:300],
            external_id=external_id[:80],
        )
        action = _move_ticket(shipment, row)
        if action:
            row.ticket_action = action
            row.save(update_fields=["ticket_action"])
        events.shipment_updated(shipment=shipment, row=row)
        if tracking_assigned:
            events.shipment_tracking_assigned(shipment=shipment)
    return row


def shipment_tracking_assign(*, shipment_id: int, tracking_no: str, courier: str = "", actor: Actor) -> Shipment:
    """Record the courier's waybill number when the courier accepts the order (before any scan).

    Changes: the shipment's ``tracking_no`` (and ``courier`` when given and none was set);
    tells the customer of a pickup leg (``logistics.events.shipment_tracking_assigned``).
    The same number again changes nothing. Refuses: a shipment the actor may not see
    (404 ``not_found``); an empty number (``validation_error``, field ``tracking_no``);
    another number than the one recorded (409 ``tracking_mismatch``).
    """
    from .selectors import shipments_for_actor

    _require_actor(actor)
    tracking_no = (tracking_no or "").strip()[:64]
    if not tracking_no:
        raise DomainError("validation_error", _("Give the tracking number."), field="tracking_no")
    with transaction.atomic():
        shipment = lock_one(shipments_for_actor(actor=actor), shipment_id, not_found=_("No such shipment."))
        if shipment.tracking_no == tracking_no:
            return shipment
        if shipment.tracking_no:
            raise DomainError(
                "tracking_mismatch",
                _("This shipment has another tracking number."),
                status=409,
                tracking_no=shipment.tracking_no,
            )
        shipment.tracking_no = tracking_no
        if courier and not shipment.courier:
            shipment.courier = courier.strip()[:120]
        shipment.save(update_fields=["tracking_no", "courier", "updated_at"])
        events.shipment_tracking_assigned(shipment=shipment)
    return shipment


# --- courier bookings and pushes (logistics.couriers) ------------------------------------------------------


def _return_leg(ticket) -> str:
    return Leg.CENTER_TO_COLLECTION_POINT if ticket.channel == "collection_point" else Leg.HUB_TO_CUSTOMER


def _booking_request(ticket, shipment: Shipment):
    from .couriers import BookingRequest, Party

    center = ticket.center
    sender = Party(name=center.name, phone=center.phone, address=center.address)
    if shipment.leg == Leg.CENTER_TO_COLLECTION_POINT:
        point = ticket.origin_center
        receiver = Party(name=point.name, phone=point.phone, address=point.address)
    else:
        receiver = Party(name=ticket.customer.name, phone=ticket.customer.phone, address=shipment.address)
    return BookingRequest(
        order_id=f"SH{ticket.service_no}-{shipment.pk}", service_no=ticket.service_no, sender=sender, receiver=receiver
    )


def ticket_ship_back(
    *, ticket_id: int, actor: Actor, tracking_no: str = "", courier: str = "", address: str = "", note: str = ""
) -> Shipment:
    """Book the courier for a repaired device's way back and ship it (the desk's "Ship back").

    Changes, in one transaction: the return leg (``hub_to_customer``, or ``center_to_collection_point``), to
    the pickup leg's address unless ``address`` is given; its waybill number -- from the courier provider
    (``logistics.couriers.courier_provider()``), or typed by staff (``tracking_no``, the manual fallback when
    the courier is down); the ticket moved ``ship_back`` (the customer's SMS then carries the number).
    The ticket is locked while the courier books, so two clicks never book two couriers.
    Refuses: a ticket the actor may not see (404 ``not_found``); a ticket that cannot ship back now or not by
    this actor (409 ``invalid_transition``); no address to ship to (``validation_error``, field ``address``);
    the courier not answering (503 ``courier_unavailable``: nothing is written, type the number instead).
    """
    from repairs.choices import Action
    from repairs.models import RepairTicket
    from repairs.services import ticket_transition
    from repairs.workflow import MOVES, refusal

    from .couriers import courier_provider

    _require_actor(actor)
    tracking_no, courier = (tracking_no or "").strip()[:64], (courier or "").strip()[:120]
    with transaction.atomic():
        ticket = lock_one(
            RepairTicket.objects.select_related("center", "origin_center", "customer"),
            ticket_id,
            not_found=_("No such ticket."),
        )
        centers = [c for c in (ticket.center_id, ticket.origin_center_id) if c]
        if not any(actor.can_see_center(c) for c in centers):
            raise NotFound(_("No such ticket."))
        why = refusal(MOVES[Action.SHIP_BACK], ticket, actor)
        if why:
            raise DomainError("invalid_transition", why, status=409)
        leg = _return_leg(ticket)
        shipment = Shipment.objects.filter(ticket=ticket, leg=leg, status=ShipmentStatus.CREATED).first()
        if shipment is None:
            if leg == Leg.HUB_TO_CUSTOMER and not address:
                pickup = Shipment.objects.filter(ticket=ticket, leg=Leg.CUSTOMER_TO_HUB).order_by("-pk").first()
                address = pickup.address if pickup is not None else ""
            if leg == Leg.HUB_TO_CUSTOMER and not address.strip():
                raise DomainError("validation_error", _("Give the address to ship the device to."), field="address")
            shipment = shipment_create(ticket=ticket, leg=leg, address=address.strip(), courier=courier, actor=actor)
        if not shipment.tracking_no:
            if tracking_no:
                booked_no, booked_courier = tracking_no, courier
            else:
                provider = courier_provider()
                booking = provider.book(_booking_request(ticket, shipment))
                booked_no, booked_courier = booking.tracking_no, booking.carrier
            shipment_tracking_assign(
                shipment_id=shipment.pk, tracking_no=booked_no, courier=booked_courier or courier, actor=SYSTEM
            )
        ticket_transition(ticket_id=ticket.pk, action=Action.SHIP_BACK, actor=actor, note=note)
    return Shipment.objects.get(pk=shipment.pk)


def courier_push_receive(*, provider_name: str, body: bytes, headers) -> dict:
    """Record a courier's status push (its own endpoint, verified by the provider's signature).

    Each event is recorded on the open shipment with that waybill number (``shipment_event_record`` as
    ``SYSTEM``: an arrival moves the ticket); an event recorded before (same courier id) is skipped, so a
    push delivered twice changes nothing. Events for unknown numbers, or not possible in the shipment's
    status, are counted and skipped (the courier is not asked to retry what can never apply).
    Returns ``{"ack": <the provider's answer body>, "recorded", "duplicates", "skipped"}``.
    Refuses: an unknown provider (404 ``not_found``); a forged or stale push (401 ``invalid_signature``).
    """
    from .couriers import courier_provider

    try:
        provider = courier_provider(provider_name)
    except LookupError:
        raise NotFound(_("No such courier.")) from None
    recorded = duplicates = skipped = 0
    for ev in provider.parse_push(body=body, headers=headers):
        if ShipmentEvent.objects.filter(external_id=ev.external_id).exists():
            duplicates += 1
            continue
        shipment_id = (
            Shipment.objects.filter(tracking_no=ev.tracking_no)
            .exclude(status=ShipmentStatus.CANCELLED)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if shipment_id is None:
            skipped += 1
            continue
        try:
            shipment_event_record(
                shipment_id=shipment_id,
                event=ev.event,
                at=ev.at,
                actor=SYSTEM,
                note=ev.note,
                external_id=ev.external_id,
            )
        except IntegrityError:
            duplicates += 1  # the same push, taken by another worker at the same moment
        except DomainError:
            skipped += 1
        else:
            recorded += 1
    return {"ack": provider.push_ack(), "recorded": recorded, "duplicates": duplicates, "skipped": skipped}


# --- progress calls to mail-in customers ---------------------------------------------------------------------

CALL_ROLES = ("front_desk", "manager")


def progress_call_plan_set(*, center_id: int, stages: list[str], actor: Actor):
    """Choose the stages at which the center's desk calls its mail-in customers (a manager, or HQ).

    Changes: the center's ``ProgressCallPlan`` (created when missing). Refuses: a center the actor may not
    see (404 ``not_found``); another role (403 ``permission_denied``); an unknown stage (``validation_error``,
    field ``stages``).
    """
    from centers.models import ServiceCenter

    from .choices import CALL_STAGES
    from .models import ProgressCallPlan

    _require_actor(actor)
    unknown = sorted(set(stages) - set(CALL_STAGES))
    if unknown:
        raise DomainError("validation_error", _("Unknown stage(s): %s.") % ", ".join(unknown), field="stages")
    if not actor.can_see_center(center_id):
        raise NotFound(_("No such center."))
    if not actor.has_role("manager", center_id) and not actor.has_role("hq"):
        raise DomainError("permission_denied", _("Only the center's manager chooses the call stages."), status=403)
    ordered = [s for s in CALL_STAGES if s in set(stages)]
    with transaction.atomic():
        lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        plan, _created = ProgressCallPlan.objects.update_or_create(center_id=center_id, defaults={"stages": ordered})
    return plan


def progress_call_log(*, ticket_id: int, actor: Actor, outcome: str, note: str = ""):
    """Log a progress call to a mail-in customer at the ticket's current stage (front desk or manager).

    Changes: a ``ProgressCall`` row and a ``progress_call`` row on the ticket's timeline
    (``repairs.services.ticket_note_add``), in one transaction. A "reached" call takes the ticket off the call
    list for this stage; "no answer" and "call back later" leave it on (with the attempt shown).
    Refuses: a ticket the actor may not see (404 ``not_found``); another role (403 ``permission_denied``);
    an unknown outcome (``validation_error``, field ``outcome``); not a mail-in ticket, or a closed one
    (409 ``invalid_state``); the customer already reached at this stage (409 ``already_called``).
    """
    from repairs.models import RepairTicket
    from repairs.services import ticket_note_add

    from .choices import CallOutcome
    from .models import ProgressCall

    _require_actor(actor)
    if outcome not in CallOutcome.values:
        raise DomainError("validation_error", _("Choose how the call went."), field="outcome")
    note = (note or "").strip()[:300]
    with transaction.atomic():
        ticket = lock_one(RepairTicket, ticket_id, not_found=_("No such ticket."))
        centers = [c for c in (ticket.center_id, ticket.origin_center_id) if c]
        if not any(actor.can_see_center(c) for c in centers):
            raise NotFound(_("No such ticket."))
        if not any(actor.has_role(r, c) for r in CALL_ROLES for c in centers) and not actor.has_role("hq"):
            raise DomainError("permission_denied", _("Only the front desk calls customers."), status=403)
        if ticket.channel != "mail_in" or ticket.status in ("closed", "cancelled"):
            raise DomainError("invalid_state", _("Progress calls are for open mail-in repairs."), status=409)
        stage = ticket.status
        if (
            outcome == CallOutcome.REACHED
            and ProgressCall.objects.filter(ticket=ticket, stage=stage, outcome=CallOutcome.REACHED).exists()
        ):
            raise DomainError("already_called", _("The customer was already reached at this stage."), status=409)
        user = getattr(actor, "user", None)
        call = ProgressCall.objects.create(
            ticket=ticket,
            stage=stage,
            outcome=outcome,
            note=note,
            user=user if getattr(user, "pk", None) else None,
            actor_label=actor.label[:150],
            at=timezone.now(),
        )
        words = str(CallOutcome(outcome).label)
        ticket_note_add(
            ticket_id=ticket.pk, action="progress_call", actor=actor, note=f"{words}. {note}" if note else words
        )
    return call
