"""三包 writes: the inspection of a ticket's device and the one return / exchange / repair decision.

The windows are the warranty app's (``warranty.models.StatutoryPolicy``, ``warranty.dates``): periods are
counted in local calendar dates (Asia/Shanghai), the sale day is day 0 and the last day of an N-day window
is day N. The day counted is the one the customer raised the fault with the network: the ticket's
``created_at`` (check-in at the counter, the booking, the mail-in request) -- a slow inspection never costs
the customer the right.

Two later apps are wired in by registration (they stand above returns or are built in parallel):

* ``refund_handler_register(fn)``: ``fn(decision=..., actor=...)`` books the refund of a return (payments'
  ledger) in the decision's transaction and returns its reference; without one the decision keeps the amount
  with status ``pending`` (shown on the ticket) for the lead's payments wiring.
* ``maker_return_register(fn)``: ``fn(decision=..., actor=...)`` puts the returned device into a return
  batch to the maker (parts' ``MakerReturnBatch``) and returns the batch reference; without one the device is
  recorded as ``sent_to_maker``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from repairs.choices import Action, TicketStatus
from repairs.models import RepairTicket
from repairs.services import ticket_transition
from servicehub.actors import Actor
from servicehub.errors import DomainError, NotFound
from servicehub.locking import lock_one
from servicehub.money import MONEY_MAX, money
from warranty import dates
from warranty.choices import Exclusion
from warranty.models import Device
from warranty.selectors import normalize_imei, statutory_policy_for

from . import events
from .choices import RULE_EXCHANGE, RULE_REPAIR, RULE_RETURN, DecisionKind, MakerStatus, RefundStatus
from .models import Inspection, ReturnDecision

INSPECT_ROLES = ("engineer", "manager")
DECIDE_ROLES = ("front_desk", "manager")
# Statuses in which the device is at the center, inspected, and nothing was repaired or quoted yet.
DECIDABLE_STATUSES = (TicketStatus.RECEIVED, TicketStatus.DIAGNOSING)

RefundHandler = Callable[..., "str | None"]
MakerReturnHandler = Callable[..., "str | None"]
_refund_handlers: list[RefundHandler] = []
_maker_handlers: list[MakerReturnHandler] = []


def refund_handler_register(handler: RefundHandler) -> None:
    """Book a return's refund with ``handler(decision=..., actor=...)`` -> reference (payments registers it)."""
    if handler not in _refund_handlers:
        _refund_handlers.append(handler)


def maker_return_register(handler: MakerReturnHandler) -> None:
    """Put a returned device in a maker batch with ``handler(decision=..., actor=...)`` -> batch reference."""
    if handler not in _maker_handlers:
        _maker_handlers.append(handler)


@dataclass(frozen=True)
class RuleApplied:
    kind: str
    rule: str
    day: int
    window_days: int | None
    until: dt.date
    text: str


def _require_actor(actor) -> Actor:
    if not isinstance(actor, Actor):
        raise TypeError("returns services need an actor (jobs pass servicehub.actors.SYSTEM)")
    return actor


def _lock_visible_ticket(ticket_id: int, actor: Actor) -> RepairTicket:
    ticket = lock_one(RepairTicket, ticket_id, not_found=_("No such ticket."))
    centers = [c for c in (ticket.center_id, ticket.origin_center_id) if c]
    if not any(actor.can_see_center(c) for c in centers):
        raise NotFound(_("No such ticket."))
    return ticket


def _require_role(actor: Actor, ticket: RepairTicket, roles: tuple[str, ...]) -> None:
    if not any(actor.has_role(r, ticket.center_id) for r in roles) and not actor.has_role("hq"):
        raise DomainError("permission_denied", _("Your role may not do this on this ticket."), status=403)


