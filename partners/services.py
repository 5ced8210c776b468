"""Writes for partners, API keys, webhook endpoints and deliveries, idempotency records."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.api.permissions import ALL_SCOPES
from servicehub.errors import DomainError
from servicehub.locking import lock_one
from servicehub.models import IdempotencyRecord

from .authentication import KEY_PREFIX, hash_key
from .choices import WebhookEvent
from .models import (
    ApiKey,
    DeliveryStatus,
    Partner,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

ROTATION_GRACE = timedelta(hours=24)
CLAIM_FOR = timedelta(minutes=2)


def _validate_scopes(scopes) -> list[str]:
    if not scopes:
        return list(ALL_SCOPES)
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise DomainError(
            "validation_error",
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(ALL_SCOPES)}.",
            field="scopes",
        )
    return sorted(set(scopes))


def api_key_centers_check(*, partner: Partner, centers) -> None:
    """Refuse limiting a partner key to centers the partner does not operate (``center_not_partner``, 400).

    A key limited to centers reads those centers' tickets and customers, so they must be
    sites the partner runs (``Partner.centers``). A partner that runs no site gets no
    center-scoped key at all: scoping is not a way to hand out a center's data. Used by
    ``api_key_create``, ``create_api_key`` and the key admin (add and change).
    """
    centers = list(centers or ())
    if not centers:
        return
    own = set(partner.centers.values_list("pk", flat=True)) if partner.pk else set()
    foreign = sorted(c.code for c in centers if c.pk not in own)
    if foreign:
        raise DomainError(
            "center_not_partner",
            _(
                "%(partner)s does not run %(codes)s: a partner key can only be limited to centers its partner "
                "operates (add them to the partner's centers first)."
            )
            % {"partner": partner.name, "codes": ", ".join(foreign)},
            field="centers",
            centers=foreign,
        )


@transaction.atomic
def api_key_create(
    *,
    partner: Partner | None = None,
    user=None,
    scopes=None,
    centers=(),
    name: str = "",
    expires_at=None,
    throttle_rate: str = "",
) -> tuple[ApiKey, str]:
    """Create a key for a partner or a staff user; return ``(key, raw_key)``.

    The raw key is returned once and never stored. Refuses unknown scopes
    (``validation_error``), a key for both or neither of partner and user, and
    for a partner key, centers the partner does not operate (``center_not_partner``,
    400, field ``centers``) -- also when it operates none.
    """
    if (partner is None) == (user is None):
        raise DomainError("validation_error", "A key acts for exactly one partner or one user.")
    scope_list = _validate_scopes(scopes)
    centers = list(centers or ())
    if partner is not None:
        api_key_centers_check(partner=partner, centers=centers)
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        partner=partner,
        user=user,
        prefix=prefix,
        key_hash=hash_key(raw),
        scopes=scope_list,
        name=name,
        expires_at=expires_at,
        throttle_rate=throttle_rate,
    )
    if centers:
        key.centers.set(centers)
    return key, raw


@transaction.atomic
def api_key_revoke(*, key_id: int, now=None) -> ApiKey:
    """Revoke a key (idempotent: an already revoked key keeps its first revocation time)."""
    key = lock_one(ApiKey, key_id)
    if key.revoked_at is None:
        key.revoked_at = now or timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


# --- Webhook endpoints -----------------------------------------------------------


def _validate_events(events) -> list[str]:
    if not events or not isinstance(events, list | tuple):
        raise DomainError("validation_error", _("Subscribe to at least one event."), field="events")
    unknown = sorted({str(e) for e in events} - set(WebhookEvent.values))
    if unknown:
        raise DomainError(
            "validation_error", _("Unknown event(s): %(events)s.") % {"events": ", ".join(unknown)}, field="events"
        )
    return sorted(set(events))


@transaction.atomic
def webhook_endpoint_create(
    *, partner: Partner, url: str, events, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for ``partner``; return ``(endpoint, secret)`` -- the secret is shown once.

    Refuses (``validation_error`` / ``invalid_webhook_url``, status 400): unknown events,
    non-https URLs (http only with DEBUG/TESTING), URLs that resolve to private,
    loopback or link-local addresses.
    """
    from .webhooks import new_secret, webhook_url_check

    events = _validate_events(events)
    webhook_url_check(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        partner=partner, url=url, events=events, description=description, secret=secret
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, endpoint_id: int, now=None, grace: timedelta = ROTATION_GRACE
) -> tuple[WebhookEndpoint, str]:
    """Give the endpoint a new secret; the old one keeps signing for ``grace`` (24 h).

    Refuses a disabled endpoint (409 ``endpoint_disabled``).
    """
    from .webhooks import new_secret

    now = now or timezone.now()
    endpoint = lock_one(WebhookEndpoint, endpoint_id)
    if not endpoint.active:
        raise DomainError("endpoint_disabled", _("This webhook endpoint is disabled."), status=409)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + grace
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_disable(*, endpoint_id: int, reason: str, now=None) -> WebhookEndpoint:
    """Disable an endpoint and cancel its pending deliveries (idempotent). Nothing is deleted."""
    endpoint = lock_one(WebhookEndpoint, endpoint_id)
    if endpoint.active:
        endpoint.active = False
        endpoint.disabled_reason = reason[:200]
        endpoint.disabled_at = now or timezone.now()
        endpoint.save(update_fields=["active", "disabled_reason", "disabled_at"])
        WebhookDelivery.objects.filter(
            endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
        ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None, claimed_until=None)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint_id: int, now=None) -> WebhookEndpoint:
    """The partner's DELETE: disable the endpoint (cancelling pending deliveries) and mark it deleted.

    A deleted endpoint answers 404 in the API from then on (GET, DELETE again, rotate-secret,
    deliveries, redeliver) and leaves the list; the row and its delivery history stay for the admin.
    Refuses an unknown or already deleted endpoint (``not_found``).
    """
    now = now or timezone.now()
    endpoint = lock_one(WebhookEndpoint.objects.filter(deleted_at=None), endpoint_id)
    endpoint = webhook_endpoint_disable(endpoint_id=endpoint.pk, reason=_("Deleted through the API."), now=now)
    endpoint.deleted_at = now
    endpoint.save(update_fields=["deleted_at"])
    return endpoint


