"""The service network: regions, centers and collection points, hours, staff."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    CenterKind,
    ExceptionReason,
    RegionLevel,
    ServiceDayPerk,
    StaffRole,
    Weekday,
)


class Region(models.Model):
    """One of China's administrative divisions (from the dataset cpca ships)."""

    adcode = models.CharField(_("adcode"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # Statistical placeholder rows of the dataset ("市辖区" counties, "省直辖县级行政区划"
    # cities) have no territory of their own: kept for parent links, left out of coverage.
    is_placeholder = models.BooleanField(_("placeholder"), default=False)

    class Meta:
        ordering = ["adcode"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.name} ({self.adcode})"


class ServiceCenter(models.Model):
    """A site of the network: service center, flagship, collection point, hub, store.

    Never deleted (``PROTECT`` everywhere); set ``active=False`` instead.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=CenterKind.choices, db_index=True)
    official = models.BooleanField(_("official"), default=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="centers", verbose_name=_("county"))
    # Denormalised from ``region`` so coverage and province filters need no joins.
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="city_centers", verbose_name=_("city"))
    province = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="province_centers", verbose_name=_("province")
    )
    address = models.CharField(_("address"), max_length=300)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Only the digits of ``phone`` (no country/trunk prefix): what the verify endpoint matches.
    phone_digits = models.CharField(_("phone digits"), max_length=32, blank=True, editable=False)
    # Device categories served plus channels offered; see choices.SERVICE_VALUES.
    services = models.JSONField(_("services"), default=list, blank=True)
    hub = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spokes",
        verbose_name=_("hub"),
        help_text=_("The center a collection point forwards devices to."),
    )
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    service_days_opt_out = models.BooleanField(
        _("no Service Days"), default=False, help_text=_("Tick to leave this center out of monthly Service Days.")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("service center")
        verbose_name_plural = _("service centers")
        indexes = [
            # Bounding-box prefilter of the nearest-centers search.
            models.Index(fields=["lat", "lng"], name="center_latlng_idx"),
            models.Index(fields=["active", "kind"], name="center_active_kind_idx"),
            models.Index(fields=["phone"], name="center_phone_idx"),
            models.Index(fields=["phone_digits"], name="center_phone_digits_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class OpeningHours(models.Model):
    """Weekly hours; several rows per weekday make a lunch break."""

    center = models.ForeignKey(
        ServiceCenter, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("center")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["center", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=models.Q(opens__lt=models.F("closes")), name="hours_opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class OpeningException(models.Model):
    """A dated override of the weekly hours: closed, or special hours (e.g. Spring Festival)."""

    center = models.ForeignKey(
        ServiceCenter, on_delete=models.CASCADE, related_name="opening_exceptions", verbose_name=_("center")
    )
    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=False)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    # The reason as a code, shown in the page's language; the free text is shown for "other" (or no code),
    # in the language it was typed in.
    reason_code = models.CharField(
        _("reason"),
        max_length=20,
        choices=ExceptionReason.choices,
        blank=True,
        default="",
        help_text=_("Shown in the customer's language. Choose “Other” to show the note below as typed."),
    )
    reason = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["center", "date"]
        verbose_name = _("opening exception")
        verbose_name_plural = _("opening exceptions")
        constraints = [
            models.UniqueConstraint(fields=["center", "date"], name="one_exception_per_center_day"),
            models.CheckConstraint(
                condition=models.Q(closed=True)
                | (models.Q(opens__isnull=False, closes__isnull=False) & models.Q(opens__lt=models.F("closes"))),
                name="exception_closed_or_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {'closed' if self.closed else f'{self.opens}-{self.closes}'}"

    @property
    def reason_display(self) -> str:
        """The reason in the active language (the typed note for "other" or rows without a code)."""
        if self.reason_code and self.reason_code != ExceptionReason.OTHER:
            return str(self.get_reason_code_display())
        return self.reason


class StaffMembership(models.Model):
    """A Django user working at a center in a role; ``hq`` needs no center and sees all."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    center = models.ForeignKey(
        ServiceCenter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("center"),
    )
    role = models.CharField(_("role"), max_length=16, choices=StaffRole.choices)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["user_id", "center_id"]
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "center", "role"], name="unique_membership"),
            models.CheckConstraint(
                condition=models.Q(role="hq") | models.Q(center__isnull=False),
                name="membership_center_unless_hq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.center or 'HQ'} ({self.role})"


class Certification(models.Model):
    """An engineer's certification; valid between ``issued_on`` and ``expires_on``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certifications", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=120)
    number = models.CharField(_("number"), max_length=64, unique=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))

    class Meta:
        ordering = ["user_id", "-expires_on"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(issued_on__lte=models.F("expires_on")), name="cert_issued_before_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.number}"


class ServiceDay(models.Model):
    """A Service Day at a center: first Friday of the month and the weekend after it."""

    center = models.ForeignKey(
        ServiceCenter, on_delete=models.PROTECT, related_name="service_days", verbose_name=_("center")
    )
    date = models.DateField(_("date"))
    perks = models.JSONField(_("perks"), default=list)
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to opt this center out of this day."))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["date", "center_id"]
        verbose_name = _("Service Day")
        verbose_name_plural = _("Service Days")
        constraints = [models.UniqueConstraint(fields=["center", "date"], name="one_service_day_per_center_date")]
        indexes = [models.Index(fields=["date"], name="serviceday_date_idx")]

    def __str__(self) -> str:
        return f"{self.center_id} {self.date}"

    @property
    def perk_labels(self) -> list[str]:
        labels = dict(ServiceDayPerk.choices)
        return [str(labels.get(p, p)) for p in self.perks]
