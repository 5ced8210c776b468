from django.db import models
from django.utils.translation import gettext_lazy as _


class Leg(models.TextChoices):
    CUSTOMER_TO_HUB = "customer_to_hub", _("Customer to hub")
    HUB_TO_CUSTOMER = "hub_to_customer", _("Hub to customer")
    COLLECTION_POINT_TO_CENTER = "collection_point_to_center", _("Collection point to center")
    CENTER_TO_COLLECTION_POINT = "center_to_collection_point", _("Center to collection point")


class ShipmentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class ShipmentEventKind(models.TextChoices):
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")


# Events where the device changes hands: the seal/bag number is checked there.
HANDOVER_EVENTS = (ShipmentEventKind.PICKED_UP, ShipmentEventKind.DELIVERED)

# event -> statuses it may follow
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    ShipmentEventKind.PICKED_UP: (ShipmentStatus.CREATED,),
    ShipmentEventKind.IN_TRANSIT: (ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT),
    ShipmentEventKind.DELIVERED: (ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT),
}


# Couriers by the name stored on a shipment (and on the courier partner) -> their name in the page's language.
# A name not listed here is shown as it was stored.
CARRIER_LABELS = {
    "sf_express": _("SF Express"),
    "sf express": _("SF Express"),
    "顺丰速运": _("SF Express"),
    "顺丰": _("SF Express"),
    "jd logistics": _("JD Logistics"),
    "京东物流": _("JD Logistics"),
    "ems": _("EMS"),
    "china post ems": _("EMS"),
    "中国邮政ems": _("EMS"),
    "zto express": _("ZTO Express"),
    "中通快递": _("ZTO Express"),
    "yto express": _("YTO Express"),
    "圆通速递": _("YTO Express"),
}


def carrier_label(courier: str) -> str:
    """A courier's name in the active language (as stored when unknown; empty stays empty)."""
    key = " ".join((courier or "").split()).lower()
    label = CARRIER_LABELS.get(key)
    return str(label) if label is not None else (courier or "")


class CallOutcome(models.TextChoices):
    """What a progress call to a mail-in customer came to."""

    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    CALL_BACK = "call_back", _("Call back later")


# Stages a center may choose to call mail-in customers at (the default: when the device arrived, and when the
# quote waits for approval, and when it is on its way back).
CALL_STAGES = (
    "received",
    "diagnosing",
    "awaiting_approval",
    "awaiting_parts",
    "repairing",
    "quality_check",
    "ready",
    "returning",
    "delivered",
)
DEFAULT_CALL_STAGES = ["received", "awaiting_approval", "returning"]
