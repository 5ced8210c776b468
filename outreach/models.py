"""Outreach models (issue #22)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .choices import ACTIVE_REGISTRATION, EventKind, EventStatus, RegistrationStatus, SignSessionStatus

# --- quick visits at the desk (visits: non-repair services, Service-Day and new-store-month perks) ---------------
# Kept in their own section (and outreach/visits.py, outreach/visit_selectors.py) apart from the events' models.


class VisitKind(models.TextChoices):
    CARE = "care", _("Device care")
    REST_STATION = "rest_station", _("Rest station")
    HOSPITALITY = "hospitality", _("Hospitality")


class VisitStatus(models.TextChoices):
    RECORDED = "recorded", _("Recorded")
    VOIDED = "voided", _("Voided")


class VisitService(models.Model):
    """A non-repair service the desk gives (any brand, no device record): screen film, UV disinfection, water...

    ``perk``: free during a Service Day (when that day's perks list its ``code``) and the new-store month, one per
    customer phone per Service Day (or per new-store month at a center)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    kind = models.CharField(_("kind"), max_length=20, choices=VisitKind.choices)
    perk = models.BooleanField(
        _("Service-Day perk"), default=False, help_text=_("Free on Service Days and in the new-store month.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("visit service")
        verbose_name_plural = _("visit services")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").lower().startswith("zh") else self.name_en


class Visit(models.Model):
    """One tap at the desk: a non-repair service given to one person (or a group: ``count``), any brand."""

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="visits", verbose_name=_("center")
    )
    service = models.ForeignKey(
        VisitService, on_delete=models.PROTECT, related_name="visits", verbose_name=_("service")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    day = models.DateField(_("day"), help_text=_("The center's local date of the visit."))
    count = models.PositiveSmallIntegerField(_("people"), default=1)
    any_brand = models.BooleanField(_("another brand's device"), default=False)
    brand = models.CharField(_("brand"), max_length=40, blank=True)
    imei = models.CharField(_("IMEI"), max_length=20, blank=True)
    during_service_day = models.BooleanField(_("during a Service Day"), default=False)
    during_new_store_month = models.BooleanField(_("during the new-store month"), default=False)
    perk = models.BooleanField(_("free perk given"), default=False)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("staff")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=VisitStatus.choices, default=VisitStatus.RECORDED)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1, count__lte=500), name="visit_count_1_to_500"),
            models.CheckConstraint(condition=Q(perk=False) | Q(count=1), name="visit_perk_is_one_person"),
        ]
        indexes = [
            models.Index(fields=["center", "day"], name="visit_center_day_idx"),
            models.Index(fields=["day"], name="visit_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} ×{self.count} @ {self.center_id} {self.day}"


class PerkRedemption(models.Model):
    """A free perk consumed by a customer phone (HMAC of its E.164 number) within one perk period.

    ``period``: ``sd:YYYY-MM`` (the month's Service Day weekend, any center) or ``ns:<center id>`` (that center's
    new-store month). A voided visit releases it (``active`` False): never deleted."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="redemption", verbose_name=_("visit"))
    service = models.ForeignKey(VisitService, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    phone_hash = models.CharField(_("phone (keyed hash)"), max_length=64)
    phone_last4 = models.CharField(_("phone (last 4 digits)"), max_length=4)
    period = models.CharField(_("perk period"), max_length=32)
    active = models.BooleanField(_("active"), default=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("perk redemption")
        verbose_name_plural = _("perk redemptions")
        constraints = [
            models.UniqueConstraint(
                fields=["service", "phone_hash", "period"],
                condition=Q(active=True),
                name="one_perk_per_phone_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_id} ****{self.phone_last4} {self.period}"


class GuestBookEntry(models.Model):
    """A line in a center's guest book, written at the desk (the name is optional)."""

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="guest_book", verbose_name=_("center")
    )
    name = models.CharField(_("name"), max_length=40, blank=True)
    message = models.TextField(_("message"), max_length=500)
    at = models.DateTimeField(_("at"), default=timezone.now)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("staff")
    )
    hidden = models.BooleanField(_("hidden"), default=False)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("guest book entry")
        verbose_name_plural = _("guest book entries")

    def __str__(self) -> str:
        return f"{self.center_id} {self.at:%Y-%m-%d} {self.name or '—'}"


# --- community events and classes (进社区) --------------------------------------------------------