# --- Deliveries ----------------------------------------------------------------------


def _claim(delivery_id: int, now) -> bool:
    """Compare-and-set: only one worker sends a given attempt."""
    from django.db.models import Q

    claimable = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )
    return bool(
        WebhookDelivery.objects.filter(claimable, pk=delivery_id, endpoint__active=True).update(
            status=DeliveryStatus.SENDING, claimed_until=now + CLAIM_FOR
        )
    )


def webhook_delivery_attempt(*, delivery_id: int, now=None) -> WebhookDelivery | None:
    """Send one attempt of a due delivery and record it; return the delivery (None if not due/claimed).

    Not one transaction on purpose: the row is claimed (compare-and-set), the HTTP
    call happens outside any transaction, then the attempt and the outcome are
    written atomically. 2xx = succeeded; 410 disables the endpoint; anything else
    schedules the next try (exponential backoff, ~3 days in all) or gives up.
    """
    from .webhooks import delivery_body, http_post, next_attempt_delay, signed_headers

    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = delivery_body(delivery)
    headers = signed_headers(endpoint=delivery.endpoint, msg_id=delivery.msg_id, body=body)
    result = http_post(delivery.endpoint.url, body=body, headers=headers)
    success = result.status_code is not None and 200 <= result.status_code < 300
    with transaction.atomic():
        delivery = lock_one(WebhookDelivery, delivery_id)
        finished = timezone.now()
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=finished,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_body=result.body,
            error=result.error,
            success=success,
        )
        delivery.attempt_count += 1
        delivery.last_status_code = result.status_code
        delivery.claimed_until = None
        if success:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = finished
            delivery.next_attempt_at = None
        elif result.status_code == 410:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delay = next_attempt_delay(delivery.attempt_count)
            if delay is None:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.status = DeliveryStatus.PENDING
                delivery.next_attempt_at = finished + delay
        delivery.save(
            update_fields=[
                "attempt_count",
                "last_status_code",
                "claimed_until",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        if result.status_code == 410:
            webhook_endpoint_disable(endpoint_id=delivery.endpoint_id, reason="The endpoint answered 410 Gone.")
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, delivery_id: int, now=None) -> WebhookDelivery:
    """Queue one more attempt of a delivery now (same ``webhook-id``, so receivers can dedupe).

    Refuses a delivery of a disabled endpoint (409 ``endpoint_disabled``) and one
    being sent right now (409 ``delivery_in_progress``).
    """
    now = now or timezone.now()
    delivery = lock_one(WebhookDelivery.objects.select_related("endpoint"), delivery_id)
    if not delivery.endpoint.active:
        raise DomainError("endpoint_disabled", _("This webhook endpoint is disabled."), status=409)
    if delivery.status == DeliveryStatus.SENDING:
        raise DomainError("delivery_in_progress", _("This delivery is being sent right now."), status=409)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "next_attempt_at"])
    pk = delivery.pk

    def queue():
        from .webhooks import _queue

        _queue([pk])

    transaction.on_commit(queue)
    return delivery


def webhook_deliveries_due(*, now=None, limit: int = 500) -> list[int]:
    """Ids of deliveries whose attempt is due (or whose worker died), oldest first."""
    from django.db.models import Q

    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now),
            endpoint__active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- Idempotency records -------------------------------------------------------------


def idempotency_records_purge(*, now=None) -> int:
    """Delete expired idempotency records (finished or abandoned); return how many."""
    now = now or timezone.now()
    deleted, _unused = IdempotencyRecord.objects.filter(expires_at__lt=now).delete()
    return deleted