def statutory_rule(*, device: Device, kind: str, claimed_at: dt.datetime, policy=None) -> RuleApplied:
    """The 三包 rule for ``kind`` on ``device`` for a fault raised at ``claimed_at``.

    Day N = local date of ``claimed_at`` minus the local date of ``sold_at`` (Asia/Shanghai): sold at 23:59 on
    1 March, 8 March 23:59 is day 7 (returnable), 9 March 00:00 is day 8. Refuses: no sale date (422
    ``no_sale_date``); outside the window of ``kind`` (422 ``window_passed``, with ``day`` and ``until``).
    """
    if device.sold_at is None:
        raise DomainError(
            "no_sale_date", _("The sale date of this device is unknown: no 三包 decision is possible."), status=422
        )
    policy = policy or statutory_policy_for(category=device.model.category)
    sale_date = dates.local_date(device.sold_at)
    day = (dates.local_date(claimed_at) - sale_date).days
    if kind == DecisionKind.RETURN:
        window: int | None = policy.return_days
        until, rule = policy.return_until(sale_date), RULE_RETURN
        text = _("Day %(day)d of the %(n)d-day return period (until %(until)s).")
    elif kind == DecisionKind.EXCHANGE:
        window = policy.exchange_days
        until, rule = policy.exchange_until(sale_date), RULE_EXCHANGE
        text = _("Day %(day)d of the %(n)d-day exchange period (until %(until)s).")
    else:
        window = None
        until, rule = policy.repair_until(sale_date), RULE_REPAIR
        text = _("Day %(day)d since the sale, within the %(n)d-month free repair period (until %(until)s).")
    if day < 0 or dates.local_date(claimed_at) > until:
        raise DomainError(
            "window_passed",
            _("The period for this decision ended on %(until)s (the fault was raised on day %(day)d).")
            % {"until": until.isoformat(), "day": day},
            status=422,
            day=day,
            until=until.isoformat(),
        )
    n = window if window is not None else policy.repair_months
    return RuleApplied(
        kind=kind,
        rule=rule,
        day=day,
        window_days=window,
        until=until,
        text=text % {"day": day, "n": n, "until": until.isoformat()},
    )


def inspection_record(
    *, ticket_id: int, actor: Actor, performance_fault: bool, exclusion: str = "", findings: str
) -> Inspection:
    """Record what the center found on the device (an engineer or a manager at the ticket's center).

    Changes: a new ``Inspection`` (the latest one counts for the decision) and a timeline note.
    Refuses: a ticket the actor may not see (404 ``not_found``); another role (403 ``permission_denied``);
    an unknown exclusion, no findings, or a performance fault together with an excluded cause
    (``validation_error``); a ticket already decided or past inspection (409 ``invalid_state``).
    """
    from repairs.services import ticket_note_add

    _require_actor(actor)
    findings = (findings or "").strip()
    exclusion = (exclusion or "").strip()
    if exclusion and exclusion not in Exclusion.values:
        raise DomainError("validation_error", _("Unknown excluded cause."), field="exclusion")
    if not findings:
        raise DomainError("validation_error", _("Write down what you found."), field="findings")
    if performance_fault and exclusion:
        raise DomainError(
            "validation_error",
            _("A fault caused by an excluded cause is not a performance fault: choose one."),
            field="exclusion",
        )
    with transaction.atomic():
        ticket = _lock_visible_ticket(ticket_id, actor)
        _require_role(actor, ticket, INSPECT_ROLES)
        if ticket.status not in DECIDABLE_STATUSES or ReturnDecision.objects.filter(ticket=ticket).exists():
            raise DomainError("invalid_state", _("This ticket is past the 三包 inspection."), status=409)
        user = getattr(actor, "user", None)
        inspection = Inspection.objects.create(
            ticket=ticket,
            performance_fault=bool(performance_fault),
            exclusion=exclusion,
            findings=findings[:500],
            inspected_by=user if getattr(user, "pk", None) else None,
            actor_label=actor.label[:150],
            at=timezone.now(),
        )
        if performance_fault:
            note = _("三包 inspection: performance fault confirmed. %(f)s") % {"f": findings}
        elif exclusion:
            note = _("三包 inspection: excluded cause (%(cause)s). %(f)s") % {
                "cause": Exclusion(exclusion).label,
                "f": findings,
            }
        else:
            note = _("三包 inspection: no performance fault found. %(f)s") % {"f": findings}
        ticket_note_add(ticket_id=ticket.pk, action="inspection", actor=actor, note=note[:500])
    return inspection


