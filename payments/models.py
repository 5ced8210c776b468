"""Money at the counter (issue #19): what is due, what was paid and refunded, and the ledger.

The foundation every money feature stands on:

- ``Charge``: one amount due for a *subject* (a repair ticket, a loan or a plan order), with the
  part of it a manager waived (who, why, when).
- ``Payment``: money received for a subject by one method, through one provider; ``refunded``
  is the running total of its successful refunds, kept in step by the services.
- ``Refund``: money given back from one payment, to its method (cash from the drawer).
- ``LedgerEntry``: the append-only ledger per subject (due, waived, paid, refunded); balances are
  sums over it, and the services write it in the same transaction as the row it describes.
- ``ProviderNotification``: every signed notification a provider sent, kept once per provider
  notification id (a repeated one is recognised and answered without acting twice).

The database holds the invariants: amounts are positive, a payment is never refunded beyond what it
took, a waiver never exceeds its charge, one subject per row, one payment per provider transaction,
one charge per source (a quote is charged once).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .choices import ChargeKind, EntryKind, Method, PaymentStatus, RefundStatus

MONEY = {"max_digits": 10, "decimal_places": 2}

# Exactly one subject: a ticket, a loan, a plan order or an amenity loan.
_ONE_SUBJECT = (
    Q(ticket__isnull=False, loan__isnull=True, plan_purchase__isnull=True, amenity_loan__isnull=True)
    | Q(ticket__isnull=True, loan__isnull=False, plan_purchase__isnull=True, amenity_loan__isnull=True)
    | Q(ticket__isnull=True, loan__isnull=True, plan_purchase__isnull=False, amenity_loan__isnull=True)
    | Q(ticket__isnull=True, loan__isnull=True, plan_purchase__isnull=True, amenity_loan__isnull=False)
)


# A center takes the money, except for a plan bought on the web (online: no center's drawer or terminal).
_CENTER_OR_ONLINE_PLAN = Q(center__isnull=False) | Q(plan_purchase__isnull=False)


class SubjectMixin(models.Model):
    """The ticket, loan, plan order or amenity loan a money row belongs to (exactly one), and its center (none
    online)."""

    center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("center"),
    )
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    loan = models.ForeignKey(
        "loaners.Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("loan")
    )
    plan_purchase = models.ForeignKey(
        "warranty.PlanPurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan order"),
    )
    # An umbrella or power bank lent at the desk against a deposit (issue #22).
    amenity_loan = models.ForeignKey(
        "loaners.AmenityLoan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("amenity loan"),
    )

    class Meta:
        abstract = True


class Charge(SubjectMixin):
    kind = models.CharField(_("kind"), max_length=16, choices=ChargeKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    # Where the amount comes from, e.g. "quote:42" or "loan:7:deposit": the same source is charged once.
    source = models.CharField(_("source"), max_length=64, blank=True)
    waived = models.DecimalField(_("waived"), **MONEY, default=Decimal("0.00"))
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waived by"),
    )
    waive_reason = models.TextField(_("waive reason"), blank=True)
    waived_at = models.DateTimeField(_("waived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("amount due")
        verbose_name_plural = _("amounts due")
        indexes = [models.Index(fields=["center", "created_at"], name="charge_center_created_idx")]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="charge_one_subject"),
            models.CheckConstraint(condition=_CENTER_OR_ONLINE_PLAN, name="charge_center_or_online_plan"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_gt_0"),
            models.CheckConstraint(condition=Q(waived__gte=0) & Q(waived__lte=F("amount")), name="charge_waived_range"),
            models.CheckConstraint(condition=Q(waived=0) | ~Q(waive_reason=""), name="charge_waiver_has_reason"),
            models.UniqueConstraint(fields=["source"], condition=~Q(source=""), name="charge_one_per_source"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Payment(SubjectMixin):
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    # The provider that took it: "sandbox", "wechat_pay", "alipay", or "counter" for cash and terminal cards.
    provider = models.CharField(_("provider"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount = models.DecimalField(_("amount"), **MONEY)
    refunded = models.DecimalField(_("refunded"), **MONEY, default=Decimal("0.00"))
    # Our order number sent to the provider (out_trade_no) and the provider's transaction id once settled.
    order_no = models.CharField(_("order number"), max_length=32, unique=True)
    provider_txn_id = models.CharField(_("provider transaction id"), max_length=64, blank=True)
    # Card terminal reference, or what the cashier noted.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    # What the customer scans (WeChat code_url / Alipay qr_code) while the payment is pending.
    qr_payload = models.CharField(_("QR payload"), max_length=512, blank=True)
    receipt_no = models.CharField(_("receipt number"), max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["center", "succeeded_at"], name="payment_center_paid_idx"),
            models.Index(fields=["ticket", "status"], name="payment_ticket_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="payment_one_subject"),
            models.CheckConstraint(condition=_CENTER_OR_ONLINE_PLAN, name="payment_center_or_online_plan"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0) & Q(refunded__lte=F("amount")), name="payment_refunded_lte_paid"
            ),
            models.CheckConstraint(
                condition=Q(refunded=0) | Q(status=PaymentStatus.SUCCEEDED), name="payment_refund_only_succeeded"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_txn_id"],
                condition=~Q(provider_txn_id=""),
                name="payment_one_per_provider_txn",
            ),
            models.UniqueConstraint(fields=["receipt_no"], condition=~Q(receipt_no=""), name="payment_unique_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.order_no} {self.get_method_display()} {self.amount}"


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    refund_no = models.CharField(_("refund number"), max_length=32, unique=True)
    provider_refund_id = models.CharField(_("provider refund id"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refunded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
            models.CheckConstraint(condition=~Q(reason=""), name="refund_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_no} {self.amount}"


class LedgerEntry(SubjectMixin):
    """One line of a subject's money ledger; append-only, written only by ``payments.services``."""

    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    charge = models.ForeignKey(
        Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("amount due")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("payment")
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("refund")
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["center", "at"], name="ledger_center_at_idx"),
            models.Index(fields=["ticket", "kind"], name="ledger_ticket_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="ledger_one_subject"),
            models.CheckConstraint(condition=_CENTER_OR_ONLINE_PLAN, name="ledger_center_or_online_plan"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_gt_0"),
            models.CheckConstraint(
                condition=(
                    (Q(kind=EntryKind.DUE) & Q(charge__isnull=False))
                    | (Q(kind=EntryKind.WAIVED) & Q(charge__isnull=False))
                    | (Q(kind=EntryKind.PAID) & Q(payment__isnull=False))
                    | (Q(kind=EntryKind.REFUNDED) & Q(refund__isnull=False))
                ),
                name="ledger_entry_names_its_row",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class ProviderNotification(models.Model):
    """A payment or refund notification a provider sent, kept once per (provider, notification id)."""

    provider = models.CharField(_("provider"), max_length=16)
    notification_id = models.CharField(_("notification id"), max_length=128)
    payload = models.JSONField(_("payload"), default=dict)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payment")
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    result = models.CharField(_("result"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("provider notification")
        verbose_name_plural = _("provider notifications")
        constraints = [
            models.UniqueConstraint(fields=["provider", "notification_id"], name="provider_notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.notification_id}"
