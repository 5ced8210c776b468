"""The ticket state machine as data: which action moves which status where, and who may do it.

``repairs.services.ticket_transition`` is the only code that applies these moves;
``repairs.selectors.allowed_actions`` asks the same table what an actor may do now.
Guards that need the ticket's details (collection-point forwarding, who repaired,
certifications) live in ``refusal`` below so both use one rule. A rule that needs a fact
from a later app (no close while a loaner is out) is a guard that app registers with
``transition_guard_register`` in its ``AppConfig.ready()``: repairs never imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import Actor

from .choices import Action, Channel, TicketStatus

if TYPE_CHECKING:
    from .models import RepairTicket

S = TicketStatus

FRONT = ("front_desk",)
ENGINEER = ("engineer",)


@dataclass(frozen=True)
class CustomerActor(Actor):
    """The customer acting through a signed link on the tracking page (approve/decline a quote)."""

    ticket_id: int | None = None

    @property
    def label(self) -> str:
        return "customer"

    def has_role(self, role: str, center_id: int | None = None) -> bool:
        return False


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: decided by the service (send_quote: awaiting_approval or repairing)
    roles: tuple[str, ...] = ()  # staff roles at the ticket's center; managers and HQ may do every staff move
    system: bool = False  # background jobs, courier events
    partner: bool = False  # partner keys scoped to the ticket's centers
    customer_sources: tuple[str, ...] = field(default=())  # statuses in which the customer may do it


MOVES: dict[str, Move] = {
    m.action: m
    for m in (
        Move(Action.CHECK_IN, (S.BOOKED,), S.RECEIVED, FRONT, system=True, partner=True),
        Move(Action.FORWARD, (S.RECEIVED,), S.IN_TRANSIT, FRONT, system=True, partner=True),
        Move(Action.RECEIVE_AT_HUB, (S.IN_TRANSIT,), S.RECEIVED, FRONT, system=True),
        Move(Action.START_DIAGNOSIS, (S.RECEIVED,), S.DIAGNOSING, ENGINEER),
        Move(Action.SEND_QUOTE, (S.DIAGNOSING, S.AWAITING_APPROVAL, S.REPAIRING), None, ENGINEER),
        Move(Action.APPROVE, (S.AWAITING_APPROVAL,), S.REPAIRING, FRONT, customer_sources=(S.AWAITING_APPROVAL,)),
        Move(Action.DECLINE, (S.AWAITING_APPROVAL,), S.RETURNING, FRONT, customer_sources=(S.AWAITING_APPROVAL,)),
        Move(Action.AWAIT_PARTS, (S.REPAIRING,), S.AWAITING_PARTS, ENGINEER),
        Move(Action.PARTS_ARRIVED, (S.AWAITING_PARTS,), S.REPAIRING, ENGINEER + FRONT),
        Move(Action.START_REPAIR, (S.REPAIRING,), S.REPAIRING, ENGINEER),
        Move(Action.FINISH, (S.REPAIRING,), S.QUALITY_CHECK, ENGINEER),
        Move(Action.QC_PASS, (S.QUALITY_CHECK,), S.READY, ENGINEER),
        Move(Action.QC_FAIL, (S.QUALITY_CHECK,), S.REPAIRING, ENGINEER),
        Move(Action.HAND_OVER, (S.READY, S.RETURNING), S.DELIVERED, FRONT, partner=True),
        Move(Action.SHIP_BACK, (S.READY,), S.RETURNING, FRONT, system=True),
        Move(Action.DELIVER, (S.RETURNING,), S.DELIVERED, FRONT, system=True, partner=True),
        Move(Action.CLOSE, (S.DELIVERED,), S.CLOSED, FRONT, system=True),
        Move(
            Action.CANCEL,
            (S.BOOKED, S.RECEIVED, S.DIAGNOSING, S.AWAITING_APPROVAL, S.AWAITING_PARTS),
            S.CANCELLED,
            FRONT,
            system=True,
            partner=True,
            customer_sources=(S.BOOKED,),
        ),
        Move(Action.NO_SHOW, (S.BOOKED,), S.CANCELLED, FRONT, system=True),
        # 三包 (issue #23): the replacement is then handed over or shipped back like a repaired device; a
        # return ends the ticket. Only ``returns.services.return_decide`` passes returns' guard on them.
        Move(Action.EXCHANGE, (S.RECEIVED, S.DIAGNOSING), S.READY, FRONT),
        Move(Action.STATUTORY_RETURN, (S.RECEIVED, S.DIAGNOSING), S.CLOSED, FRONT),
    )
}

# Channels whose devices travel back by courier (``ship_back``); the others are handed over at a counter.
SHIPPING_CHANNELS = (Channel.MAIL_IN, Channel.COLLECTION_POINT)
# Staff roles that may do every staff move at their center (still subject to the guards).
SUPERVISOR_ROLES = ("manager",)


# A guard from a later app: ``guard(ticket)`` returns why the move may not happen now (a translated
# sentence) or None. Registered per action in the later app's ``AppConfig.ready()``.
TransitionGuard: TypeAlias = "Callable[[RepairTicket], str | None]"
_GUARDS: dict[str, list[TransitionGuard]] = {}


def transition_guard_register(action: str, guard: TransitionGuard) -> None:
    """Make ``guard`` part of the rule for ``action`` (idempotent: registering twice keeps one)."""
    if action not in MOVES:
        raise ValueError(f"unknown ticket action {action!r}")
    guards = _GUARDS.setdefault(action, [])
    if guard not in guards:
        guards.append(guard)


class GuardRefusal(str):
    """A guard's refusal that carries its own stable error code (a plain ``str`` means ``invalid_transition``).

    ``ticket_transition`` answers it with ``DomainError(code, message, status=409)``, e.g. payments'
    ``GuardRefusal(_("..."), code="payment_required")``; everywhere else it is the sentence it reads as.
    """

    code: str

    def __new__(cls, message: str, *, code: str) -> GuardRefusal:
        obj = super().__new__(cls, message)
        obj.code = code
        return obj


def guards_refusal(action: str, ticket: RepairTicket) -> str | None:
    """The first refusal of the guards registered for ``action`` (None when all of them let it pass)."""
    for guard in _GUARDS.get(action, ()):
        why = guard(ticket)
        if why is not None:
            return why
    return None


@dataclass(frozen=True)
class TransitionContext:
    """What an effect learns about the move being applied (the ticket is locked, not saved yet)."""

    action: str
    actor: Actor
    from_status: str
    target: str
    now: dt.datetime
    params: dict = field(default_factory=dict)


# An effect from a later app: ``effect(ticket, ctx)`` runs inside ``ticket_transition``'s transaction, after
# the action's own changes and before the ticket enters its new stage. It may write its own rows (reserve a
# part, charge an approved quote) and may return a different target status (``awaiting_parts`` instead of
# ``repairing``), or None to keep it. Raising a ``DomainError`` refuses the whole move: nothing is written.
TransitionEffect: TypeAlias = "Callable[[RepairTicket, TransitionContext], str | None]"
_EFFECTS: dict[str, list[TransitionEffect]] = {}


def transition_effect_register(action: str, effect: TransitionEffect) -> None:
    """Run ``effect`` whenever ``action`` is applied (idempotent: registering twice keeps one)."""
    if action not in MOVES:
        raise ValueError(f"unknown ticket action {action!r}")
    effects = _EFFECTS.setdefault(action, [])
    if effect not in effects:
        effects.append(effect)


def effects_apply(ticket: RepairTicket, ctx: TransitionContext) -> str:
    """Run the effects registered for ``ctx.action``; return the target status (the first override wins)."""
    target = ctx.target
    for effect in _EFFECTS.get(ctx.action, ()):
        override = effect(ticket, ctx)
        if override is not None and target == ctx.target:
            if override not in TicketStatus.values:
                raise ValueError(f"effect {effect!r} returned unknown status {override!r}")
            target = override
    return target


def role_center_id(ticket, action: str) -> int:
    """The center whose staff perform ``action``: the collection point before the device reaches the hub."""
    if (
        ticket.origin_center_id
        and ticket.hub_received_at is None
        and action
        in (
            Action.CHECK_IN,
            Action.FORWARD,
            Action.CANCEL,
            Action.NO_SHOW,
        )
    ):
        return ticket.origin_center_id
    if (
        ticket.origin_center_id
        and action in (Action.HAND_OVER, Action.DELIVER)
        and ticket.channel == Channel.COLLECTION_POINT
    ):
        # The device comes back to the collection point and is handed over there.
        return ticket.origin_center_id
    return ticket.center_id


def has_valid_certification(user, *, today: dt.date | None = None) -> bool:
    from centers.models import Certification

    if user is None or not getattr(user, "pk", None):
        return False
    today = today or timezone.localdate()
    return Certification.objects.filter(user=user, issued_on__lte=today, expires_on__gte=today).exists()


def actor_may(move: Move, ticket, actor: Actor) -> bool:
    """Role rule only (no status, no guards)."""
    if isinstance(actor, CustomerActor):
        return actor.ticket_id == ticket.pk and ticket.status in move.customer_sources
    if actor.is_system:
        return move.system
    center_id = role_center_id(ticket, move.action)
    if actor.user is None:  # a partner key
        return move.partner and actor.can_see_center(center_id)
    if not actor.can_see_center(center_id):
        return False
    if any(actor.has_role(r, center_id) for r in SUPERVISOR_ROLES) or actor.has_role("hq"):
        return bool(move.roles)
    return any(actor.has_role(r, center_id) for r in move.roles)


def refusal(move: Move, ticket, actor: Actor, *, check_guards: bool = True) -> str | None:
    """Why ``move`` cannot happen now (a translated sentence), or None when it can.

    ``check_guards=False`` leaves out the guards registered by later apps (``transition_guard_register``)."""
    if ticket.status not in move.sources:
        return _("“%(action)s” is not possible while the ticket is “%(status)s”.") % {
            "action": Action(move.action).label,
            "status": TicketStatus(ticket.status).label,
        }
    if not actor_may(move, ticket, actor):
        return _("You may not “%(action)s” this ticket.") % {"action": Action(move.action).label}
    action = move.action
    awaiting_hub = ticket.origin_center_id is not None and ticket.hub_received_at is None
    if action == Action.FORWARD and not awaiting_hub:
        return _("Only a device received at a collection point is forwarded to the hub.")
    if action in (Action.START_DIAGNOSIS,) and awaiting_hub:
        return _("The device is still at the collection point; forward it to the hub first.")
    user = getattr(actor, "user", None)
    if action == Action.START_REPAIR:
        if ticket.engineer_id is not None:
            return _("The repair has already been started by another engineer.")
        if not has_valid_certification(user):
            return _("Only an engineer with a valid certification may start a repair.")
    if action == Action.FINISH:
        if ticket.engineer_id is None:
            return _("Start the repair before finishing it.")
        if user is None or user.pk != ticket.engineer_id:
            return _("Only the engineer who repaired the device finishes the repair.")
    if action in (Action.QC_PASS, Action.QC_FAIL) and user is not None and user.pk == ticket.engineer_id:
        return _("Quality check must be done by someone other than the repairing engineer.")
    if action == Action.SHIP_BACK and ticket.channel not in SHIPPING_CHANNELS:
        return _("Only mail-in and collection-point devices are shipped back.")
    if check_guards:
        return guards_refusal(action, ticket)
    return None