def _clean_amount(value) -> Decimal:
    try:
        amount = money(value)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(
            "validation_error", _("Give the amount paid as a number, e.g. 3999.00."), field="refund_amount"
        ) from None
    if amount <= 0 or amount > MONEY_MAX:
        raise DomainError("validation_error", _("The amount to refund must be more than 0."), field="refund_amount")
    return amount


def _register_replacement(*, old: Device, imei: str, ticket: RepairTicket, actor: Actor, now: dt.datetime) -> Device:
    """The new device, sold "now": for an exchange the 三包 periods restart from the exchange date."""
    from warranty.services import device_register_sale

    clean = normalize_imei(imei or "")
    if not clean:
        raise DomainError("validation_error", _("Scan or type the new device's IMEI."), field="replacement_imei")
    if Device.objects.filter(imei=clean).exists():
        raise DomainError(
            "device_exists",
            _("This IMEI is already registered: scan the new device."),
            status=409,
            field="replacement_imei",
        )
    try:
        device = device_register_sale(
            imei=clean,
            model_code=old.model.code,
            sold_at=now,
            retailer=old.retailer,
            channel=old.channel,
            region=old.region,
            actor=actor,
        )
    except DomainError as exc:
        if exc.field == "imei":
            exc.field = "replacement_imei"
        raise
    device.proof_of_purchase_note = (
        _("三包 exchange for IMEI %(imei)s (ticket %(no)s).")
        % {"imei": old.imei or old.serial, "no": ticket.service_no}
    )[:300]
    device.save(update_fields=["proof_of_purchase_note"])
    return device


