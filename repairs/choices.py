from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TicketStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    RECEIVED = "received", _("Received")
    IN_TRANSIT = "in_transit", _("In transit to the repair center")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for your approval")
    AWAITING_PARTS = "awaiting_parts", _("Waiting for parts")
    REPAIRING = "repairing", _("Repairing")
    QUALITY_CHECK = "quality_check", _("Quality check")
    READY = "ready", _("Ready for pickup")
    RETURNING = "returning", _("On its way back to you")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")  # not the opening hours' "Closed"
    CANCELLED = "cancelled", _("Cancelled")


# Statuses in which the device is in the network's hands (a loaner may be out).
OPEN_STATUSES = (
    TicketStatus.RECEIVED,
    TicketStatus.IN_TRANSIT,
    TicketStatus.DIAGNOSING,
    TicketStatus.AWAITING_APPROVAL,
    TicketStatus.AWAITING_PARTS,
    TicketStatus.REPAIRING,
    TicketStatus.QUALITY_CHECK,
    TicketStatus.READY,
)
TERMINAL_STATUSES = (TicketStatus.CLOSED, TicketStatus.CANCELLED)


class Channel(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    APPOINTMENT = "appointment", _("Appointment")
    MAIL_IN = "mail_in", _("Mail-in")
    ON_SITE = "on_site", _("On-site")
    COLLECTION_POINT = "collection_point", _("Collection point")


class FaultCategory(models.TextChoices):
    SCREEN = "screen", _("Screen")
    BATTERY = "battery", _("Battery")
    MAINBOARD = "mainboard", _("Mainboard")
    CAMERA = "camera", _("Camera")
    CHARGING_PORT = "charging_port", _("Charging port")
    LIQUID_DAMAGE = "liquid_damage", _("Liquid damage")
    SOFTWARE = "software", _("Software")
    OTHER = "other", _("Other")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class Action(models.TextChoices):
    """The verbs of the ticket state machine (``repairs.services.ticket_transition``)."""

    CHECK_IN = "check_in", _("Check in")
    FORWARD = "forward", _("Forward to the hub")
    RECEIVE_AT_HUB = "receive_at_hub", _("Receive at the hub")
    START_DIAGNOSIS = "start_diagnosis", _("Start diagnosis")
    SEND_QUOTE = "send_quote", _("Send quote")
    APPROVE = "approve", _("Approve quote")
    DECLINE = "decline", _("Decline quote")
    AWAIT_PARTS = "await_parts", _("Wait for parts")
    PARTS_ARRIVED = "parts_arrived", _("Parts arrived")
    START_REPAIR = "start_repair", _("Start repair")
    FINISH = "finish", _("Finish repair")
    QC_PASS = "qc_pass", _("Pass quality check")
    QC_FAIL = "qc_fail", _("Fail quality check")
    HAND_OVER = "hand_over", _("Hand over to the customer")
    SHIP_BACK = "ship_back", _("Ship back")
    DELIVER = "deliver", _("Delivered by courier")
    CLOSE = "close", _("Close")
    CANCEL = "cancel", _("Cancel")
    NO_SHOW = "no_show", _("Customer did not come")
    # 三包 decisions (issue #23): applied only by ``returns.services.return_decide`` (its guard refuses others).
    EXCHANGE = "exchange", _("Exchange the device (statutory)")
    STATUTORY_RETURN = "statutory_return", _("Take the device back with a refund (statutory)")


class RepairKind(models.TextChoices):
    """Repair operation codes of the catalog (one operation per kind and device model)."""

    SCREEN = "screen", _("Screen replacement")
    BATTERY = "battery", _("Battery replacement")
    MAINBOARD = "mainboard", _("Mainboard replacement")
    CAMERA = "camera", _("Rear camera replacement")
    BACK_COVER = "back_cover", _("Back cover replacement")
    CHARGING_PORT = "charging_port", _("Charging port replacement")
    SOFTWARE = "software", _("Software restore")


# The fault a repair operation fixes (drives warranty exclusions and the repair warranty).
REPAIR_FAULT = {
    RepairKind.SCREEN: FaultCategory.SCREEN,
    RepairKind.BATTERY: FaultCategory.BATTERY,
    RepairKind.MAINBOARD: FaultCategory.MAINBOARD,
    RepairKind.CAMERA: FaultCategory.CAMERA,
    RepairKind.BACK_COVER: FaultCategory.OTHER,
    RepairKind.CHARGING_PORT: FaultCategory.CHARGING_PORT,
    RepairKind.SOFTWARE: FaultCategory.SOFTWARE,
}


class PartGrade(models.TextChoices):
    NEW = "new", _("New original part")
    REFURBISHED = "refurbished", _("Refurbished original part (90-day warranty)")


class QuoteStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    AUTO_APPROVED = "auto_approved", _("Free of charge (no approval needed)")
    DECLINED = "declined", _("Declined")
    SUPERSEDED = "superseded", _("Replaced by a revised quote")
    CANCELLED = "cancelled", _("Cancelled")


# Default stage targets in minutes, used when no StageSLA row overrides them.
# ``received``: diagnosis starts within 1 hour of receipt; ``repairing``: quick repairs within 1 hour.
DEFAULT_STAGE_SLA_MINUTES: dict[str, int] = {
    TicketStatus.RECEIVED: 60,
    TicketStatus.IN_TRANSIT: 48 * 60,
    TicketStatus.DIAGNOSING: 60,
    TicketStatus.AWAITING_APPROVAL: 48 * 60,
    TicketStatus.AWAITING_PARTS: 72 * 60,
    TicketStatus.REPAIRING: 60,
    TicketStatus.QUALITY_CHECK: 30,
    TicketStatus.READY: 7 * 24 * 60,
    TicketStatus.RETURNING: 72 * 60,
    TicketStatus.DELIVERED: 7 * 24 * 60,
}


# Typical bench time of a repair operation (``RepairOperation.typical_minutes`` overrides it per model), and of a
# fault that no catalog operation names; what ``repairs.promise`` builds the promised completion time from.
TYPICAL_MINUTES_BY_KIND: dict[str, int] = {
    RepairKind.SCREEN: 60,
    RepairKind.BATTERY: 40,
    RepairKind.MAINBOARD: 240,
    RepairKind.CAMERA: 60,
    RepairKind.BACK_COVER: 45,
    RepairKind.CHARGING_PORT: 60,
    RepairKind.SOFTWARE: 30,
}
TYPICAL_MINUTES_BY_FAULT: dict[str, int] = {
    FaultCategory.SCREEN: 60,
    FaultCategory.BATTERY: 40,
    FaultCategory.MAINBOARD: 240,
    FaultCategory.CAMERA: 60,
    FaultCategory.CHARGING_PORT: 60,
    FaultCategory.LIQUID_DAMAGE: 480,
    FaultCategory.SOFTWARE: 30,
    FaultCategory.OTHER: 120,
}
# Stages in which the repair clock pauses (the ticket waits on someone else) and which counter they fill.
PAUSE_STAGES: dict[str, str] = {
    TicketStatus.AWAITING_APPROVAL: "paused_customer_minutes",
    TicketStatus.AWAITING_PARTS: "paused_parts_minutes",
}
