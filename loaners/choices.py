from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LoanerCondition(models.TextChoices):
    NEW = "new", _("New")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    DAMAGED = "damaged", _("Damaged")


class LoanerStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    OUT = "out", _("Lent out")
    MAINTENANCE = "maintenance", _("Maintenance")
    TRANSFERRING = "transferring", _("Transferring")
    RETIRED = "retired", _("Retired")


class LoanStatus(models.TextChoices):
    OUT = "out", _("Out")
    RETURNED = "returned", _("Returned")
    OVERDUE = "overdue", _("Overdue")
    LOST = "lost", _("Lost")


# A loan in one of these still has the loaner with the customer.
OPEN_LOAN_STATUSES = (LoanStatus.OUT, LoanStatus.OVERDUE)


class ReturnCondition(models.TextChoices):
    """What the counter finds when the loaner comes back (the API's ``condition``)."""

    OK = "ok", _("OK")
    DAMAGED = "damaged", _("Damaged")
    MISSING_ACCESSORIES = "missing_accessories", _("Accessories missing")
    LOST = "lost", _("Lost (not returned)")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")


class EntryKind(models.TextChoices):
    HOLD = "hold", _("Deposit held")
    REFUND = "refund", _("Refund")
    DEDUCTION = "deduction", _("Deduction")


class DeductionKind(models.TextChoices):
    DAMAGE = "damage", _("Damage")
    MISSING_ACCESSORY = "missing_accessory", _("Missing accessory")
    LATE_FEE = "late_fee", _("Late fee")
    LOSS = "loss", _("Loss (replacement value)")


class LoanerAction(models.TextChoices):
    REGISTER = "register", _("Registered")
    LEND = "lend", _("Lent")
    RETURN = "return", _("Returned")
    OVERDUE = "overdue", _("Loan overdue")
    LOST = "lost", _("Lost")
    WIPE = "wipe", _("Wiped (factory reset)")
    MAINTENANCE_DONE = "maintenance_done", _("Back from maintenance")
    TRANSFER_SEND = "transfer_send", _("Transfer sent")
    TRANSFER_RECEIVE = "transfer_receive", _("Transfer received")
    RETIRE = "retire", _("Retired")


# --- amenities (issue #22): umbrellas, power banks, reading glasses lent at the desk against a deposit ----


class AmenityKind(models.TextChoices):
    """What kind of thing is lent; the same kind at every center (an umbrella may come back anywhere)."""

    UMBRELLA = "umbrella", _("Umbrella")
    POWER_BANK = "power_bank", _("Power bank")
    READING_GLASSES = "reading_glasses", _("Reading glasses")
    CHARGING_CABLE = "charging_cable", _("Charging cable")
    OTHER = "other", _("Other")


class AmenityStockReason(models.TextChoices):
    """Why an amenity's shelf count moved (``AmenityStockMove``)."""

    COUNT = "count", pgettext_lazy("amenity stock reason", "Counted")
    LEND = "lend", _("Lent")
    RETURN = "return", _("Returned")
    LOST = "lost", _("Lost")


class AmenityLoanStatus(models.TextChoices):
    OUT = "out", _("Out")
    RETURNED = "returned", _("Returned")
    LOST = "lost", _("Lost")
