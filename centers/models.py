"""The service network: regions, centers and collection points, hours, staff."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from .choices import (
    CenterKind,
    ExceptionReason,
    RegionLevel,
    ServiceDayPerk,
    StaffRole,
    StoreReportStatus,
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
    # Stores open through the public holidays (春节不打烊); the others close on them and work the make-up
    # days (调休). Defaults by kind: ``opens_on_public_holidays_default``. See centers/calendar.py.
    opens_on_public_holidays = models.BooleanField(
        _("open on public holidays"),
        default=False,
        help_text=_(
            "Ticked: the national holidays and make-up working days do not change this center's hours "
            "(its own dated exceptions still do). Unticked: closed on public holidays, open on make-up working days."
        ),
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
            # The official-store feed's "changes since" (centers.selectors.official_store_feed).
            models.Index(fields=["updated_at"], name="center_updated_at_idx"),
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
            # closes <= opens: the interval runs past midnight (20:00-02:00, 10:00-00:00).
            models.CheckConstraint(condition=~models.Q(opens=models.F("closes")), name="hours_not_empty"),
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
                | (models.Q(opens__isnull=False, closes__isnull=False) & ~models.Q(opens=models.F("closes"))),
                name="exception_closed_or_hours_h19",
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
    # A list of ``StaffSkill`` values (e.g. ["sign_language"]): sign-language sessions pick their signer from the
    # people on shift who have it (``centers.selectors.signers_on_shift``).
    skills = models.JSONField(
        _("skills"), default=list, blank=True, help_text=_("What this person can do beyond the role, e.g. sign.")
    )
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


class StaffShift(models.Model):
    """A person's shift at a center (the roster): who is on duty when. Escalations go to the managers on shift
    (``centers.selectors.managers_on_shift``); a center that keeps no roster reaches all of its managers."""

    center = models.ForeignKey(ServiceCenter, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("center"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("staff member")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-starts_at", "pk"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts (roster)")
        indexes = [models.Index(fields=["center", "starts_at", "ends_at"], name="shift_center_time_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.center_id} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift ends after it starts.")})
        if self.starts_at and self.ends_at and self.ends_at - self.starts_at > dt.timedelta(hours=24):
            raise ValidationError({"ends_at": _("A shift lasts 24 hours at most.")})
        if (
            self.center_id
            and self.user_id
            and not StaffMembership.objects.filter(user_id=self.user_id, center_id=self.center_id, active=True).exists()
        ):
            raise ValidationError({"user": _("This person does not work at this center.")})


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


class StoreReport(models.Model):
    """A store the public suspects of passing itself off as official (issue #22); HQ triages it.

    Never deleted: the status records the outcome. The reporter's address is kept only as a keyed hash
    (``centers.services.client_ip_hash``), enough to see many reports from one client.
    """

    name = models.CharField(_("store name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    note = models.TextField(_("what happened"), max_length=2000, blank=True)
    # Resolved from the address when it names a region (cpca, registered by booking): the most precise one known.
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="store_reports",
        verbose_name=_("region"),
    )
    province = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="province_store_reports",
        verbose_name=_("province"),
    )
    status = models.CharField(
        _("status"), max_length=24, choices=StoreReportStatus.choices, default=StoreReportStatus.NEW
    )
    triage_note = models.TextField(_("triage note"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    reporter_contact = models.CharField(_("reporter contact"), max_length=100, blank=True)
    client_ip_hash = models.CharField(_("client address hash"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("store report")
        verbose_name_plural = _("store reports")
        indexes = [models.Index(fields=["status", "created_at"], name="storereport_status_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"

    @property
    def reference(self) -> str:
        """What the reporter is shown and quotes: ``SR-000123``."""
        return f"SR-{self.pk:06d}" if self.pk else "SR-?"


def _store_report_photo_path(instance: "StoreReportPhoto", filename: str) -> str:
    return f"store-reports/{instance.report_id}/{filename}"


class StoreReportPhoto(models.Model):
    """A photo of a reported store: re-encoded as JPEG, at most 1600 px, with no metadata (EXIF, GPS).

    Served only to staff (``StoreReportAdmin.photo_view``); MEDIA_ROOT is never served publicly.
    """

    report = models.ForeignKey(StoreReport, on_delete=models.PROTECT, related_name="photos", verbose_name=_("report"))
    image = models.ImageField(
        _("photo"), upload_to=_store_report_photo_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["report_id", "pk"]
        verbose_name = _("store report photo")
        verbose_name_plural = _("store report photos")

    def __str__(self) -> str:
        return self.image.name
