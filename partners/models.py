"""Partner organisations, API keys and webhooks (idempotency records moved to ``servicehub.models``)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import PartnerKind


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    active = models.BooleanField(_("active"), default=True)
    # Sites this partner operates (collection points, experience stores): its tickets are theirs.
    centers = models.ManyToManyField(
        "centers.ServiceCenter", blank=True, related_name="partners", verbose_name=_("centers")
    )
    throttle_rate = models.CharField(
        _("throttle rate"),
        max_length=32,
        blank=True,
        help_text=_(
            "Default for this partner's keys, e.g. \"600/min\"; a key's own rate wins; empty = the global default."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A bearer key. Only its SHA-256 is stored; the key itself is shown once.

    Acts either for a partner or for a staff user (exactly one of them).
    ``centers`` (optional) narrows what the key may see to those sites.
    """

    name = models.CharField(_("name"), max_length=120, blank=True)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="api_keys", verbose_name=_("partner")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("user"),
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, verbose_name=_("key hash"))
    scopes = models.JSONField(_("scopes"), default=list)
    centers = models.ManyToManyField(
        "centers.ServiceCenter", blank=True, related_name="api_keys", verbose_name=_("centers")
    )
    throttle_rate = models.CharField(
        _("throttle rate"), max_length=32, blank=True, help_text=_('e.g. "600/min"; empty = the default.')
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(partner__isnull=False, user__isnull=True)
                    | models.Q(partner__isnull=True, user__isnull=False)
                ),
                name="apikey_partner_xor_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner or self.user})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def effective_throttle_rate(self) -> str:
        """The key's own rate, else its partner's default for its keys; "" = the global default."""
        if self.throttle_rate:
            return self.throttle_rate
        if self.partner_id:
            return self.partner.throttle_rate or ""
        return ""

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class WebhookEndpoint(models.Model):
    """A partner's subscription: where to POST which events, signed with ``secret``.

    During a rotation ``previous_secret`` keeps signing too (two ``v1,`` signatures)
    until ``previous_secret_expires_at``.
    """

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="webhooks", verbose_name=_("partner"))
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The signing secret must be usable to sign, so it cannot be hashed; it is never shown after creation.
    secret = models.CharField(max_length=100, verbose_name=_("secret"))
    previous_secret = models.CharField(max_length=100, blank=True, verbose_name=_("previous secret"))
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("previous secret expires at")
    )
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=200, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # Set by the partner's DELETE: the endpoint is gone from the API (404) but the row and its
    # deliveries stay for the admin (nothing that matters is deleted).
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["active", "partner"], name="webhook_active_partner_idx")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed (gave up)")
    CANCELLED = "cancelled", _("Cancelled (endpoint disabled)")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row. ``msg_id`` is the ``webhook-id`` header (stable across retries)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("endpoint")
    )
    msg_id = models.CharField(max_length=40, unique=True, verbose_name=_("msg id"))
    event_type = models.CharField(_("event"), max_length=40)
    # Ticket events carry datetimes ("at"): stored as ISO strings, exactly as delivery_body sends them.
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A worker owns a SENDING row until then; a crashed worker's row is picked up again after it.
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("last status code"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.msg_id} {self.event_type} ({self.status})"


class WebhookAttempt(models.Model):
    """Every HTTP attempt of a delivery: status, latency, a truncated response (or the error)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("delivery")
    )
    at = models.DateTimeField(verbose_name=_("at"))
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("status code"))
    latency_ms = models.PositiveIntegerField(default=0, verbose_name=_("latency ms"))
    response_body = models.TextField(blank=True, verbose_name=_("response body"))
    error = models.CharField(max_length=300, blank=True, verbose_name=_("error"))
    success = models.BooleanField(default=False, verbose_name=_("success"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
