"""The device catalog and registry. Policies, plans and claims are added by the warranty work."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum import imei as stdnum_imei

from centers.choices import DeviceCategory

from .choices import SaleChannel, Tier


def validate_imei(value: str) -> None:
    """15 digits with a valid Luhn check digit (python-stdnum)."""
    if not value or len(value) != 15 or not value.isdigit():
        raise ValidationError(_("An IMEI has exactly 15 digits."), code="imei_length")
    if not stdnum_imei.is_valid(value):
        raise ValidationError(_("This IMEI's check digit is wrong."), code="imei_checksum")


class DeviceModel(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("marketing name"), max_length=120)
    category = models.CharField(_("category"), max_length=16, choices=DeviceCategory.choices, db_index=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    release_date = models.DateField(_("release date"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device model")
        verbose_name_plural = _("device models")

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """One physical device across the whole network: repairs, plans, claims and loans hang off it."""

    imei = models.CharField(_("IMEI"), max_length=15, unique=True, null=True, blank=True, validators=[validate_imei])
    serial = models.CharField(_("serial number"), max_length=64, unique=True, null=True, blank=True)
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="devices")
    sold_at = models.DateTimeField(_("sold at"), null=True, blank=True)
    retailer = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="devices_sold"
    )
    channel = models.CharField(_("sales channel"), max_length=16, choices=SaleChannel.choices, default=SaleChannel.RETAIL)
    region = models.ForeignKey(
        "centers.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region of sale")
    )
    # Set when the device was first registered at a counter from a proof of purchase.
    proof_of_purchase_note = models.CharField(_("proof of purchase / reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(imei__isnull=False) | models.Q(serial__isnull=False),
                name="device_has_imei_or_serial",
            )
        ]

    def __str__(self) -> str:
        return self.imei or self.serial or f"device {self.pk}"
