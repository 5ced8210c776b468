"""Customer self-service: appointment slots and capacity, appointments, mail-in and on-site
requests, hotline callbacks, satisfaction surveys and plan checkouts.

A separate bounded app on purpose: docs/design.md files slots under ``centers`` and appointments
under ``repairs``, but both apps were being built by others at the same time. Everything
here points at them through foreign keys and their public services only.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from centers.choices import Weekday

if TYPE_CHECKING:
    from logistics.models import Shipment

from .choices import (
    AppointmentStatus,
    CallbackOutcome,
    CallbackStatus,
    CallbackTopic,
    OnSiteStatus,
    PaymentStatus,
    TimeWindow,
)


class SlotRule(models.Model):
    """How a center cuts its opening hours into bookable slots on one weekday."""

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="slot_rules", verbose_name=_("center")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    desks = models.PositiveSmallIntegerField(_("desks per slot"), default=2)
    service_day_desks = models.PositiveSmallIntegerField(
        _("desks per slot on Service Days"),
        null=True,
        blank=True,
        help_text=_("Leave empty to keep the usual number on Service Days."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["center_id", "weekday"]
        verbose_name = _("slot rule")
        verbose_name_plural = _("slot rules")
        constraints = [
            models.UniqueConstraint(fields=["center", "weekday"], name="one_slot_rule_per_center_weekday"),
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gte=5, slot_minutes__lte=240), name="slot_rule_length_range"
            ),
            models.CheckConstraint(condition=models.Q(desks__gte=1), name="slot_rule_desks_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.get_weekday_display()} {self.slot_minutes}min x{self.desks}"


class SlotCounter(models.Model):
    """The seat count of one slot; the row every booking of that slot locks.

    Created lazily by the first booking (``INSERT ... ON CONFLICT DO NOTHING``), then locked
    with ``SELECT ... FOR UPDATE``. The check constraint makes overbooking impossible even
    for code that forgets the lock.
    """

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    start = models.DateTimeField(_("slot start"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)

    class Meta:
        ordering = ["center_id", "start"]
        verbose_name = _("slot counter")
        verbose_name_plural = _("slot counters")
        constraints = [
            models.UniqueConstraint(fields=["center", "start"], name="one_counter_per_slot"),
            models.CheckConstraint(condition=models.Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.start:%Y-%m-%d %H:%M} {self.booked}/{self.capacity}"


class Appointment(models.Model):
    """A booked visit; its ticket (status ``booked``, channel ``appointment``) is the reference."""

    ticket = models.OneToOneField(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="appointment", verbose_name=_("ticket")
    )
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("center")
    )
    start = models.DateTimeField(_("slot start"))
    end = models.DateTimeField(_("slot end"))
    customer = models.ForeignKey(
        "repairs.Customer", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("customer")
    )
    device = models.ForeignKey(
        "warranty.Device", on_delete=models.PROTECT, related_name="appointments", verbose_name=_("device")
    )
    issue = models.TextField(_("issue"))
    needs = models.JSONField(_("accessibility needs"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    reschedule_count = models.PositiveSmallIntegerField(_("times rescheduled"), default=0)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["center", "start"], name="appt_center_start_idx"),
            models.Index(fields=["status", "start"], name="appt_status_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(start__lt=models.F("end")), name="appt_start_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.start:%Y-%m-%d %H:%M}"

    @property
    def reference(self) -> str:
        return self.ticket.service_no


class MailInRequest(models.Model):
    """A free two-way mail-in repair: picked up at the customer's address, repaired at the hub."""

    ticket = models.OneToOneField(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="mail_in_request", verbose_name=_("ticket")
    )
    hub = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="mail_in_requests", verbose_name=_("hub")
    )
    pickup_address = models.CharField(_("pickup address"), max_length=300)
    province = models.CharField(_("province"), max_length=64)
    city = models.CharField(_("city"), max_length=64, blank=True)
    county = models.CharField(_("county / district"), max_length=64, blank=True)
    adcode = models.CharField(_("adcode"), max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # The inbound shipment, set by booking.services.mail_in_request_create for its caller; not a column.
    shipment: "Shipment"

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("mail-in request")
        verbose_name_plural = _("mail-in requests")

    def __str__(self) -> str:
        return self.ticket.service_no


class OnSiteRequest(models.Model):
    """An engineer visit for a smart screen or PC; the center assigns a certified engineer."""

    ticket = models.OneToOneField(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="on_site_request", verbose_name=_("ticket")
    )
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="on_site_requests", verbose_name=_("center")
    )
    address = models.CharField(_("address"), max_length=300)
    province = models.CharField(_("province"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    county = models.CharField(_("county / district"), max_length=64, blank=True)
    preferred_date = models.DateField(_("preferred date"))
    window = models.CharField(_("preferred time"), max_length=16, choices=TimeWindow.choices)
    # The customer cannot travel to a center (age, illness, disability): a visit for a carried device.
    cannot_travel = models.BooleanField(_("cannot travel"), default=False)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="on_site_visits",
        verbose_name=_("engineer"),
    )
    status = models.CharField(_("status"), max_length=16, choices=OnSiteStatus.choices, default=OnSiteStatus.REQUESTED)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["preferred_date", "pk"]
        verbose_name = _("on-site request")
        verbose_name_plural = _("on-site requests")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=OnSiteStatus.ASSIGNED) | models.Q(engineer__isnull=False),
                name="onsite_assigned_has_engineer",
            ),
        ]

    def __str__(self) -> str:
        return self.ticket.service_no


