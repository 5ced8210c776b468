from django.db import models
from django.utils.translation import gettext_lazy as _


class MoveKind(models.TextChoices):
    """What a stock ledger row records (``StockMove.kind``) and which counters it moves."""

    RECEIPT = "receipt", _("Receipt from the maker")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    RESERVE = "reserve", _("Reserved for a ticket")
    RELEASE = "release", _("Reservation released")
    CONSUME = "consume", _("Fitted in a repair")
    RETURN_DEFECTIVE = "return_defective", _("Defective, back to the maker")
    ADJUST = "adjust", _("Adjustment")


class UnitStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    IN_TRANSIT = "in_transit", _("In transit")
    CONSUMED = "consumed", _("Fitted in a device")
    DEFECTIVE = "defective", _("Defective (returned to the maker)")


class ReservationStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    AWAITING = "awaiting", _("Awaiting stock")
    CONSUMED = "consumed", _("Consumed")
    RELEASED = "released", _("Released")


ACTIVE_RESERVATION_STATUSES = (ReservationStatus.RESERVED, ReservationStatus.AWAITING)


class ReplenishmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")


class TransferStatus(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")


class BatchStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SEALED = "sealed", _("Sealed")
    SHIPPED = "shipped", _("Shipped to the maker")
    RECEIVED = "received", _("Received by the maker")


class CountStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    CLOSED = "closed", _("Closed")
