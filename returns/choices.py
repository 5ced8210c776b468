from django.db import models
from django.utils.translation import gettext_lazy as _


class DecisionKind(models.TextChoices):
    """What the customer gets for a performance fault inside the 三包 windows."""

    RETURN = "return", _("Return with a refund")
    EXCHANGE = "exchange", _("Exchange for a new device")
    REPAIR = "repair", _("Free repair")


class RefundStatus(models.TextChoices):
    NONE = "none", _("No refund")
    PENDING = "pending", _("Refund pending")
    REQUESTED = "requested", _("Refund requested from payments")


class MakerStatus(models.TextChoices):
    """Where the device the customer gave back is (a repair keeps it with the customer)."""

    NONE = "none", _("Stays with the customer")
    SENT_TO_MAKER = "sent_to_maker", _("To be sent to the maker")
    IN_BATCH = "in_batch", _("In a return batch to the maker")


# The rule applied, stable codes (``ReturnDecision.rule``), e.g. "return_within_7_days".
RULE_RETURN = "return_within_days"
RULE_EXCHANGE = "exchange_within_days"
RULE_REPAIR = "repair_within_months"
