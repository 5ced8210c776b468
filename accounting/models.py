"""Models of accounting (docs/architecture.md: data and the invariants the database can hold).

- ``FapiaoRequest``: a customer's request for an electronic fapiao (电子发票) for what was paid for a
  subject (a repair ticket or a plan order), and its outcome from the invoicing provider.
- ``DailyClose`` / ``DailyCloseLine`` / ``DailyCloseHistory``: a center's business day, closed once
  against the payments ledger: one line per payment method (expected from the ledger, counted cash or the
  provider's settlement total, the difference and its reason); re-opened only by HQ, with a reason; every
  close and re-open is a history row.
- ``RevenueReport``: no table; puts the HQ revenue dashboard on the admin index (like ``ops.HQ``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.choices import Method

from .choices import BuyerType, CloseAction, CloseStatus, FapiaoStatus, RequestedVia

MONEY = {"max_digits": 10, "decimal_places": 2}

_ONE_SUBJECT = Q(ticket__isnull=False, plan_purchase__isnull=True) | Q(ticket__isnull=True, plan_purchase__isnull=False)
# A request counts as open in every status we have: a failed one is retried, not asked for again.
_OPEN = Q(status__in=[FapiaoStatus.REQUESTED, FapiaoStatus.ISSUED, FapiaoStatus.FAILED])


class FapiaoRequest(models.Model):
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    plan_purchase = models.ForeignKey(
        "warranty.PlanPurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan order"),
    )
    buyer_type = models.CharField(_("buyer type"), max_length=16, choices=BuyerType.choices)
    title = models.CharField(_("invoice title"), max_length=100)
    # 统一社会信用代码 (18 characters), normalised to upper case; required for companies.
    tax_number = models.CharField(_("tax number"), max_length=18, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # What was paid for the subject net of refunds when the request was made.
    amount = models.DecimalField(_("amount"), **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=FapiaoStatus.choices, default=FapiaoStatus.REQUESTED)
    provider = models.CharField(_("provider"), max_length=32, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=32, blank=True)
    pdf_url = models.URLField(_("PDF link"), max_length=500, blank=True)
    # The document as the sandbox provider "issues" it (HTML); real providers keep theirs and give a link.
    document = models.TextField(_("document"), blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    requested_via = models.CharField(_("requested via"), max_length=16, choices=RequestedVia.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fapiao request")
        verbose_name_plural = _("fapiao requests")
        indexes = [models.Index(fields=["center", "created_at"], name="fapiao_center_created_idx")]
        constraints = [
            models.CheckConstraint(condition=_ONE_SUBJECT, name="fapiao_one_subject"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fapiao_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(buyer_type=BuyerType.COMPANY) | ~Q(tax_number=""), name="fapiao_company_has_tax_number"
            ),
            models.CheckConstraint(
                condition=~Q(status=FapiaoStatus.ISSUED) | (~Q(invoice_number="") & Q(issued_at__isnull=False)),
                name="fapiao_issued_has_number",
            ),
            models.UniqueConstraint(
                fields=["ticket"], condition=_OPEN & Q(ticket__isnull=False), name="fapiao_one_open_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["plan_purchase"],
                condition=_OPEN & Q(plan_purchase__isnull=False),
                name="fapiao_one_open_per_plan_order",
            ),
            models.UniqueConstraint(
                fields=["provider", "invoice_number"], condition=~Q(invoice_number=""), name="fapiao_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.amount} ({self.status})"


class DailyClose(models.Model):
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    business_date = models.DateField(_("business date"))
    status = models.CharField(_("status"), max_length=16, choices=CloseStatus.choices, default=CloseStatus.OPEN)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("daily close")
        verbose_name_plural = _("daily closes")
        ordering = ["-business_date", "center_id"]
        constraints = [
            models.UniqueConstraint(fields=["center", "business_date"], name="daily_close_once_per_day"),
            models.CheckConstraint(
                condition=~Q(status=CloseStatus.CLOSED) | Q(closed_at__isnull=False), name="daily_close_closed_at"
            ),
        ]
        indexes = [models.Index(fields=["business_date", "center"], name="daily_close_date_center_idx")]

    def __str__(self) -> str:
        return f"{self.center_id} {self.business_date} ({self.status})"


class DailyCloseLine(models.Model):
    """One payment method of a closed day. ``actual`` is the counted cash or the provider's settlement total."""

    close = models.ForeignKey(DailyClose, on_delete=models.PROTECT, related_name="lines", verbose_name=_("close"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    expected = models.DecimalField(_("expected"), **MONEY)
    actual = models.DecimalField(_("counted / settled"), **MONEY)
    difference = models.DecimalField(_("difference"), **MONEY)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("daily close line")
        verbose_name_plural = _("daily close lines")
        constraints = [
            models.UniqueConstraint(fields=["close", "method"], name="daily_close_line_once_per_method"),
            models.CheckConstraint(
                condition=Q(difference=Decimal("0")) | ~Q(reason=""), name="daily_close_line_difference_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.expected} / {self.actual}"


class DailyCloseHistory(models.Model):
    """Append-only: each close and re-open of a day, by whom and why."""

    close = models.ForeignKey(DailyClose, on_delete=models.PROTECT, related_name="history", verbose_name=_("close"))
    action = models.CharField(_("action"), max_length=16, choices=CloseAction.choices)
    actor = models.CharField(_("by"), max_length=150)
    reason = models.TextField(_("reason"), blank=True)
    # What the lines said at that moment, so a re-open keeps the earlier figures.
    snapshot = models.JSONField(_("figures"), default=list)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("daily close history")
        verbose_name_plural = _("daily close history")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action=CloseAction.REOPENED) | ~Q(reason=""), name="daily_close_reopen_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"


class RevenueReport(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("revenue dashboard")
        verbose_name_plural = _("revenue dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
