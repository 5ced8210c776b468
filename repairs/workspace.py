"""The staff ticket workspace: what one ticket's staff page shows, in staff words.

Read-only. ``ticket_workspace`` gathers the ticket, its timeline, quote, loan, the
device's coverage and network history and the actions the actor may do now, in a
fixed number of queries; the admin view renders it. Nothing here changes state:
every button posts to a view that calls ``repairs.services.ticket_transition``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import pgettext, pgettext_lazy

from loaners.selectors import ticket_loan_box
from servicehub.actors import Actor
from servicehub.masking import mask_name, mask_phone

from . import selectors
from .choices import TERMINAL_STATUSES, Action, Channel, FaultCategory, TicketStatus
from .models import RepairTicket, TicketEvent

S = TicketStatus

# The customer-facing labels speak to the customer ("waiting for your approval"); staff read these.
STAFF_STATUS = {
    S.BOOKED: pgettext_lazy("staff status", "Booked, not received yet"),
    S.RECEIVED: pgettext_lazy("staff status", "Received, waiting for diagnosis"),
    S.IN_TRANSIT: pgettext_lazy("staff status", "In transit to the repair center"),
    S.DIAGNOSING: pgettext_lazy("staff status", "Diagnosing"),
    S.AWAITING_APPROVAL: pgettext_lazy("staff status", "Waiting for the customer's approval"),
    S.AWAITING_PARTS: pgettext_lazy("staff status", "Waiting for parts"),
    S.REPAIRING: pgettext_lazy("staff status", "Repairing"),
    S.QUALITY_CHECK: pgettext_lazy("staff status", "Waiting for quality check"),
    S.READY: pgettext_lazy("staff status", "Ready for the customer to collect"),
    S.RETURNING: pgettext_lazy("staff status", "Being returned to the customer"),
    S.DELIVERED: pgettext_lazy("staff status", "Handed back to the customer"),
    S.CLOSED: pgettext_lazy("staff status", "Closed"),
    S.CANCELLED: pgettext_lazy("staff status", "Cancelled"),
}

# Button words: what the person at the counter or the bench does.
STAFF_ACTION = {
    Action.CHECK_IN: pgettext_lazy("staff action", "Check in"),
    Action.FORWARD: pgettext_lazy("staff action", "Forward to the hub"),
    Action.RECEIVE_AT_HUB: pgettext_lazy("staff action", "Receive at the hub"),
    Action.START_DIAGNOSIS: pgettext_lazy("staff action", "Start diagnosis"),
    Action.SEND_QUOTE: pgettext_lazy("staff action", "Send the quote"),
    Action.APPROVE: pgettext_lazy("staff action", "Customer approved the quote"),
    Action.DECLINE: pgettext_lazy("staff action", "Customer declined the quote"),
    Action.AWAIT_PARTS: pgettext_lazy("staff action", "Wait for parts"),
    Action.PARTS_ARRIVED: pgettext_lazy("staff action", "Parts arrived"),
    Action.START_REPAIR: pgettext_lazy("staff action", "Start the repair"),
    Action.FINISH: pgettext_lazy("staff action", "Repair finished"),
    Action.QC_PASS: pgettext_lazy("staff action", "Quality check passed"),
    Action.QC_FAIL: pgettext_lazy("staff action", "Quality check failed"),
    Action.HAND_OVER: pgettext_lazy("staff action", "Hand over to the customer"),
    Action.SHIP_BACK: pgettext_lazy("staff action", "Ship back"),
    Action.DELIVER: pgettext_lazy("staff action", "Delivered by courier"),
    Action.CLOSE: pgettext_lazy("staff action", "Close the ticket"),
    Action.CANCEL: pgettext_lazy("staff action", "Cancel the repair"),
    Action.NO_SHOW: pgettext_lazy("staff action", "Customer did not come"),
    Action.EXCHANGE: pgettext_lazy("staff action", "Exchange the device"),
    Action.STATUTORY_RETURN: pgettext_lazy("staff action", "Take back with a refund"),
}

# What the timeline says happened (past tense); "book" is the first event, not an action.
STAFF_EVENT = {
    "book": pgettext_lazy("timeline", "Booked"),
    "reschedule": pgettext_lazy("timeline", "Appointment moved"),
    "on_site_assign": pgettext_lazy("timeline", "On-site engineer assigned"),
    "parts_reserved": pgettext_lazy("timeline", "Part reserved"),  # parts: stock arrived for the repair
    Action.CHECK_IN: pgettext_lazy("timeline", "Checked in"),
    Action.FORWARD: pgettext_lazy("timeline", "Forwarded to the hub"),
    Action.RECEIVE_AT_HUB: pgettext_lazy("timeline", "Received at the hub"),
    Action.START_DIAGNOSIS: pgettext_lazy("timeline", "Diagnosis started"),
    Action.SEND_QUOTE: pgettext_lazy("timeline", "Quote sent"),
    Action.APPROVE: pgettext_lazy("timeline", "Quote approved"),
    Action.DECLINE: pgettext_lazy("timeline", "Quote declined"),
    Action.AWAIT_PARTS: pgettext_lazy("timeline", "Waiting for parts"),
    Action.PARTS_ARRIVED: pgettext_lazy("timeline", "Parts arrived"),
    Action.START_REPAIR: pgettext_lazy("timeline", "Repair started"),
    Action.FINISH: pgettext_lazy("timeline", "Repair finished"),
    Action.QC_PASS: pgettext_lazy("timeline", "Quality check passed"),
    Action.QC_FAIL: pgettext_lazy("timeline", "Quality check failed"),
    Action.HAND_OVER: pgettext_lazy("timeline", "Handed over"),
    Action.SHIP_BACK: pgettext_lazy("timeline", "Shipped back"),
    Action.DELIVER: pgettext_lazy("timeline", "Delivered by courier"),
    Action.CLOSE: pgettext_lazy("timeline", "Closed"),
    Action.CANCEL: pgettext_lazy("timeline", "Cancelled"),
    Action.NO_SHOW: pgettext_lazy("timeline", "Customer did not come"),
    Action.EXCHANGE: pgettext_lazy("timeline", "Exchanged (statutory)"),
    Action.STATUTORY_RETURN: pgettext_lazy("timeline", "Returned with a refund (statutory)"),
    "progress_call": pgettext_lazy("timeline", "Progress call"),
    "inspection": pgettext_lazy("timeline", "三包 inspection"),
    "statutory_repair": pgettext_lazy("timeline", "三包: free repair decided"),
}

# Moves that cannot be undone from the counter: they ask "are you sure?" first.
DESTRUCTIVE_ACTIONS = (Action.CANCEL, Action.DECLINE, Action.NO_SHOW)
# Roles that deal with the customer and so see their name and phone in full.
CUSTOMER_ROLES = ("front_desk", "manager", "hq")


def staff_status(status: str) -> str:
    return str(STAFF_STATUS.get(status, status))


def staff_action(action: str) -> str:
    return str(STAFF_ACTION.get(action, action))


def staff_event(action: str) -> str:
    return str(STAFF_EVENT.get(action, action))


def format_duration(value: dt.timedelta | None) -> str:
    """``2 h 05 min``, ``3 d 4 h``, ``12 min``, ``< 1 min``; empty for None."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return pgettext("duration", "< 1 min")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return pgettext("duration", "%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return pgettext("duration", "%(h)d h %(m)02d min") % {"h": hours, "m": mins}
    return pgettext("duration", "%(m)d min") % {"m": mins}


