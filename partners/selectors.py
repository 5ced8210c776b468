"""Reads for partners: what a caller may see of webhooks and deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookDelivery, WebhookEndpoint


def webhooks_for_actor(*, actor) -> QuerySet[WebhookEndpoint]:
    """A partner sees its own endpoints; HQ staff and superusers all; other staff none. Deleted ones: nobody."""
    qs = WebhookEndpoint.objects.select_related("partner").filter(deleted_at=None)
    partner = getattr(actor, "partner", None)
    if partner is not None:
        return qs.filter(partner=partner)
    if getattr(actor, "is_system", False) or (getattr(actor, "user", None) is not None and actor.center_ids is None):
        return qs
    return qs.none()


def deliveries_for_actor(*, actor) -> QuerySet[WebhookDelivery]:
    endpoints = webhooks_for_actor(actor=actor)
    return WebhookDelivery.objects.filter(endpoint__in=endpoints.values("pk"))
