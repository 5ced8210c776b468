"""The device catalog and registry, statutory policies (三包), protection plans, purchases and claims."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum import imei as stdnum_imei

from centers.choices import DeviceCategory

from . import dates
from .choices import (
    ClaimStatus,
    Component,
    PlanKind,
    PurchaseAction,
    PurchaseChannel,
    PurchaseStatus,
    SaleChannel,
    Tier,
)


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
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="devices", verbose_name=_("model"))
    sold_at = models.DateTimeField(_("sold at"), null=True, blank=True)
    retailer = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices_sold",
        verbose_name=_("retailer"),
    )
    channel = models.CharField(
        _("sales channel"), max_length=16, choices=SaleChannel.choices, default=SaleChannel.RETAIL
    )
    region = models.ForeignKey(
        "centers.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region of sale"),
    )
    # Set when the device was first registered at a counter from a proof of purchase.
    proof_of_purchase_note = models.CharField(_("proof of purchase / reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

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


class StatutoryPolicy(models.Model):
    """The legal warranty (三包) of one device category, editable by HQ in the admin.

    Periods are counted from the local sale date (day 0) and are inclusive; see ``warranty.dates``.
    """

    category = models.CharField(_("category"), max_length=16, choices=DeviceCategory.choices, unique=True)
    return_days = models.PositiveSmallIntegerField(_("return within (days)"), default=7)
    exchange_days = models.PositiveSmallIntegerField(_("exchange within (days)"), default=15)
    repair_months = models.PositiveSmallIntegerField(_("free repair of the main unit (months)"), default=12)
    battery_months = models.PositiveSmallIntegerField(_("battery repair period (months)"), default=6)
    charger_months = models.PositiveSmallIntegerField(_("charger repair period (months)"), default=12)
    cable_months = models.PositiveSmallIntegerField(_("data cable repair period (months)"), default=3)
    earphones_months = models.PositiveSmallIntegerField(_("earphones repair period (months)"), default=3)
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["category"]
        verbose_name = _("statutory warranty policy")
        verbose_name_plural = _("statutory warranty policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exchange_days__gte=models.F("return_days")),
                name="statutory_exchange_not_shorter_than_return",
            )
        ]

    def __str__(self) -> str:
        return str(self.get_category_display())

    def months_for(self, component: str) -> int:
        return {
            Component.MAIN_UNIT: self.repair_months,
            Component.BATTERY: self.battery_months,
            Component.CHARGER: self.charger_months,
            Component.CABLE: self.cable_months,
            Component.EARPHONES: self.earphones_months,
        }[component]

    def return_until(self, sale_date):
        return dates.add_days(sale_date, self.return_days)

    def exchange_until(self, sale_date):
        return dates.add_days(sale_date, self.exchange_days)

    def repair_until(self, sale_date, component: str = Component.MAIN_UNIT):
        return dates.add_months(sale_date, self.months_for(component))


class PlanProduct(models.Model):
    """A protection plan on sale (延长服务宝, 碎屏服务宝, 无忧服务, 电池服务)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120, help_text=_("In Chinese (shown on Chinese pages)."))
    name_en = models.CharField(
        _("name (English)"),
        max_length=120,
        blank=True,
        help_text=_("Shown on English pages; empty = the plan's kind in English."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # extended_warranty: months added after the statutory repair period; other kinds: months from the purchase.
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    claims_allowed = models.PositiveSmallIntegerField(
        _("claims allowed"), null=True, blank=True, help_text=_("Empty = unlimited (extended warranty).")
    )
    fee_per_claim = models.DecimalField(_("fee per claim"), max_digits=10, decimal_places=2, default=0)
    screen_fee_per_claim = models.DecimalField(
        _("fee per screen claim"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty = the fee per claim. Care+: e.g. 99.00 for a screen, 299.00 for other damage."),
    )
    eligible_categories = models.JSONField(
        _("eligible categories"), default=list, blank=True, help_text=_("Device categories; empty = all.")
    )
    eligible_models = models.ManyToManyField(
        DeviceModel,
        blank=True,
        related_name="plan_products",
        verbose_name=_("eligible models"),
        help_text=_("Empty = every model of the eligible categories."),
    )
    purchase_window_days = models.PositiveSmallIntegerField(
        _("purchase window (days after the sale)"),
        default=0,
        help_text=_("0 = only with the new device (on the sale day); N = until the sale date + N days, inclusive."),
    )
    cooling_off_days = models.PositiveSmallIntegerField(_("cooling-off period for refunds (days)"), default=7)
    on_sale = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("plan product")
        verbose_name_plural = _("plan products")
        constraints = [
            models.CheckConstraint(condition=models.Q(fee_per_claim__gte=0), name="plan_fee_not_negative"),
            models.CheckConstraint(condition=models.Q(term_months__gt=0), name="plan_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def display_name(self) -> str:
        """The plan's name in the active language (never its internal code)."""
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en"):
            return self.name_en or str(self.get_kind_display())
        return self.name

    @property
    def display_description(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en"):
            return self.description_en
        return self.description

    def fee_for(self, fault: str | None):
        if fault == "screen" and self.screen_fee_per_claim is not None:
            return self.screen_fee_per_claim
        return self.fee_per_claim


class PlanPrice(models.Model):
    """The price of a plan for one model tier."""

    product = models.ForeignKey(PlanProduct, on_delete=models.PROTECT, related_name="prices", verbose_name=_("product"))
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["product", "tier"]
        verbose_name = _("plan price")
        verbose_name_plural = _("plan prices")
        constraints = [
            models.UniqueConstraint(fields=["product", "tier"], name="plan_price_one_per_tier"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="plan_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} / {self.tier}: {self.price}"


class PlanPurchase(models.Model):
    """One plan sold for one device. ``status`` and ``claims_used`` change only through ``warranty.services``."""

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="plan_purchases", verbose_name=_("device")
    )
    product = models.ForeignKey(PlanProduct, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("plan"))
    purchased_at = models.DateTimeField(_("purchased at"))
    # Local dates (Asia/Shanghai), both inclusive.
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    price_paid = models.DecimalField(_("price paid"), max_digits=10, decimal_places=2)
    channel = models.CharField(_("channel"), max_length=16, choices=PurchaseChannel.choices)
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_sales",
        verbose_name=_("partner"),
    )
    center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_sales",
        verbose_name=_("sold at center"),
    )
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sold by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=PurchaseStatus.choices, default=PurchaseStatus.ACTIVE)
    # Copied from the product at purchase time: later edits of the product do not change sold plans.
    claims_allowed = models.PositiveSmallIntegerField(_("claims allowed"), null=True, blank=True)
    claims_used = models.PositiveSmallIntegerField(_("claims used"), default=0)
    refunded_amount = models.DecimalField(_("refunded amount"), max_digits=10, decimal_places=2, null=True, blank=True)
    closed_at = models.DateTimeField(_("refunded / cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-purchased_at", "-pk"]
        verbose_name = _("plan purchase")
        verbose_name_plural = _("plan purchases")
        constraints = [
            # The last claim can never be used twice, whatever the code path (the service also locks the row).
            models.CheckConstraint(
                condition=models.Q(claims_allowed__isnull=True) | models.Q(claims_used__lte=models.F("claims_allowed")),
                name="plan_purchase_claims_within_allowed",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="plan_purchase_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(price_paid__gte=0), name="plan_purchase_price_not_negative"),
            # The same plan is active at most once per device.
            models.UniqueConstraint(
                fields=["device", "product"],
                condition=models.Q(status="active"),
                name="plan_purchase_one_active_per_device_product",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-purchased_at", "-id"], name="plan_purchase_partner_idx"),
            models.Index(fields=["status", "ends_on"], name="plan_purchase_status_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} · {self.device}"

    @property
    def claims_remaining(self) -> int | None:
        if self.claims_allowed is None:
            return None
        return max(self.claims_allowed - self.claims_used, 0)


class PlanClaim(models.Model):
    """One use of a plan by a repair. Kept forever; a cancelled repair releases it (status ``released``)."""

    purchase = models.ForeignKey(
        PlanPurchase, on_delete=models.PROTECT, related_name="claims", verbose_name=_("plan purchase")
    )
    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="plan_claims", verbose_name=_("repair ticket")
    )
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.ACTIVE)
    fee = models.DecimalField(_("fee charged"), max_digits=10, decimal_places=2, default=0)
    used_at = models.DateTimeField(_("used at"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))

    class Meta:
        ordering = ["used_at", "pk"]
        verbose_name = _("plan claim")
        verbose_name_plural = _("plan claims")
        constraints = [
            # One repair uses one purchase at most once (a released claim may be used again by the same ticket).
            models.UniqueConstraint(
                fields=["purchase", "ticket"],
                condition=models.Q(status="active"),
                name="plan_claim_one_active_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purchase} ← {self.ticket_id}"


class PlanPurchaseEvent(models.Model):
    """The purchase's ledger: every sale, claim, release, refund, cancellation and expiry."""

    purchase = models.ForeignKey(
        PlanPurchase, on_delete=models.PROTECT, related_name="events", verbose_name=_("purchase")
    )
    action = models.CharField(_("action"), max_length=16, choices=PurchaseAction.choices)
    from_status = models.CharField(max_length=16, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=16, verbose_name=_("to status"))
    claims_used = models.PositiveSmallIntegerField(default=0, verbose_name=_("claims used"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(verbose_name=_("at"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("plan purchase event")
        verbose_name_plural = _("plan purchase events")

    def __str__(self) -> str:
        return f"{self.purchase_id}: {self.action}"
