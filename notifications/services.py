"""Writes for the outbox.

The outbox: ``notification_enqueue`` writes rows in the caller's transaction and
dispatches a send task per row once that transaction commits;
``notification_send`` (called by the task) claims a row with a compare-and-set
update, sends it and records the outcome; ``notifications_sweep`` re-dispatches
rows nobody is working on (broker down at commit time, worker killed mid-send).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from servicehub.errors import DomainError
from servicehub.locking import lock

from .channels import channel_for
from .choices import NotificationChannel, NotificationKind, NotificationStatus, SkipReason
from .errors import PermanentSendError, SendError
from .models import Notification
from .rendering import normalise_language, render_notification

logger = logging.getLogger("notifications")

# A claimed row's clock may run slightly ahead of the database writer's.
_CLOCK_TOLERANCE = timedelta(seconds=2)


# --------------------------------------------------------------------------- enqueue


def _recipient_for(channel: str, *, customer, to_phone: str, to_email: str, to_wechat: str) -> str:
    if channel == NotificationChannel.SMS:
        return to_phone or (getattr(customer, "phone", "") or "")
    if channel == NotificationChannel.EMAIL:
        return to_email or (getattr(customer, "email", "") or "")
    if channel == NotificationChannel.WECHAT:
        return to_wechat or (getattr(customer, "wechat_openid", "") or "")
    raise DomainError("validation_error", _("Unknown notification channel."), field="channels")


def notification_enqueue(
    *,
    kind: str,
    customer=None,
    to_phone: str = "",
    to_email: str = "",
    to_wechat: str = "",
    language: str | None = None,
    context: dict,
    channels: Iterable[str] = ("sms",),
    dedupe_key: str | None = None,
    ticket=None,
) -> list[Notification]:
    """Write one outbox row per channel in the caller's transaction; send them after it commits.

    Changes: inserts ``Notification`` rows (texts rendered now, in the language
    given, else the customer's, else zh-hans). A customer who does not agree to
    be contacted gets ``skipped`` rows (reason ``no_consent``); a channel with no
    address gets a ``skipped`` row (``no_recipient``). With ``dedupe_key``, a
    channel that already has a row for that key gets no new one (the existing
    row is returned): retried jobs and repeated events notify once.
    Refuses: an unknown kind or channel (``validation_error``).
    """
    if kind not in NotificationKind.values:
        raise DomainError("validation_error", _("Unknown notification kind."), field="kind")
    channels = list(dict.fromkeys(channels))
    for channel in channels:
        if channel not in NotificationChannel.values:
            raise DomainError("validation_error", _("Unknown notification channel."), field="channels")
    language = normalise_language(language or getattr(customer, "language", None))
    now = timezone.now()

    existing: dict[str, Notification] = {}
    if dedupe_key:
        existing = {n.channel: n for n in Notification.objects.filter(dedupe_key=dedupe_key, channel__in=channels)}

    rows: list[Notification] = []
    to_dispatch: list[int] = []
    for channel in channels:
        if channel in existing:
            rows.append(existing[channel])
            continue
        recipient = _recipient_for(
            channel, customer=customer, to_phone=to_phone, to_email=to_email, to_wechat=to_wechat
        )
        row = Notification(
            kind=kind,
            channel=channel,
            customer=customer,
            ticket=ticket,
            recipient=recipient,
            language=language,
            context=context,
            dedupe_key=dedupe_key or None,
            available_at=now,
        )
        if customer is not None and not customer.contact_consent:
            row.status, row.skip_reason = NotificationStatus.SKIPPED, SkipReason.NO_CONSENT
        elif not recipient:
            row.status, row.skip_reason = NotificationStatus.SKIPPED, SkipReason.NO_RECIPIENT
        else:
            rendered = render_notification(kind=kind, channel=channel, language=language, context=context)
            row.subject, row.body, row.html_body = rendered.subject, rendered.body, rendered.html_body
        if dedupe_key:
            # A concurrent enqueue with the same key may win the unique index: keep its row.
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                rows.append(Notification.objects.get(dedupe_key=dedupe_key, channel=channel))
                continue
        else:
            row.save(force_insert=True)
        rows.append(row)
        if row.status == NotificationStatus.PENDING:
            to_dispatch.append(row.pk)
    if to_dispatch:
        transaction.on_commit(_dispatch_later(to_dispatch), robust=True)
    return rows


def _dispatch_later(ids: list[int]):
    # A named function, not functools.partial: Django logs a failing robust callback by __qualname__.
    def dispatch_notifications_after_commit() -> None:
        notifications_dispatch(notification_ids=ids)

    return dispatch_notifications_after_commit


def notifications_dispatch(*, notification_ids: Iterable[int]) -> int:
    """Queue a send task per id. Never raises: a row the broker did not take stays pending for the sweep."""
    from .tasks import notification_send_task

    sent = 0
    for notification_id in notification_ids:
        try:
            notification_send_task.apply_async(
                args=[notification_id],
                # Read per call (not cached by Celery's router), so a deployment or a test can move it.
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
            )
        except (OperationalError, ConnectionError, OSError) as exc:  # broker down: the sweep re-dispatches later
            logger.warning("notification %s not dispatched (%s); the sweep will retry", notification_id, exc)
            break  # do not wait on a dead broker once per row
        else:
            sent += 1
    return sent


# --------------------------------------------------------------------------- send


@dataclass(frozen=True)
class SendOutcome:
    status: str  # "sent" | "retry" | "failed" | "not_claimed" | "lost_claim"
    retry_in: int | None = None


def _backoff_seconds(attempts: int) -> int:
    base = settings.NOTIFICATIONS_RETRY_BASE_SECONDS
    cap = settings.NOTIFICATIONS_RETRY_MAX_SECONDS
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    # Up to 10% jitter so a provider outage does not come back as a thundering herd.
    return int(delay + random.uniform(0, delay / 10))


def notification_claim(*, notification_id: int, now: datetime | None = None) -> tuple[Notification, uuid.UUID] | None:
    """Claim a row for sending: pending and due, or stuck in ``sending`` past its lease.

    Changes: ``status`` -> ``sending``, a new ``claim_token``, ``attempts`` + 1,
    ``lease_until``. One compare-and-set UPDATE: of two workers given the same
    id, exactly one gets the row; the other gets ``None``.
    """
    now = now or timezone.now()
    token = uuid.uuid4()
    claimable = Q(status=NotificationStatus.PENDING, available_at__lte=now + _CLOCK_TOLERANCE) | Q(
        status=NotificationStatus.SENDING,
        lease_until__lt=now,
        attempts__lt=settings.NOTIFICATIONS_MAX_ATTEMPTS,
    )
    claimed = Notification.objects.filter(claimable, pk=notification_id).update(
        status=NotificationStatus.SENDING,
        claim_token=token,
        lease_until=now + timedelta(seconds=settings.NOTIFICATIONS_SEND_LEASE_SECONDS),
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    return Notification.objects.get(pk=notification_id), token


def _finish(notification: Notification, token: uuid.UUID, **fields) -> bool:
    fields["updated_at"] = timezone.now()
    done = Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING, claim_token=token).update(
        **fields
    )
    if not done:
        logger.warning("notification %s: claim lost before recording the outcome", notification.pk)
    return bool(done)


def notification_send(*, notification_id: int) -> SendOutcome:
    """Send one notification at most once per claim and record the outcome.

    Changes: claims the row (see ``notification_claim``), calls the channel,
    then -- only if this claim still holds -- sets ``sent`` (with ``sent_at`` and
    the provider's id), or ``pending`` with a backoff (transient error, attempts
    left), or ``failed`` with the reason (permanent error, or attempts used up).
    Refuses silently (``not_claimed``): rows already sent, failed, skipped,
    claimed by someone else, or not yet due.

    Not one transaction on purpose: the claim commits before the provider is
    called, so a second task sees the claim and a crash leaves a ``sending`` row
    that the sweep re-dispatches after its lease.
    """
    claim = notification_claim(notification_id=notification_id)
    if claim is None:
        return SendOutcome("not_claimed")
    notification, token = claim
    try:
        provider_id = channel_for(notification.channel).send(notification)
    except PermanentSendError as exc:
        logger.warning("notification %s failed permanently: %s", notification.pk, exc)
        ok = _finish(notification, token, status=NotificationStatus.FAILED, last_error=str(exc)[:2000])
        return SendOutcome("failed" if ok else "lost_claim")
    except Exception as exc:  # transient by default: network, provider 5xx, SMTP down
        error = (str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}")[:2000]
        if notification.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            logger.warning(
                "notification %s failed after %s attempts: %s", notification.pk, notification.attempts, error
            )
            ok = _finish(notification, token, status=NotificationStatus.FAILED, last_error=error)
            return SendOutcome("failed" if ok else "lost_claim")
        delay = _backoff_seconds(notification.attempts)
        logger.info(
            "notification %s attempt %s failed (%s); retry in %ss", notification.pk, notification.attempts, error, delay
        )
        ok = _finish(
            notification,
            token,
            status=NotificationStatus.PENDING,
            last_error=error,
            claim_token=None,
            lease_until=None,
            available_at=timezone.now() + timedelta(seconds=delay),
        )
        return SendOutcome("retry" if ok else "lost_claim", retry_in=delay)
    secret = {}
    if notification.kind == NotificationKind.VERIFICATION_CODE:
        # A one-time code has done its job once sent: do not keep it readable in the outbox.
        secret = {"body": "", "context": {}}
    ok = _finish(
        notification,
        token,
        status=NotificationStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=str(provider_id or "")[:128],
        last_error="",
        **secret,
    )
    return SendOutcome("sent" if ok else "lost_claim")


def notifications_sweep(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Re-dispatch what nobody is working on; returns how many ids were queued.

    Changes: rows stuck in ``sending`` past their lease with no attempts left
    become ``failed`` ("lease expired"); then pending rows due for longer than
    ``NOTIFICATIONS_SWEEP_AFTER_SECONDS`` and ``sending`` rows past their lease
    are dispatched again (the send task's claim makes a double dispatch harmless).
    """
    now = now or timezone.now()
    limit = limit or settings.NOTIFICATIONS_SWEEP_BATCH
    Notification.objects.filter(
        status=NotificationStatus.SENDING, lease_until__lt=now, attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS
    ).update(
        status=NotificationStatus.FAILED,
        last_error="Send lease expired on the last attempt (worker lost).",
        updated_at=now,
    )
    cutoff = now - timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    pending = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, available_at__lte=cutoff)
        .order_by("available_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    stuck = list(
        Notification.objects.filter(status=NotificationStatus.SENDING, lease_until__lt=now)
        .order_by("lease_until", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = pending + stuck
    if ids:
        logger.info("sweep: re-dispatching %s pending and %s stuck notifications", len(pending), len(stuck))
        return notifications_dispatch(notification_ids=ids)
    return 0


def notifications_resend(*, notification_ids: Iterable[int], actor=None) -> int:
    """Queue failed notifications again (admin action); returns how many.

    Changes: ``failed`` -> ``pending`` with attempts reset; dispatched on commit.
    Refuses (leaves untouched): rows that are not ``failed`` -- a sent message is
    never sent twice, a skipped one had a reason.
    """
    with transaction.atomic():
        ids = [
            row.pk
            for row in lock(
                Notification.objects.filter(pk__in=list(notification_ids), status=NotificationStatus.FAILED)
            )
        ]
        now = timezone.now()
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING,
            attempts=0,
            available_at=now,
            claim_token=None,
            lease_until=None,
            updated_at=now,
        )
        if ids:
            logger.info("%s queued %s failed notifications again", getattr(actor, "label", "someone"), len(ids))
            transaction.on_commit(_dispatch_later(ids), robust=True)
    return len(ids)


# --------------------------------------------------------------------------- ticket messages


def notification_enqueue_for_ticket(*, kind: str, ticket, context: dict, dedupe_key: str) -> list[Notification]:
    """A customer message about ``ticket``: SMS to the customer's phone, e-mail to the ticket's contact.

    The e-mail goes to the booking's own contact e-mail when it has one (unverified: given
    with an anonymous booking), else to the customer record's. An unverified address gets
    the plain tracking link instead of ``context["link"]`` -- no signed quote-approval link,
    no phone digits (approving from the tracking page then asks for an SMS code). Language:
    the booking's, else the customer's. See ``notification_enqueue`` for consent and dedupe.
    """
    from repairs.selectors import ticket_contact

    customer = ticket.customer
    contact = ticket_contact(ticket=ticket)
    common = {
        "kind": kind,
        "customer": customer,
        "language": contact["language"],
        "dedupe_key": dedupe_key,
        "ticket": ticket,
    }
    if not contact["email"] or contact["email_verified"]:
        channels = [NotificationChannel.SMS] + ([NotificationChannel.EMAIL] if contact["email"] else [])
        return notification_enqueue(context=context, channels=channels, to_email=contact["email"], **common)
    from repairs.tracking import tracking_url

    rows = notification_enqueue(context=context, channels=[NotificationChannel.SMS], **common)
    return rows + notification_enqueue(
        context={**context, "link": tracking_url(ticket.service_no)},
        channels=[NotificationChannel.EMAIL],
        to_email=contact["email"],
        **common,
    )
