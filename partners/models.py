"""Partner organisations and API keys (partner keys and staff keys)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import PartnerKind


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=PartnerKind.choices, default=PartnerKind.OTHER)
    active = models.BooleanField(_("active"), default=True)
    # Sites this partner operates (collection points, experience stores): its tickets are theirs.
    centers = models.ManyToManyField("centers.ServiceCenter", blank=True, related_name="partners")
    created_at = models.DateTimeField(auto_now_add=True)

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
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="api_keys")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="api_keys"
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    centers = models.ManyToManyField("centers.ServiceCenter", blank=True, related_name="api_keys")
    throttle_rate = models.CharField(
        _("throttle rate"), max_length=32, blank=True, help_text=_('e.g. "600/min"; empty = the default.')
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(partner__isnull=False, user__isnull=True) | models.Q(partner__isnull=True, user__isnull=False)),
                name="apikey_partner_xor_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner or self.user})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