def return_decide(
    *,
    ticket_id: int,
    actor: Actor,
    kind: str,
    reason: str,
    replacement_imei: str = "",
    refund_amount=None,
    now: dt.datetime | None = None,
) -> ReturnDecision:
    """Decide a 三包 claim on a ticket (front desk or manager), after an inspection confirmed a performance fault.

    Changes, in one transaction: the ``ReturnDecision`` with the rule applied (day N of the window); for an
    exchange the replacement ``Device`` (new IMEI, same model, 三包 restarting today, linked to the old one)
    and the ticket moved to ``ready`` (handed over or shipped back as usual); for a return the ticket
    closed with the refund due (the registered refund handler, else status ``pending``); for both the old
    device goes to the maker (the registered batch handler, else ``sent_to_maker``) and the selling retailer
    is told (events ``ticket.exchanged`` / ``ticket.returned``). A repair decision only records the rule;
    the ticket continues with its (free) quote.
    Refuses: unknown kind, no reason, a bad IMEI or amount (``validation_error``); a ticket the actor may not
    see (404 ``not_found``); another role (403 ``permission_denied``); no inspection yet (409
    ``inspection_required``); an inspection that found an excluded cause (422 ``excluded_cause``) or no
    performance fault (422 ``no_performance_fault``); a decided ticket (409 ``decision_exists``); a ticket
    no longer at inspection (409 ``invalid_state``); outside the window (422 ``window_passed``); unknown sale
    date (422 ``no_sale_date``); a replacement IMEI already registered (409 ``device_exists``).
    """
    _require_actor(actor)
    if kind not in DecisionKind.values:
        raise DomainError("validation_error", _("Choose return, exchange or repair."), field="kind")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("validation_error", _("Say why (what the customer asked for)."), field="reason")
    amount = _clean_amount(refund_amount) if kind == DecisionKind.RETURN else None
    with transaction.atomic():
        ticket = _lock_visible_ticket(ticket_id, actor)
        _require_role(actor, ticket, DECIDE_ROLES)
        if ReturnDecision.objects.filter(ticket=ticket).exists():
            raise DomainError("decision_exists", _("This ticket already has a 三包 decision."), status=409)
        if ticket.status not in DECIDABLE_STATUSES:
            raise DomainError("invalid_state", _("This ticket is past the 三包 inspection."), status=409)
        inspection = Inspection.objects.filter(ticket=ticket).order_by("-at", "-pk").first()
        if inspection is None:
            raise DomainError(
                "inspection_required", _("Inspect the device first: confirm the performance fault."), status=409
            )
        if inspection.exclusion:
            raise DomainError(
                "excluded_cause",
                _("The inspection found an excluded cause (%(cause)s): no 三包 return or exchange.")
                % {"cause": Exclusion(inspection.exclusion).label},
                status=422,
                exclusion=inspection.exclusion,
            )
        if not inspection.performance_fault:
            raise DomainError("no_performance_fault", _("The inspection found no performance fault."), status=422)
        device = Device.objects.select_related("model", "retailer").get(pk=ticket.device_id)
        now = now or timezone.now()
        rule = statutory_rule(device=device, kind=kind, claimed_at=ticket.created_at)
        assert device.sold_at is not None  # statutory_rule refused no_sale_date
        replacement = None
        if kind == DecisionKind.EXCHANGE:
            replacement = _register_replacement(old=device, imei=replacement_imei, ticket=ticket, actor=actor, now=now)
        user = getattr(actor, "user", None)
        decision = ReturnDecision.objects.create(
            ticket=ticket,
            inspection=inspection,
            kind=kind,
            reason=reason[:500],
            rule=rule.rule,
            rule_text=rule.text[:300],
            day=rule.day,
            window_days=rule.window_days,
            sold_at=device.sold_at,
            claimed_at=ticket.created_at,
            device=device,
            replacement=replacement,
            refund_amount=amount,
            refund_status=RefundStatus.PENDING if kind == DecisionKind.RETURN else RefundStatus.NONE,
            maker_status=MakerStatus.NONE if kind == DecisionKind.REPAIR else MakerStatus.SENT_TO_MAKER,
            decided_by=user if getattr(user, "pk", None) else None,
            actor_label=actor.label[:150],
            decided_at=now,
        )
        if kind == DecisionKind.REPAIR:
            from repairs.services import ticket_note_add

            ticket_note_add(
                ticket_id=ticket.pk, action="statutory_repair", actor=actor, note=f"{rule.text} {reason}"[:500]
            )
            return decision
        if kind == DecisionKind.RETURN:
            for handler in _refund_handlers:
                ref = handler(decision=decision, actor=actor)
                decision.refund_status = RefundStatus.REQUESTED
                decision.refund_reference = str(ref or "")[:64]
        for maker in _maker_handlers:
            ref = maker(decision=decision, actor=actor)
            decision.maker_status = MakerStatus.IN_BATCH
            decision.maker_batch_reference = str(ref or "")[:64]
        decision.save(update_fields=["refund_status", "refund_reference", "maker_status", "maker_batch_reference"])
        if kind == DecisionKind.EXCHANGE:
            assert replacement is not None
            note = _("%(rule)s New IMEI %(imei)s. %(reason)s") % {
                "rule": rule.text,
                "imei": replacement.imei,
                "reason": reason,
            }
            ticket_transition(ticket_id=ticket.pk, action=Action.EXCHANGE, actor=actor, note=note[:500])
            events.ticket_exchanged(decision=decision, ticket=ticket)
        else:
            note = _("%(rule)s Refund due %(amount)s CNY. %(reason)s") % {
                "rule": rule.text,
                "amount": amount,
                "reason": reason,
            }
            ticket_transition(ticket_id=ticket.pk, action=Action.STATUTORY_RETURN, actor=actor, note=note[:500])
            events.ticket_returned(decision=decision, ticket=ticket)
    return decision


def _decision_guard(kind: str) -> Callable[[RepairTicket], str | None]:
    def guard(ticket: RepairTicket) -> str | None:
        if ReturnDecision.objects.filter(ticket_id=ticket.pk, kind=kind).exists():
            return None
        return _("Only a 三包 decision (inspection, then decision) exchanges or takes back a device.")

    guard.__name__ = guard.__qualname__ = f"returns_{kind}_decision_guard"
    return guard


# The rule returns adds to the ``exchange`` / ``statutory_return`` moves (registered in ``ReturnsConfig.ready``):
# ``return_decide`` writes the decision, then moves the ticket in the same transaction; anyone else (the generic
# transition endpoint, a stray button) is refused.
exchange_guard = _decision_guard(DecisionKind.EXCHANGE)
return_guard = _decision_guard(DecisionKind.RETURN)
