"""Customers, repair tickets and their timeline, stage SLAs, the repair catalog and quotes."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import (
    Channel,
    FaultCategory,
    Language,
    PartGrade,
    QuoteStatus,
    RepairKind,
    TicketStatus,
)


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=100)
    # E.164, normalised by the service (phonenumbers): +8613812345678
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    contact_consent = models.BooleanField(_("agrees to be contacted"), default=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class RepairTicket(models.Model):
    """A repair, from booking to closing. ``status`` only changes through ``repairs.services``."""

    service_no = models.CharField(_("service number"), max_length=16, unique=True)
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("center")
    )
    # Where the device was handed in when that is not the repairing center (collection point).
    origin_center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="originated_tickets",
        verbose_name=_("origin center"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer"))
    device = models.ForeignKey(
        "warranty.Device", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("device")
    )
    fault_category = models.CharField(_("fault"), max_length=20, choices=FaultCategory.choices)
    fault_description = models.TextField(_("fault description"), blank=True)
    accessories = models.JSONField(_("accessories received"), default=list, blank=True)
    appearance_notes = models.TextField(_("appearance notes"), blank=True)
    repair_mode_enabled = models.BooleanField(_("repair mode enabled"), default=False)
    data_backup_consent = models.BooleanField(_("data backup consent"), default=False)
    needs = models.JSONField(_("accessibility needs"), default=dict, blank=True)
    # Contact details given with an unverified booking (web form, public API). They are used for
    # THIS ticket's own messages only and never reach the customer record or other tickets:
    # unverified input must not change who receives a customer's messages (docs/security.md).
    contact_email = models.EmailField(
        _("contact e-mail for this booking"),
        blank=True,
        help_text=_("Given with the booking, not verified; used only for this repair's messages."),
    )
    contact_language = models.CharField(
        _("language for this booking"), max_length=8, choices=Language.choices, blank=True
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("engineer"),
    )
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.BOOKED)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    # When the current stage started and when it is due (SLA).
    stage_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stage started at"))
    stage_due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stage due at"))
    received_at = models.DateTimeField(null=True, blank=True, verbose_name=_("received at"))
    promised_at = models.DateTimeField(_("promised ready"), null=True, blank=True)
    # The 1-hour promise of a quick walk-in repair (repairs.promise): watched to the minute by the SLA watch.
    express = models.BooleanField(_("express repair"), default=False)
    # Business minutes the ticket waited on the customer (awaiting_approval) and on parts (awaiting_parts):
    # the repair clock pauses meanwhile (docs/repairs.md, "How time is counted"). Added when the wait ends.
    paused_customer_minutes = models.PositiveIntegerField(_("waited on the customer (business minutes)"), default=0)
    paused_parts_minutes = models.PositiveIntegerField(_("waited on parts (business minutes)"), default=0)
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    # Stage timestamps (the timeline has every move; these make lists and reports cheap).
    forwarded_at = models.DateTimeField(_("forwarded to the hub"), null=True, blank=True)
    hub_received_at = models.DateTimeField(_("received at the hub"), null=True, blank=True)
    diagnosis_started_at = models.DateTimeField(_("diagnosis started"), null=True, blank=True)
    quoted_at = models.DateTimeField(_("quoted"), null=True, blank=True)
    approved_at = models.DateTimeField(_("quote approved"), null=True, blank=True)
    repair_started_at = models.DateTimeField(_("repair started"), null=True, blank=True)
    repaired_at = models.DateTimeField(_("repair finished"), null=True, blank=True)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    # Set by repairs.selectors for the staff lists (the status in the desk's words), not a column.
    staff_status: str

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("repair ticket")
        verbose_name_plural = _("repair tickets")
        indexes = [
            models.Index(fields=["center", "status", "-created_at"], name="ticket_center_status_idx"),
            models.Index(fields=["status", "stage_due_at"], name="ticket_status_due_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
        ]

    def __str__(self) -> str:
        return self.service_no

    def is_sla_breached(self, now=None) -> bool:
        """The current stage is past its target (open tickets only); see ``selectors.sla_breached_q``."""
        from django.utils import timezone

        from .choices import OPEN_STATUSES

        return (
            self.status in OPEN_STATUSES
            and self.stage_due_at is not None
            and self.stage_due_at < (now or timezone.now())
        )


class TicketEvent(models.Model):
    """One line of a ticket's timeline: who moved it, when, from what to what, and why."""

    ticket = models.ForeignKey(RepairTicket, on_delete=models.PROTECT, related_name="events", verbose_name=_("ticket"))
    action = models.CharField(max_length=32, verbose_name=_("action"))
    from_status = models.CharField(max_length=20, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=20, verbose_name=_("to status"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    at = models.DateTimeField(db_index=True, verbose_name=_("at"))
    # Written with the event from the locked ticket's ``stage_started_at``: how long the visit of
    # ``from_status`` that this event ends lasted. SLA compliance by stage is then a plain
    # aggregate over the events of a period, instead of pairing every event with its predecessor.
    time_in_stage = models.DurationField(
        null=True,
        blank=True,
        verbose_name=_("time in stage"),
        help_text=_("How long the ticket had been in the “from” status when this event moved it on."),
    )
    # The same visit counted in the center's business minutes (centers.calendar), which is what the stage
    # targets measure. Null on rows written before it existed: the dashboards fall back to time_in_stage.
    business_minutes_in_stage = models.PositiveIntegerField(
        null=True,
        blank=True,
        verbose_name=_("business minutes in stage"),
        help_text=_("Open minutes the ticket spent in the “from” status (closed hours not counted)."),
    )

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} -> {self.to_status}"


class StageSLA(models.Model):
    """Target duration of one ticket stage (status). Without a row the code default applies."""

    status = models.CharField(_("stage"), max_length=20, choices=TicketStatus.choices, unique=True)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"))
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to stop tracking this stage."))
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["status"]
        verbose_name = _("stage SLA")
        verbose_name_plural = _("stage SLAs")
        constraints = [models.CheckConstraint(condition=models.Q(target_minutes__gt=0), name="stage_sla_positive")]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.target_minutes} min"