def sees_customer(*, actor: Actor, ticket: RepairTicket) -> bool:
    """Front desk, managers and HQ talk to the customer; the bench sees the name and phone masked."""
    centers = {ticket.center_id, ticket.origin_center_id} - {None}
    return any(actor.has_role(role, c) for role in CUSTOMER_ROLES for c in centers) or actor.has_role("hq")


@dataclass
class HistoryRow:
    """One earlier repair of the device. ``mine`` False: another center's, so only the four facts."""

    at: dt.datetime
    center: str
    fault: str
    outcome: str
    mine: bool
    ticket_id: int | None = None
    service_no: str = ""


@dataclass
class TimelineRow:
    at: dt.datetime
    what: str
    from_status: str
    to_status: str
    time_in_stage: str
    who: str
    note: str


@dataclass
class Workspace:
    ticket: RepairTicket
    status_label: str
    overdue: bool
    customer_name: str
    customer_phone: str
    customer_masked: bool
    actions: list[dict]
    can_quote: bool
    quote: object | None
    quote_exclusions: list[str]
    timeline: list[TimelineRow]
    history: list[HistoryRow]
    coverage: object | None
    plans: list[dict]
    loan: dict | None
    open_loan_id: int | None
    accessories: str
    channel: str
    fault: str
    is_open: bool
    links: dict = field(default_factory=dict)


