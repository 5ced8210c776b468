from django.db import models
from django.utils.translation import gettext_lazy as _


class Method(models.TextChoices):
    """How the customer pays (the same codes as ``loaners.choices.PaymentMethod`` and the API)."""

    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class ChargeKind(models.TextChoices):
    REPAIR = "repair", _("Repair")
    DEPOSIT = "deposit", _("Loaner deposit")
    LATE_FEE = "late_fee", _("Late fee")
    DEDUCTION = "deduction", _("Deduction")
    PLAN = "plan", _("Protection plan")
    AMENITY_DEPOSIT = "amenity_deposit", _("Amenity deposit")
    OTHER = "other", _("Other")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class EntryKind(models.TextChoices):
    """The four columns of the ledger: what is owed, what was let off, what came in, what went back."""

    DUE = "due", _("Due")
    WAIVED = "waived", _("Waived")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
