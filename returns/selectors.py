"""Reads of returns: a ticket's 三包 box (inspection, decision, what the rules allow today)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from servicehub.errors import DomainError

from .choices import DecisionKind
from .models import Inspection, ReturnDecision


def ticket_returns_box(*, ticket, at: dt.datetime | None = None) -> dict:
    """What the workspace shows: the latest inspection, the decision, and which decisions the windows allow.

    Two queries (the inspection, the decision with its replacement); the windows come from the device
    already loaded with the ticket and its statutory policy (one query).
    """
    from .services import DECIDABLE_STATUSES, statutory_rule

    inspection = Inspection.objects.filter(ticket_id=ticket.pk).order_by("-at", "-pk").first()
    decision = ReturnDecision.objects.filter(ticket_id=ticket.pk).select_related("replacement").first()
    options = []
    if decision is None and ticket.status in DECIDABLE_STATUSES:
        from warranty.selectors import statutory_policy_for

        policy = statutory_policy_for(category=ticket.device.model.category)
        for kind, label in DecisionKind.choices:
            try:
                rule = statutory_rule(device=ticket.device, kind=kind, claimed_at=ticket.created_at, policy=policy)
            except DomainError as exc:
                options.append({"kind": kind, "label": label, "allowed": False, "why": exc.message})
            else:
                options.append({"kind": kind, "label": label, "allowed": True, "why": rule.text})
    return {
        "inspection": inspection,
        "decision": decision,
        "options": options,
        "open": decision is None and ticket.status in DECIDABLE_STATUSES,
        "now": at or timezone.now(),
    }
