"""Outbox notifications.

A ``Notification`` row is written in the same transaction as the change that
causes it; a Celery task (dispatched on commit, re-dispatched by a periodic
sweep) claims it with a compare-and-set update and sends it. (Job runs moved to
``servicehub.models.JobRun``, SLA breaches to ``repairs.models.SlaBreach``.)
"""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import NotificationChannel, NotificationKind, NotificationStatus, SkipReason


class Notification(models.Model):
    """One message to one recipient on one channel. ``status`` only changes through ``notifications.services``."""

    # Sent to the provider as the client message reference: a provider that
    # de-duplicates on it turns a resend after a crash into a no-op.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    customer = models.ForeignKey(
        "repairs.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("ticket"),
    )
    # E.164 phone, e-mail address or WeChat openid, depending on the channel.
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Rendered when the row is written, so a resend sends exactly what was decided then.
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    html_body = models.TextField(_("HTML"), blank=True)

    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    skip_reason = models.CharField(_("skip reason"), max_length=32, choices=SkipReason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Set by the claim (pending -> sending); only the holder may finish the send.
    claim_token = models.UUIDField(null=True, blank=True, editable=False, verbose_name=_("claim token"))
    lease_until = models.DateTimeField(_("claim lease until"), null=True, blank=True)
    # Not sent before this time (retry backoff).
    available_at = models.DateTimeField(_("next attempt at"), db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=128, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key", "channel"],
                condition=Q(dedupe_key__isnull=False),
                name="notification_unique_dedupe_key",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notification_sent_has_sent_at"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claim_token__isnull=False, lease_until__isnull=False),
                name="notification_sending_is_claimed",
            ),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""), name="notification_skipped_has_reason"
            ),
        ]
        indexes = [
            # The sweep: pending rows by due time, sending rows by lease.
            models.Index(fields=["available_at"], name="notification_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["lease_until"], name="notification_sending_idx", condition=Q(status="sending")),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel} #{self.pk}"