class CallbackRequest(models.Model):
    """A customer asks the hotline to call back.

    The form is unverified input: the phone typed in only *suggests* a customer
    (``booking.selectors.callback_customer_suggestions``). ``customer`` and ``tickets`` are set by the staff who
    call back (``booking.services.callback_link`` / ``callback_outcome_log``); linking never changes the
    customer record or who receives the customer's messages.
    """

    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20)
    topic = models.CharField(_("topic"), max_length=16, choices=CallbackTopic.choices)
    preferred_window = models.CharField(_("preferred time"), max_length=16, choices=TimeWindow.choices)
    note = models.TextField(_("note"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    status = models.CharField(_("status"), max_length=8, choices=CallbackStatus.choices, default=CallbackStatus.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    customer = models.ForeignKey(
        "repairs.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callback_requests",
        verbose_name=_("customer (confirmed by staff)"),
    )
    tickets = models.ManyToManyField(
        "repairs.RepairTicket", blank=True, related_name="callback_requests", verbose_name=_("repairs talked about")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallbackOutcome.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("calls without an answer"), default=0)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("callback request")
        verbose_name_plural = _("callback requests")
        indexes = [models.Index(fields=["status", "created_at"], name="callback_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=CallbackStatus.OPEN) | ~models.Q(outcome=""),
                name="callback_done_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_topic_display()})"


class CallbackAttempt(models.Model):
    """One call back and what it came to (the log of a request; rows are never changed)."""

    callback = models.ForeignKey(
        CallbackRequest, on_delete=models.PROTECT, related_name="attempt_log", verbose_name=_("callback request")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallbackOutcome.choices)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["callback_id", "at", "pk"]
        verbose_name = _("callback attempt")
        verbose_name_plural = _("callback attempts")

    def __str__(self) -> str:
        return f"{self.callback_id}: {self.outcome}"


RATING_ASPECTS = ("overall", "staff", "speed", "quality")


class Survey(models.Model):
    """Satisfaction survey after hand-back: 1-5 stars per aspect and a comment; one per ticket."""

    ticket = models.OneToOneField(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="survey", verbose_name=_("ticket")
    )
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="surveys", verbose_name=_("center")
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("engineer"),
    )
    overall = models.PositiveSmallIntegerField(_("overall"))
    staff = models.PositiveSmallIntegerField(_("staff friendliness"))
    speed = models.PositiveSmallIntegerField(_("speed"))
    quality = models.PositiveSmallIntegerField(_("repair quality"))
    # The Net Promoter question, 0-10; optional on the form (and absent on older surveys).
    recommend = models.PositiveSmallIntegerField(
        _("would recommend (0-10)"),
        null=True,
        blank=True,
        help_text=_("How likely the customer is to recommend us: 9-10 promoter, 0-6 detractor."),
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overall__gte=1, overall__lte=5)
                & models.Q(staff__gte=1, staff__lte=5)
                & models.Q(speed__gte=1, speed__lte=5)
                & models.Q(quality__gte=1, quality__lte=5),
                name="survey_stars_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(recommend__isnull=True) | models.Q(recommend__gte=0, recommend__lte=10),
                name="survey_recommend_0_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.overall}/5"


class PlanOrder(models.Model):
    """A customer's checkout of a plan on the web; becomes a warranty purchase once paid."""

    imei = models.CharField(_("IMEI"), max_length=15)
    plan_code = models.CharField(_("plan"), max_length=32)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    provider = models.CharField(_("payment provider"), max_length=32)
    provider_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    purchase_id = models.BigIntegerField(_("warranty purchase"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("plan order")
        verbose_name_plural = _("plan orders")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="plan_order_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_code} {self.imei} {self.status}"
