"""``{% returns_box %}``: the 三包 box of the ticket workspace (one include in repairs' workspace template)."""

from __future__ import annotations

from django import template

from servicehub.actors import actor_from_request

register = template.Library()


@register.inclusion_tag("returns/_workspace_box.html", takes_context=True)
def returns_box(context) -> dict:
    from warranty.choices import Exclusion

    from ..selectors import ticket_returns_box
    from ..services import DECIDE_ROLES, INSPECT_ROLES

    ticket = context["ticket"]
    actor = actor_from_request(context["request"])

    def may(roles) -> bool:
        return any(actor.has_role(r, ticket.center_id) for r in roles) or actor.has_role("hq")

    return {
        "ticket": ticket,
        "box": ticket_returns_box(ticket=ticket),
        "may_inspect": may(INSPECT_ROLES),
        "may_decide": may(DECIDE_ROLES),
        "exclusions": Exclusion.choices,
        "csrf_token": context.get("csrf_token"),
    }
