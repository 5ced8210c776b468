"""三包 inspections and decisions (issue #23): what the center found, what the customer got, and why.

An ``Inspection`` is the center's finding on a ticket (a performance fault, or an excluded cause); a
``ReturnDecision`` is the one decision of a ticket (return, exchange or repair) with the rule applied
(the day N of the N-day window, counted in Asia/Shanghai from ``Device.sold_at``: ``warranty.dates``).
Both are append-only: a decision is never edited (one per ticket, a database constraint).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from warranty.choices import Exclusion

from .choices import DecisionKind, MakerStatus, RefundStatus


class Inspection(models.Model):
    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="inspections", verbose_name=_("ticket")
    )
    performance_fault = models.BooleanField(
        _("performance fault confirmed"),
        help_text=_("The fault is in the device's own performance (not caused by the customer)."),
    )
    exclusion = models.CharField(_("excluded cause found"), max_length=32, choices=Exclusion.choices, blank=True)
    findings = models.CharField(_("findings"), max_length=500)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspector"),
    )
    actor_label = models.CharField(_("inspected by"), max_length=150, blank=True)
    at = models.DateTimeField(_("inspected at"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("三包 inspection")
        verbose_name_plural = _("三包 inspections")
        constraints = [
            # A performance fault and an excluded cause exclude each other.
            models.CheckConstraint(
                condition=models.Q(performance_fault=False) | models.Q(exclusion=""),
                name="inspection_fault_or_exclusion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} @ {self.at:%Y-%m-%d %H:%M}"


class ReturnDecision(models.Model):
    ticket = models.OneToOneField(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="return_decision", verbose_name=_("ticket")
    )
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspection"))
    kind = models.CharField(_("decision"), max_length=16, choices=DecisionKind.choices)
    reason = models.CharField(_("reason"), max_length=500)
    # The rule applied, in words and as data: "day 5 of the 7-day return period".
    rule = models.CharField(_("rule applied"), max_length=32)
    rule_text = models.CharField(_("rule applied (words)"), max_length=300)
    day = models.PositiveIntegerField(_("day since sale"))
    window_days = models.PositiveIntegerField(_("window (days)"), null=True, blank=True)
    sold_at = models.DateTimeField(_("sold at"))
    claimed_at = models.DateTimeField(_("claimed at"), help_text=_("When the customer raised the fault."))
    device = models.ForeignKey(
        "warranty.Device", on_delete=models.PROTECT, related_name="return_decisions", verbose_name=_("device")
    )
    replacement = models.OneToOneField(
        "warranty.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replacement device"),
    )
    refund_amount = models.DecimalField(_("amount to refund"), max_digits=10, decimal_places=2, null=True, blank=True)
    refund_status = models.CharField(
        _("refund"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.NONE
    )
    refund_reference = models.CharField(_("refund reference"), max_length=64, blank=True)
    maker_status = models.CharField(
        _("returned device"), max_length=16, choices=MakerStatus.choices, default=MakerStatus.NONE
    )
    maker_batch_reference = models.CharField(_("maker return batch"), max_length=64, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by (user)"),
    )
    actor_label = models.CharField(_("decided by"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("decided at"))

    class Meta:
        ordering = ["-decided_at", "-pk"]
        verbose_name = _("三包 decision")
        verbose_name_plural = _("三包 decisions")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="return") | models.Q(refund_amount__gt=0),
                name="return_decision_has_refund",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="exchange") | models.Q(replacement__isnull=False),
                name="exchange_decision_has_replacement",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="return") | models.Q(refund_status="none"),
                name="only_return_decision_refunds",
            ),
        ]
        indexes = [models.Index(fields=["maker_status", "decided_at"], name="returndecision_maker_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ticket_id}"
