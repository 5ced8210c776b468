"""``{% fapiao_box ticket %}``: the fapiao box of the staff ticket workspace (one query)."""

from django import template

from accounting.selectors import ticket_fapiao_box

register = template.Library()


@register.inclusion_tag("accounting/_workspace_fapiao.html", takes_context=True)
def fapiao_box(context, ticket):
    return {**ticket_fapiao_box(ticket_id=ticket.pk), "ticket": ticket, "csrf_token": context.get("csrf_token")}
