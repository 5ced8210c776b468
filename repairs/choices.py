from django.db import models
from django.utils.translation import gettext_lazy as _


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
    CLOSED = "closed", _("Closed")
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
