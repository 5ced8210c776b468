from django.db import models
from django.utils.translation import gettext_lazy as _

from centers.choices import DeviceCategory  # noqa: F401  (re-exported: the catalog's categories)


class Tier(models.TextChoices):
    FLAGSHIP = "flagship", _("Flagship")
    STANDARD = "standard", _("Standard")


class SaleChannel(models.TextChoices):
    RETAIL = "retail", _("Retail store")
    ONLINE = "online", _("Online store")
    OPERATOR = "operator", _("Carrier / operator")
    OTHER = "other", _("Other")
    UNREGISTERED = "unregistered", _("Registered at check-in")


class Exclusion(models.TextChoices):
    """Conditions that void free (warranty) repair for a fault."""

    ACCIDENTAL_DAMAGE = "accidental_damage", _("Accidental damage (drop, impact, crushed)")
    LIQUID_DAMAGE = "liquid_damage", _("Liquid damage")
    UNAUTHORIZED_DISASSEMBLY = "unauthorized_disassembly", _("Disassembled or repaired by an unauthorized party")
    COSMETIC_WEAR = "cosmetic_wear", _("Cosmetic wear (scratches, dents, fading)")


class Component(models.TextChoices):
    """What part of the purchase a statutory repair period applies to."""

    MAIN_UNIT = "main_unit", _("Main unit")
    BATTERY = "battery", _("Battery")
    CHARGER = "charger", _("Charger")
    CABLE = "cable", _("Data cable")
    EARPHONES = "earphones", _("Earphones")


class PlanKind(models.TextChoices):
    EXTENDED_WARRANTY = "extended_warranty", _("Extended warranty")
    SCREEN_CARE = "screen_care", _("Screen care")
    CARE_PLUS = "care_plus", _("Care+ (warranty and accidental damage)")
    BATTERY_CARE = "battery_care", _("Battery care")


# Plan kinds that act as a repair warranty (free repair of non-excluded main-unit faults) while in force.
WARRANTY_PLAN_KINDS = (PlanKind.EXTENDED_WARRANTY, PlanKind.CARE_PLUS)


class PurchaseChannel(models.TextChoices):
    STORE = "store", _("Service store counter")
    WEB = "web", _("Web")
    PARTNER = "partner", _("Partner (retailer)")


class PurchaseStatus(models.TextChoices):
    # A web order waiting for its payment (WeChat Pay / Alipay): covers nothing until paid, then ``active``.
    PENDING = "pending", _("Awaiting payment")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    USED_UP = "used_up", _("All claims used")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class ClaimStatus(models.TextChoices):
    ACTIVE = "active", _("Used")
    RELEASED = "released", _("Given back (repair cancelled)")


class PurchaseAction(models.TextChoices):
    PURCHASE = "purchase", _("Purchased")
    ORDER = "order", _("Ordered, awaiting payment")
    CLAIM_USE = "claim_use", _("Claim used")
    CLAIM_RELEASE = "claim_release", _("Claim given back")
    REFUND = "refund", _("Refunded")
    CANCEL = "cancel", _("Cancelled")
    EXPIRE = "expire", _("Expired")


class NotEligibleReason(models.TextChoices):
    """The ``reason`` of a 422 ``not_eligible`` answer (stable, machine-readable)."""

    NOT_ON_SALE = "not_on_sale", _("The plan is not on sale.")
    MODEL_NOT_ELIGIBLE = "model_not_eligible", _("The plan is not available for this device model.")
    WINDOW_PASSED = "window_passed", _("The purchase window for this plan has passed.")
    ALREADY_ACTIVE = "already_active", _("The same plan is already active on this device.")
    NO_SALE_DATE = "no_sale_date", _("The device's sale date is unknown.")
    NO_PRICE = "no_price", _("The plan has no price for this device's tier.")
    WARRANTY_ENDED = "warranty_ended", _("The statutory warranty has already ended.")
    NOT_ACTIVE = "not_active", _("The plan is not active.")
    NOT_STARTED = "not_started", _("The plan has not started yet.")
    EXPIRED = "expired", _("The plan has expired.")
    NO_CLAIMS_LEFT = "no_claims_left", _("No claims are left on this plan.")
    OTHER_DEVICE = "other_device", _("The plan belongs to another device.")
    CLAIM_USED = "claim_used", _("A claim of this plan was used.")
    COOLING_OFF_PASSED = "cooling_off_passed", _("The cooling-off period has passed.")