class RepairOperation(models.Model):
    """One repair of one device model with its published prices (the catalog)."""

    device_model = models.ForeignKey(
        "warranty.DeviceModel",
        on_delete=models.PROTECT,
        related_name="repair_operations",
        verbose_name=_("device model"),
    )
    code = models.CharField(_("code"), max_length=20, choices=RepairKind.choices)
    name = models.CharField(_("name"), max_length=120)
    fault_category = models.CharField(_("fault"), max_length=20, choices=FaultCategory.choices)
    part_price = models.DecimalField(_("new original part"), max_digits=10, decimal_places=2)
    refurbished_price = models.DecimalField(
        _("refurbished part"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Refurbished original part with a 90-day warranty; empty = not offered."),
    )
    labor = models.DecimalField(_("labor fee"), max_digits=10, decimal_places=2)
    fixed_price = models.DecimalField(
        _("fixed-price offer"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("All-in out-of-warranty price (part and labor), e.g. the battery one-price offer."),
    )
    published = models.BooleanField(_("published"), default=True)
    typical_minutes = models.PositiveIntegerField(
        _("typical duration (minutes)"),
        null=True,
        blank=True,
        help_text=_(
            "Bench time of this repair, used for the promised completion time; empty = the default of its kind."
        ),
    )

    class Meta:
        ordering = ["device_model_id", "code"]
        verbose_name = _("repair operation")
        verbose_name_plural = _("repair operations")
        constraints = [
            models.UniqueConstraint(fields=["device_model", "code"], name="one_operation_per_model_code"),
            models.CheckConstraint(
                condition=models.Q(part_price__gte=0, labor__gte=0), name="operation_prices_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refurbished_price__isnull=True) | models.Q(refurbished_price__gte=0),
                name="operation_refurbished_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(fixed_price__isnull=True) | models.Q(fixed_price__gte=0),
                name="operation_fixed_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_model_id}/{self.code}"


class Quote(models.Model):
    """One version of a ticket's quote. A revision supersedes the previous version and needs a new approval."""

    ticket = models.ForeignKey(RepairTicket, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("ticket"))
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.PENDING)
    total = models.DecimalField(_("total"), max_digits=10, decimal_places=2)
    exclusions = models.JSONField(_("warranty exclusions found"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by_label = models.CharField(max_length=150, blank=True, verbose_name=_("decided by label"))

    # Set by repairs.selectors.ticket_current_quote (the lines of this version), not a column.
    current_lines: "list[QuoteLine]"

    class Meta:
        ordering = ["ticket_id", "version"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "version"], name="one_quote_per_version"),
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(status="pending"), name="one_pending_quote_per_ticket"
            ),
            models.CheckConstraint(condition=models.Q(total__gte=0), name="quote_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} v{self.version}"


class QuoteLine(models.Model):
    """A quoted repair: prices before and after the pricing rules, and the rules with their reasons."""

    quote = models.ForeignKey(Quote, on_delete=models.PROTECT, related_name="lines", verbose_name=_("quote"))
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    operation = models.ForeignKey(
        RepairOperation, on_delete=models.PROTECT, related_name="+", verbose_name=_("operation")
    )
    description = models.CharField(_("description"), max_length=200)
    # The repair as a code (RepairKind), put into words when shown; empty on lines written before codes
    # (their stored description is shown as it was written).
    code = models.CharField(_("repair code"), max_length=20, blank=True, default="")
    grade = models.CharField(_("part grade"), max_length=16, choices=PartGrade.choices, default=PartGrade.NEW)
    list_part_price = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("list part price"))
    list_labor = models.DecimalField(max_digits=10, decimal_places=2, verbose_name=_("list labor"))
    part_price = models.DecimalField(_("part"), max_digits=10, decimal_places=2)
    labor = models.DecimalField(_("labor"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    # [{"code": "statutory_warranty", "msg": "statutory_warranty", "params": {"until": "2027-01-31"},
    #   "reason": "..."}] in the order applied; msg + params are rendered when shown (repairs.pricing.rule_reason),
    # "reason" is the text of the moment (the only one on rows written before the codes).
    rules = models.JSONField(default=list, verbose_name=_("rules"))
    # The plan purchase whose claim this line uses (claimed on approval, released on cancel).
    plan_purchase_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("plan purchase id"))

    class Meta:
        ordering = ["quote_id", "position"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.UniqueConstraint(fields=["quote", "position"], name="one_line_per_position"),
            models.CheckConstraint(
                condition=models.Q(part_price__gte=0, labor__gte=0, amount__gte=0), name="quote_line_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def description_display(self) -> str:
        """The repair in the active language (the stored text on lines without a code)."""
        from .pricing import line_description

        return line_description(code=self.code, stored=self.description)

    @property
    def rules_display(self) -> list[dict]:
        """The rules with their reasons in the active language."""
        from .pricing import rule_reason

        return [{"code": r.get("code", ""), "reason": rule_reason(r)} for r in self.rules or []]


class PhoneVerification(models.Model):
    """One SMS one-time code sent to a phone (``repairs.verification``).

    Only an HMAC of the code is stored (keyed with the server's secret, so a copy of the table
    alone does not give the 10^6 candidates away); a code is valid for a few minutes, allows a
    few tries and is used once.
    """

    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(_("code hash"), max_length=64)
    salt = models.CharField(max_length=32, verbose_name=_("salt"))
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        indexes = [models.Index(fields=["phone", "-created_at"], name="phoneverif_phone_idx")]

    def __str__(self) -> str:
        return f"{self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


# --- the counter's pages on the admin index (no tables) -----------------------------------------
# Unmanaged, permission-less models: they only give the check-in, the engineer's bench and
# "today at the desk" an entry in the admin index and the nav sidebar (see ``repairs/desk.py``),
# shown to the roles that use them. Same pattern as ``ops.models.Dashboard``.


class CounterCheckIn(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("check a device in")
        verbose_name_plural = _("check a device in")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class Bench(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("engineer's bench")
        verbose_name_plural = _("engineer's bench")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class DeskToday(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("today at the desk")
        verbose_name_plural = _("today at the desk")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class SlaBreach(models.Model):
    """A ticket stage that ran past its due time. One row per breach (ticket, stage, due time).

    Written by the SLA watch (``repairs.jobs.sla_breaches_record``) together with its ``ticket.sla_breached``
    event. The table is the one the notifications app created (the model moved here in issue #18).
    """

    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="sla_breaches", verbose_name=_("ticket")
    )
    status = models.CharField(_("stage"), max_length=20)
    stage_due_at = models.DateTimeField(_("stage due at"))
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)

    class Meta:
        db_table = "notifications_slabreach"
        ordering = ["-detected_at", "-pk"]
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "status", "stage_due_at"], name="slabreach_once_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.status} due {self.stage_due_at:%Y-%m-%d %H:%M}"