def _history(*, ticket: RepairTicket, actor: Actor) -> list[HistoryRow]:
    rows = (
        RepairTicket.objects.filter(device_id=ticket.device_id)
        .exclude(pk=ticket.pk)
        .select_related("center")
        .only(
            "pk",
            "service_no",
            "created_at",
            "center__name",
            "center_id",
            "origin_center_id",
            "fault_category",
            "status",
        )
        .order_by("-created_at", "-pk")[:20]
    )
    out = []
    for other in rows:
        mine = actor.can_see_center(other.center_id) or (
            other.origin_center_id is not None and actor.can_see_center(other.origin_center_id)
        )
        out.append(
            HistoryRow(
                at=other.created_at,
                center=other.center.name,
                fault=str(FaultCategory(other.fault_category).label)
                if other.fault_category in FaultCategory.values
                else other.fault_category,
                outcome=staff_status(other.status),
                mine=mine,
                # Another center's ticket: no number, no link, no customer (the repair warranty needs the facts only).
                ticket_id=other.pk if mine else None,
                service_no=other.service_no if mine else "",
            )
        )
    return out


def _timeline(ticket: RepairTicket) -> list[TimelineRow]:
    events = TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("at", "pk")
    return [
        TimelineRow(
            at=e.at,
            what=staff_event(e.action),
            from_status=staff_status(e.from_status) if e.from_status else "",
            to_status=staff_status(e.to_status),
            time_in_stage=format_duration(e.time_in_stage),
            who=e.actor_label,
            note=e.note,
        )
        for e in events
    ]


def _plans(coverage) -> list[dict]:
    from warranty.choices import PlanKind

    labels = dict(PlanKind.choices)
    return [
        {
            "code": p.code,
            "kind": str(labels.get(p.kind, p.kind)),
            "valid_until": p.valid_until,
            "claims_remaining": p.claims_remaining,
        }
        for p in coverage.plans
    ]


def ticket_workspace(*, ticket: RepairTicket, actor: Actor) -> Workspace:
    """Everything the staff page of ``ticket`` shows for ``actor`` (ticket loaded with its relations)."""
    from warranty.choices import Exclusion
    from warranty.selectors import device_coverage

    allowed = selectors.allowed_actions(ticket=ticket, actor=actor)
    actions = [
        {
            "code": a,
            "label": staff_action(a),
            "destructive": a in DESTRUCTIVE_ACTIONS,
        }
        for a in allowed
        if a != Action.SEND_QUOTE
    ]
    quote = selectors.ticket_current_quote(ticket=ticket)
    ex_labels = dict(Exclusion.choices)
    full = sees_customer(actor=actor, ticket=ticket)
    customer = ticket.customer
    coverage = device_coverage(device=ticket.device, fault=ticket.fault_category)
    loan, open_loan_id = ticket_loan_box(ticket_id=ticket.pk)
    return Workspace(
        ticket=ticket,
        status_label=staff_status(ticket.status),
        overdue=ticket.is_sla_breached(),
        customer_name=customer.name if full else mask_name(customer.name),
        customer_phone=customer.phone if full else mask_phone(customer.phone),
        customer_masked=not full,
        actions=actions,
        can_quote=Action.SEND_QUOTE in allowed,
        quote=quote,
        quote_exclusions=[str(ex_labels.get(e, e)) for e in (quote.exclusions if quote else [])],
        timeline=_timeline(ticket),
        history=_history(ticket=ticket, actor=actor),
        coverage=coverage,
        plans=_plans(coverage),
        loan=loan,
        open_loan_id=open_loan_id,
        accessories=pgettext("list separator", ", ").join(ticket.accessories) if ticket.accessories else "",
        channel=str(Channel(ticket.channel).label) if ticket.channel in Channel.values else ticket.channel,
        fault=str(FaultCategory(ticket.fault_category).label)
        if ticket.fault_category in FaultCategory.values
        else ticket.fault_category,
        is_open=ticket.status not in TERMINAL_STATUSES,
    )
