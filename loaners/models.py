"""Loaner pool, loans and the deposit ledger.

Nothing here changes state by itself: every status change goes through
``loaners.services`` (row lock, re-check, write, history row, one transaction).
The database holds the invariants the services rely on: one open loan per
ticket and per loaner (partial unique constraints), a refund never exceeding
what is held (check constraints on the loan totals and on every ledger row).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from warranty.choices import Tier
from warranty.models import validate_imei

from .choices import (
    OPEN_LOAN_STATUSES,
    AmenityKind,
    AmenityLoanStatus,
    AmenityStockReason,
    DeductionKind,
    EntryKind,
    LoanerAction,
    LoanerCondition,
    LoanerStatus,
    LoanStatus,
    PaymentMethod,
    ReturnCondition,
)

MONEY = {"max_digits": 10, "decimal_places": 2}
_OPEN = Q(status__in=[s.value for s in OPEN_LOAN_STATUSES])


class Loaner(models.Model):
    """One loaner phone. Its tier is its model's tier."""

    imei = models.CharField(_("IMEI"), max_length=15, unique=True, validators=[validate_imei])
    model = models.ForeignKey(
        "warranty.DeviceModel", on_delete=models.PROTECT, related_name="loaners", verbose_name=_("model")
    )
    home_center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="home_loaners", verbose_name=_("home center")
    )
    current_center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="loaners", verbose_name=_("current center")
    )
    condition = models.CharField(
        _("condition"), max_length=16, choices=LoanerCondition.choices, default=LoanerCondition.NEW
    )
    status = models.CharField(
        _("status"), max_length=16, choices=LoanerStatus.choices, default=LoanerStatus.AVAILABLE, db_index=True
    )
    accessories = models.JSONField(
        _("accessories kit"), default=list, blank=True, help_text=_('e.g. ["charger", "cable", "case"]')
    )
    replacement_value = models.DecimalField(
        _("replacement value"), **MONEY, default=Decimal("0.00"), help_text=_("Charged when the loaner is lost.")
    )
    last_wiped_at = models.DateTimeField(_("last wiped at"), null=True, blank=True)
    needs_wipe = models.BooleanField(
        _("needs wipe"), default=True, help_text=_("A loaner is factory-reset (and recorded) before each loan.")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["current_center_id", "pk"]
        verbose_name = _("loaner")
        verbose_name_plural = _("loaners")
        indexes = [
            # Checkout: available loaners at a center (then tier via the model).
            models.Index(fields=["current_center", "status", "needs_wipe"], name="loaner_pick_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(replacement_value__gte=0), name="loaner_replacement_value_gte_0"),
            # A wiped flag without a recorded wipe would let an unwiped phone out.
            models.CheckConstraint(
                condition=Q(needs_wipe=True) | Q(last_wiped_at__isnull=False), name="loaner_wiped_has_wipe_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.imei}"

    @property
    def tier(self) -> str:
        return self.model.tier


class LoanerTransfer(models.Model):
    """A loaner on its way from one center to another (``transferring`` until received)."""

    loaner = models.ForeignKey(Loaner, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("loaner"))
    from_center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        related_name="incoming_loaner_transfers",
        verbose_name=_("to"),
    )
    sent_at = models.DateTimeField(_("sent at"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("loaner transfer")
        verbose_name_plural = _("loaner transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["loaner"], condition=Q(received_at__isnull=True), name="one_open_transfer_per_loaner"
            ),
            models.CheckConstraint(condition=~Q(from_center=F("to_center")), name="transfer_between_two_centers"),
        ]

    def __str__(self) -> str:
        return f"{self.loaner_id}: {self.from_center_id} -> {self.to_center_id}"


class DepositRule(models.Model):
    """Deposit and late fee per tier; a province row overrides the default row (province empty)."""

    province = models.ForeignKey(
        "centers.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("province"),
        help_text=_("Empty = the default for every province without its own rule."),
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    deposit = models.DecimalField(_("deposit"), **MONEY)
    late_fee_per_day = models.DecimalField(_("late fee per day"), **MONEY, default=Decimal("0.00"))
    waive_for_plan_holders = models.BooleanField(
        _("waived for plan holders"),
        default=False,
        help_text=_("No deposit when the customer's device has an active protection plan."),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["province_id", "tier"]
        verbose_name = _("deposit rule")
        verbose_name_plural = _("deposit rules")
        constraints = [
            models.UniqueConstraint(fields=["province", "tier"], name="one_deposit_rule_per_province_tier"),
            models.UniqueConstraint(
                fields=["tier"], condition=Q(province__isnull=True), name="one_default_deposit_rule_per_tier"
            ),
            models.CheckConstraint(condition=Q(deposit__gte=0), name="deposit_rule_deposit_gte_0"),
            models.CheckConstraint(condition=Q(late_fee_per_day__gte=0), name="deposit_rule_late_fee_gte_0"),
        ]

    def __str__(self) -> str:
        where = self.province.name if self.province_id else _("default")
        return f"{where} / {self.get_tier_display()}: {self.deposit}"


class Loan(models.Model):
    """A loaner lent for a repair ticket, with the running totals of its deposit ledger.

    ``held``/``refunded``/``deducted``/``balance_due`` are kept in step with the
    ``DepositEntry`` rows by the services (same transaction) so the database can
    check that nothing is refunded that is not held.
    """

    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="loans", verbose_name=_("ticket")
    )
    loaner = models.ForeignKey(Loaner, on_delete=models.PROTECT, related_name="loans", verbose_name=_("loaner"))
    customer = models.ForeignKey(
        "repairs.Customer", on_delete=models.PROTECT, related_name="loans", verbose_name=_("customer")
    )
    # The ticket's center when lent: scoping, cash report.
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="loans", verbose_name=_("center")
    )
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    status = models.CharField(_("status"), max_length=16, choices=LoanStatus.choices, default=LoanStatus.OUT)
    out_at = models.DateTimeField(_("out at"))
    due_at = models.DateTimeField(_("due at"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    condition_out = models.CharField(_("condition out"), max_length=16, choices=LoanerCondition.choices)
    condition_in = models.CharField(_("condition in"), max_length=24, choices=ReturnCondition.choices, blank=True)
    accessories_out = models.JSONField(_("accessories lent"), default=list, blank=True)
    terms_accepted_at = models.DateTimeField(_("loan terms accepted at"))
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    deposit = models.DecimalField(_("deposit"), **MONEY, help_text=_("Deposit required at checkout (0 when waived)."))
    deposit_waived = models.BooleanField(_("deposit waived"), default=False)
    late_fee_per_day = models.DecimalField(_("late fee per day"), **MONEY)
    # Running totals of the ledger (see the class docstring).
    held = models.DecimalField(_("held"), **MONEY, default=Decimal("0.00"))
    refunded = models.DecimalField(_("refunded"), **MONEY, default=Decimal("0.00"))
    deducted = models.DecimalField(_("deducted"), **MONEY, default=Decimal("0.00"))
    balance_due = models.DecimalField(
        _("balance due"),
        **MONEY,
        default=Decimal("0.00"),
        help_text=_("Deductions beyond the deposit: owed by the customer."),
    )
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lent by"),
    )
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("returned by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-out_at", "-pk"]
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        indexes = [
            models.Index(fields=["center", "status", "-out_at"], name="loan_center_status_idx"),
            models.Index(fields=["status", "due_at"], name="loan_status_due_idx"),
            models.Index(fields=["-out_at", "-id"], name="loan_out_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=_OPEN, name="one_open_loan_per_ticket"),
            models.UniqueConstraint(fields=["loaner"], condition=_OPEN, name="one_open_loan_per_loaner"),
            models.CheckConstraint(
                condition=Q(held__gte=0) & Q(refunded__gte=0) & Q(deducted__gte=0) & Q(balance_due__gte=0),
                name="loan_totals_gte_0",
            ),
            models.CheckConstraint(condition=Q(balance_due__lte=F("deducted")), name="loan_balance_due_lte_deducted"),
            # The part of the deductions taken from the deposit plus the refunds never exceed what is held.
            models.CheckConstraint(
                condition=Q(held__gte=F("refunded") + F("deducted") - F("balance_due")),
                name="loan_refund_within_held",
            ),
            models.CheckConstraint(condition=Q(due_at__gt=F("out_at")), name="loan_due_after_out"),
            models.CheckConstraint(
                condition=~Q(status=LoanStatus.RETURNED) | Q(returned_at__isnull=False),
                name="loan_returned_has_returned_at",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.loaner_id} for {self.ticket_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LOAN_STATUSES

    @property
    def balance(self) -> Decimal:
        """holds − refunds − deductions (negative = ``balance_due``)."""
        return self.held - self.refunded - self.deducted


class DepositEntry(models.Model):
    """One line of a loan's deposit ledger; append-only, written only by ``loaners.services``.

    ``seq`` numbers a loan's entries (unique: two writers cannot both append
    entry N). ``from_deposit`` is the part of the amount that moved deposit
    money (a deduction beyond the deposit is owed instead), ``balance_after``
    the deposit still held after this entry, which can never go below zero:
    an entry that would refund more than is held fails in the database.
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="entries", verbose_name=_("loan"))
    seq = models.PositiveIntegerField(_("#"))
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    from_deposit = models.DecimalField(_("from deposit"), **MONEY)
    balance_after = models.DecimalField(_("deposit held after"), **MONEY)
    deduction_kind = models.CharField(_("deduction kind"), max_length=24, choices=DeductionKind.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))

    class Meta:
        ordering = ["loan_id", "seq"]
        verbose_name = _("deposit entry")
        verbose_name_plural = _("deposit entries")
        indexes = [models.Index(fields=["center", "at"], name="deposit_entry_center_at_idx")]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="deposit_entry_unique_seq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_entry_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(from_deposit__gte=0) & Q(from_deposit__lte=F("amount")),
                name="deposit_entry_from_deposit_range",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="deposit_entry_never_over_refunded"),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.DEDUCTION) | (~Q(reason="") & ~Q(deduction_kind="")),
                name="deposit_entry_deduction_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.REFUND) | Q(from_deposit=F("amount")),
                name="deposit_entry_refund_from_deposit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}#{self.seq} {self.kind} {self.amount}"


class LoanerEvent(models.Model):
    """The history of a loaner (and of its loans): who did what, when, from which status to which."""

    loaner = models.ForeignKey(Loaner, on_delete=models.PROTECT, related_name="events", verbose_name=_("loaner"))
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("loan")
    )
    action = models.CharField(_("action"), max_length=24, choices=LoanerAction.choices)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("center"),
    )
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
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("loaner event")
        verbose_name_plural = _("loaner events")
        indexes = [models.Index(fields=["loaner", "at"], name="loaner_event_loaner_at_idx")]

    def __str__(self) -> str:
        return f"{self.loaner_id} {self.action}: {self.from_status} -> {self.to_status}"


# --- amenities (issue #22): small things lent at the desk against a deposit ----------------------------------
# Lending against a deposit is what this app does; it stands below payments, so the money ledger can name an
# amenity loan as its subject (``payments.models.SubjectMixin.amenity_loan``).


class Amenity(models.Model):
    """A kind of small thing a center lends at its desk (umbrellas, power banks, reading glasses), with its stock.

    ``on_hand`` is what is on the shelf now: a loan takes one (under this row's lock), a return puts one back at
    the center where it comes back (which may be another center of the network).
    """

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="amenities", verbose_name=_("center")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AmenityKind.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    deposit = models.DecimalField(_("deposit"), **MONEY, default=Decimal("0.00"), help_text=_("0: lent for free."))
    on_hand = models.PositiveIntegerField(_("on hand"), default=0, help_text=_("How many are on the shelf now."))
    loan_days = models.PositiveSmallIntegerField(
        _("lent for (days)"), default=3, help_text=_("When it is due back: this many days after lending.")
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to stop lending it here."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["center_id", "position", "pk"]
        verbose_name = _("amenity")
        verbose_name_plural = _("amenities")
        constraints = [
            models.UniqueConstraint(fields=["center", "kind"], name="amenity_one_per_center_kind"),
            models.CheckConstraint(condition=Q(deposit__gte=0), name="amenity_deposit_gte_0"),
            # Backs the lock: a lend that slipped past it would take the shelf below zero and fail here.
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="amenity_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(loan_days__gte=1), name="amenity_loan_days_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").lower().startswith("zh") else self.name_en


class AmenityLoan(models.Model):
    """One amenity lent to a person at a desk, with its deposit (the money is in the payments ledger).

    One open loan per phone and kind, network-wide (``amenity_one_open_per_phone_kind``): the phone is how a
    desk finds the loan when the thing comes back -- at any center -- so it must name one loan; and a free item
    (deposit 0) cannot be emptied from the shelf by one person.
    """

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="amenity_loans", verbose_name=_("center")
    )
    amenity = models.ForeignKey(Amenity, on_delete=models.PROTECT, related_name="loans", verbose_name=_("amenity"))
    # The amenity's kind, copied: the one-open-loan rule and a return at another center go by it.
    kind = models.CharField(_("kind"), max_length=24, choices=AmenityKind.choices)
    borrower_name = models.CharField(_("borrower"), max_length=60)
    borrower_phone = models.CharField(_("phone"), max_length=20, help_text=_("E.164."))
    deposit = models.DecimalField(_("deposit"), **MONEY)
    payment_method = models.CharField(_("payment method"), max_length=16, choices=PaymentMethod.choices, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AmenityLoanStatus.choices, default=AmenityLoanStatus.OUT
    )
    lent_at = models.DateTimeField(_("lent at"))
    due_back_at = models.DateTimeField(_("due back"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_at_center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("returned at center"),
    )
    lost_at = models.DateTimeField(_("marked lost at"), null=True, blank=True)
    # Set once by the overdue reminder job (compare-and-set), so the borrower gets one SMS per loan.
    reminded_at = models.DateTimeField(_("overdue reminder sent at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lent by"),
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("returned / marked lost by"),
    )
    actor_label = models.CharField(_("lent by (label)"), max_length=150, blank=True)
    closed_by_label = models.CharField(_("closed by (label)"), max_length=150, blank=True)

    class Meta:
        ordering = ["-lent_at", "-pk"]
        verbose_name = _("amenity loan")
        verbose_name_plural = _("amenity loans")
        indexes = [
            models.Index(fields=["center", "status", "-lent_at"], name="amenity_loan_center_idx"),
            models.Index(fields=["borrower_phone", "kind"], name="amenity_loan_phone_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["borrower_phone", "kind"],
                condition=Q(status=AmenityLoanStatus.OUT),
                name="amenity_one_open_per_phone_kind",
            ),
            models.CheckConstraint(condition=Q(deposit__gte=0), name="amenity_loan_deposit_gte_0"),
            models.CheckConstraint(
                condition=Q(deposit=0) | ~Q(payment_method=""), name="amenity_loan_deposit_has_method"
            ),
            models.CheckConstraint(condition=Q(due_back_at__gt=F("lent_at")), name="amenity_loan_due_after_lent"),
            models.CheckConstraint(
                condition=~Q(status=AmenityLoanStatus.RETURNED)
                | (Q(returned_at__isnull=False) & Q(returned_at_center__isnull=False)),
                name="amenity_loan_returned_has_where_when",
            ),
            models.CheckConstraint(
                condition=~Q(status=AmenityLoanStatus.LOST) | Q(lost_at__isnull=False),
                name="amenity_loan_lost_has_time",
            ),
            models.CheckConstraint(condition=~Q(borrower_phone=""), name="amenity_loan_has_phone"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.center_id}"

    @property
    def is_open(self) -> bool:
        return self.status == AmenityLoanStatus.OUT


class AmenityStockMove(models.Model):
    """One change of an amenity's shelf count, with why and by whom: the stock history. Written in the transaction
    of the service that changed ``on_hand`` (``amenity_save`` for a count that changed it, ``amenity_lend``,
    ``amenity_return`` at the center where it came back, ``amenity_mark_lost``: ``delta`` 0, the shelf was one
    short since the lend). Never changed or deleted."""

    amenity = models.ForeignKey(
        Amenity, on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("amenity")
    )
    delta = models.IntegerField(_("change"))
    on_hand_after = models.PositiveIntegerField(_("on hand after"))
    reason = models.CharField(_("reason"), max_length=8, choices=AmenityStockReason.choices)
    loan = models.ForeignKey(
        AmenityLoan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_moves",
        verbose_name=_("amenity loan"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    by_label = models.CharField(_("by (label)"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("amenity stock move")
        verbose_name_plural = _("amenity stock moves")
        indexes = [models.Index(fields=["amenity", "-at"], name="amenity_move_amenity_at_idx")]
        constraints = [
            # Each reason moves the shelf the one way it can: a lend takes one, a return puts one back, a loss
            # changes nothing on the shelf, a count changes it (a count that changes nothing is not a move).
            models.CheckConstraint(
                condition=(Q(reason=AmenityStockReason.LEND) & Q(delta=-1))
                | (Q(reason=AmenityStockReason.RETURN) & Q(delta=1))
                | (Q(reason=AmenityStockReason.LOST) & Q(delta=0))
                | (Q(reason=AmenityStockReason.COUNT) & ~Q(delta=0)),
                name="amenity_move_delta_fits_reason",
            ),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0), name="amenity_move_on_hand_after_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.amenity_id} {self.reason} {self.delta:+d} -> {self.on_hand_after}"
