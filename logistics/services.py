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
    *, shipment_id: int, event: str, at, tracking_no: str = "", seal_no: str = "", actor, note: str = ""
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
    A repeat of the last event with the same time and seal returns it unchanged.
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