class Event(models.Model):
    """A service desk taken into a residential community, a phone-use class, or a staff training.

    Held at a venue (a community, not the center); the center runs it. ``places_taken`` counts the
    registrations holding a place (every status but cancelled): the sign-up service locks this row and
    increments it in the same transaction, and the database refuses a count above ``capacity``.
    """

    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="outreach_events", verbose_name=_("center")
    )
    venue_name = models.CharField(
        _("venue"), max_length=120, help_text=_("The community or hall, e.g. 曹杨新村社区中心.")
    )
    venue_address = models.CharField(_("venue address"), max_length=250)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    places_taken = models.PositiveIntegerField(_("places taken"), default=0, editable=False)
    public = models.BooleanField(
        _("public"), default=True, help_text=_("Shown on the public site for sign-up (staff trainings never are).")
    )
    sign_language = models.BooleanField(_("sign language"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=EventStatus.choices, default=EventStatus.SCHEDULED)
    results_note = models.TextField(
        _("results"), blank=True, help_text=_("What was done: devices checked, people helped, questions asked.")
    )
    devices_checked = models.PositiveIntegerField(_("devices checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events and classes")
        indexes = [models.Index(fields=["center", "starts_at"], name="outreach_event_center_start")]
        constraints = [
            models.CheckConstraint(condition=Q(places_taken__lte=F("capacity")), name="event_places_within_capacity"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(kind=EventKind.STAFF_TRAINING) | Q(public=False), name="event_staff_training_not_public"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def title(self) -> str:
        return self.title_zh if (get_language() or "zh").lower().startswith("zh") else (self.title_en or self.title_zh)

    @property
    def description(self) -> str:
        zh = (get_language() or "zh").lower().startswith("zh")
        return self.description_zh if zh else (self.description_en or self.description_zh)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)


class Registration(models.Model):
    """One person's place at an event: the phone (E.164) it was booked with and the code shown at the door."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("event"))
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20)
    language = models.CharField(_("language"), max_length=10, blank=True)
    code = models.CharField(_("door code"), max_length=8)
    status = models.CharField(
        _("status"), max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    attended_at = models.DateTimeField(_("attended at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["event", "pk"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [models.Index(fields=["phone", "created_at"], name="registration_phone_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "phone"],
                condition=Q(status__in=ACTIVE_REGISTRATION),
                name="registration_one_active_per_phone",
            ),
            models.UniqueConstraint(fields=["event", "code"], name="registration_code_unique_per_event"),
            models.CheckConstraint(
                condition=~Q(status=RegistrationStatus.ATTENDED) | Q(attended_at__isnull=False),
                name="registration_attended_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.code} {self.name}"

    @property
    def phone_last4(self) -> str:
        return self.phone[-4:]


# --- sign-language video sessions of bookings (手语视频服务, issue #22 item 4) ------------------------------------
# Created by ``outreach.signlang.sign_session_for_appointment`` when an ``appointment.booked`` event of a booking with
# the sign_language need is dispatched; the link comes from the video provider (``outreach.video``).


class SignLanguageSession(models.Model):
    """The video session a signer holds with a deaf customer at the time of their appointment.

    ``join_url`` is the customer's (shown to whoever can see the appointment: the booking confirmation, the
    tracking page, the SMS); ``host_url`` is the staff's and never leaves the staff pages. ``prepared_at`` is set
    when someone at the center marks the preparation task done ("Today at the desk")."""

    appointment = models.OneToOneField(
        "booking.Appointment",
        on_delete=models.PROTECT,
        related_name="sign_language_session",
        verbose_name=_("appointment"),
    )
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="sign_sessions", verbose_name=_("center")
    )
    scheduled_start = models.DateTimeField(_("scheduled start"))
    provider = models.CharField(_("video provider"), max_length=32)
    meeting_id = models.CharField(_("meeting id"), max_length=64)
    join_url = models.URLField(_("customer's link"), max_length=500)
    host_url = models.URLField(_("host link (staff)"), max_length=500)
    status = models.CharField(
        _("status"), max_length=12, choices=SignSessionStatus.choices, default=SignSessionStatus.SCHEDULED
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sign_sessions",
        verbose_name=_("signer"),
    )
    prepared_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["scheduled_start", "pk"]
        verbose_name = _("sign-language session")
        verbose_name_plural = _("sign-language sessions")
        indexes = [models.Index(fields=["center", "status", "scheduled_start"], name="sign_session_center_idx")]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.scheduled_start:%Y-%m-%d %H:%M} {self.status}"
