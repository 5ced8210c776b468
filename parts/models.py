"""Models of parts (docs/architecture.md: data and the invariants the database can hold).

The stock of a part at a location (a ``ServiceCenter`` of any kind: service center, hub, warehouse) is one
``StockLevel`` row with two counters, ``on_hand`` and ``reserved``; the database refuses any write that would
take either below zero or reserve more than is on hand. Every change of a counter is also one append-only
``StockMove`` row (the ledger) written in the same transaction by ``parts.services``; nothing deletes one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from repairs.choices import PartGrade, RepairKind

from .choices import (
    BatchStatus,
    CountStatus,
    MoveKind,
    ReplenishmentStatus,
    ReservationStatus,
    TransferStatus,
    UnitStatus,
)


class Part(models.Model):
    """A part number of the maker's catalog (one kind and grade, fitting one or more device models)."""

    part_number = models.CharField(_("part number"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=RepairKind.choices)
    grade = models.CharField(_("grade"), max_length=16, choices=PartGrade.choices, default=PartGrade.NEW)
    serial_tracked = models.BooleanField(
        _("serial-tracked"), default=False, help_text=_("Every unit has its own serial (boards, screens).")
    )
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=2)
    device_models = models.ManyToManyField(
        "warranty.DeviceModel", related_name="parts", verbose_name=_("device models"), blank=True
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["part_number"]
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="part_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"  # the staff's language: pickers and lists read "P60-BAT P60 电池"

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").lower().startswith("zh") else self.name_en


class OperationPart(models.Model):
    """Which part a repair operation consumes, per grade (a quote line = operation + grade -> one part)."""

    operation = models.ForeignKey(
        "repairs.RepairOperation", on_delete=models.PROTECT, related_name="+", verbose_name=_("operation")
    )
    grade = models.CharField(_("grade"), max_length=16, choices=PartGrade.choices, default=PartGrade.NEW)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="operations", verbose_name=_("part"))

    class Meta:
        verbose_name = _("part of a repair operation")
        verbose_name_plural = _("parts of repair operations")
        constraints = [models.UniqueConstraint(fields=["operation", "grade"], name="one_part_per_operation_grade")]

    def __str__(self) -> str:
        return f"{self.operation_id}/{self.grade} -> {self.part_id}"


class StockLevel(models.Model):
    """The counters of one part at one location. Written only by ``parts.services`` under its row lock."""

    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("location")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="levels", verbose_name=_("part"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["location_id", "part_id"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["location", "part"], name="one_stock_level_per_location_part"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.part_id}: {self.on_hand} ({self.reserved} reserved)"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockUnit(models.Model):
    """One serial-tracked unit: where it is and what it is doing."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="units", verbose_name=_("part"))
    serial = models.CharField(_("serial"), max_length=64)
    location = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        related_name="stock_units",
        null=True,
        blank=True,
        verbose_name=_("location"),
    )
    status = models.CharField(_("status"), max_length=16, choices=UnitStatus.choices, default=UnitStatus.IN_STOCK)
    transfer = models.ForeignKey(
        "StockTransfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("transfer"),
    )

    class Meta:
        ordering = ["part_id", "serial"]
        verbose_name = _("stock unit")
        verbose_name_plural = _("stock units")
        constraints = [models.UniqueConstraint(fields=["part", "serial"], name="one_unit_per_part_serial")]
        indexes = [models.Index(fields=["location", "part", "status"], name="unit_loc_part_status_idx")]

    def __str__(self) -> str:
        return self.serial


class ReplenishmentRequest(models.Model):
    """A center asks its hub for a part a waiting ticket needs."""

    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="replenishments", verbose_name=_("center")
    )
    hub = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        related_name="replenishments_to_ship",
        null=True,
        blank=True,
        verbose_name=_("hub"),
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=ReplenishmentStatus.choices, default=ReplenishmentStatus.OPEN
    )
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    created_at = models.DateTimeField(_("created at"))
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("replenishment request")
        verbose_name_plural = _("replenishment requests")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="replenishment_quantity_positive")]

    def __str__(self) -> str:
        return f"R{self.pk}"


class StockTransfer(models.Model):
    """Parts shipped from one location to another (a hub to a center), sealed, received at the other end."""

    from_location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="transfers_out", verbose_name=_("from")
    )
    to_location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="transfers_in", verbose_name=_("to")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.PositiveIntegerField(_("quantity"))
    status = models.CharField(
        _("status"), max_length=16, choices=TransferStatus.choices, default=TransferStatus.SHIPPED
    )
    seal_no = models.CharField(_("seal number"), max_length=40)
    replenishment = models.ForeignKey(
        ReplenishmentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers",
        verbose_name=_("replenishment request"),
    )
    shipped_at = models.DateTimeField(_("shipped at"))
    shipped_by_label = models.CharField(_("shipped by"), max_length=150, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by_label = models.CharField(_("received by"), max_length=150, blank=True)

    class Meta:
        ordering = ["-shipped_at", "-pk"]
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
            models.CheckConstraint(condition=~Q(from_location=F("to_location")), name="transfer_between_two_locations"),
        ]

    def __str__(self) -> str:
        return f"T{self.pk}"


class PartReservation(models.Model):
    """A part set aside for a ticket (or awaited for it), then fitted (consumed) or given back (released)."""

    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="part_reservations", verbose_name=_("ticket")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("part"))
    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    status = models.CharField(_("status"), max_length=16, choices=ReservationStatus.choices)
    unit = models.ForeignKey(
        StockUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("unit")
    )
    replenishment = models.ForeignKey(
        ReplenishmentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("replenishment request"),
    )
    fitted_serial = models.CharField(_("serial of the part fitted"), max_length=64, blank=True)
    removed_serial = models.CharField(_("serial of the part removed"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    reserved_at = models.DateTimeField(_("reserved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("consumed or released at"), null=True, blank=True)

    class Meta:
        ordering = ["ticket_id", "pk"]
        verbose_name = _("part reservation")
        verbose_name_plural = _("part reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "part"],
                condition=Q(status__in=["reserved", "awaiting"]),
                name="one_active_reservation_per_ticket_part",
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="reserved"), name="one_active_reservation_per_unit"
            ),
        ]
        indexes = [models.Index(fields=["location", "part", "status"], name="resv_loc_part_status_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.part_id} {self.status}"


class StockMove(models.Model):
    """One row of the append-only stock ledger: what moved, where, why, by whom, and the counters after it."""

    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="stock_moves", verbose_name=_("location")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="moves", verbose_name=_("part"))
    kind = models.CharField(_("kind"), max_length=20, choices=MoveKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Positive; an adjustment may be negative."))
    on_hand_after = models.IntegerField(_("on hand after"))
    reserved_after = models.IntegerField(_("reserved after"))
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    transfer = models.ForeignKey(
        StockTransfer, on_delete=models.PROTECT, null=True, blank=True, related_name="moves", verbose_name=_("transfer")
    )
    unit = models.ForeignKey(
        StockUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="moves", verbose_name=_("unit")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_move_quantity_not_zero"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(kind="adjust"), name="stock_move_only_adjust_negative"
            ),
            models.CheckConstraint(condition=~Q(kind="adjust") | ~Q(reason=""), name="stock_move_adjust_has_reason"),
        ]
        indexes = [models.Index(fields=["location", "part", "kind", "at"], name="move_loc_part_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity}"


class MakerReturnBatch(models.Model):
    """A box of defective parts (and, later, whole devices) going back to the maker (RMA)."""

    code = models.CharField(_("batch number"), max_length=32, unique=True)
    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="return_batches", verbose_name=_("location")
    )
    status = models.CharField(_("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    seal_no = models.CharField(_("seal number"), max_length=40, blank=True)
    tracking_no = models.CharField(_("tracking number"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("return batch to the maker")
        verbose_name_plural = _("return batches to the maker")
        constraints = [
            models.UniqueConstraint(
                fields=["location"], condition=Q(status="open"), name="one_open_batch_per_location"
            ),
            models.CheckConstraint(condition=Q(status="open") | ~Q(seal_no=""), name="closed_batch_has_seal"),
        ]

    def __str__(self) -> str:
        return self.code


class MakerReturnLine(models.Model):
    """One item of a return batch: a part (by serial, or counted) or a whole device (by IMEI)."""

    batch = models.ForeignKey(MakerReturnBatch, on_delete=models.PROTECT, related_name="lines", verbose_name=_("batch"))
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("part")
    )
    serial = models.CharField(_("part serial"), max_length=64, blank=True)
    imei = models.CharField(_("device IMEI"), max_length=20, blank=True)
    ticket = models.ForeignKey(
        "repairs.RepairTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        ordering = ["batch_id", "pk"]
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [
            # A part line names its part; a device line its IMEI, never both.
            models.CheckConstraint(
                condition=(Q(part__isnull=False) & Q(imei="")) | (Q(part__isnull=True) & ~Q(imei="") & Q(serial="")),
                name="return_line_part_or_device",
            ),
        ]

    def __str__(self) -> str:
        return self.serial or self.imei or str(self.part_id)


class ReorderPoint(models.Model):
    """Below ``min_available`` available units the center reorders (``parts.low_stock``, suggested orders)."""

    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="reorder_points", verbose_name=_("location")
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    min_available = models.PositiveIntegerField(_("reorder below"))
    reorder_qty = models.PositiveIntegerField(_("order quantity"), default=1)

    class Meta:
        ordering = ["location_id", "part_id"]
        verbose_name = _("reorder point")
        verbose_name_plural = _("reorder points")
        constraints = [
            models.UniqueConstraint(fields=["location", "part"], name="one_reorder_point_per_location_part"),
            models.CheckConstraint(condition=Q(reorder_qty__gt=0), name="reorder_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.part_id} < {self.min_available}"


class StockCount(models.Model):
    """A physical count of a location's stock; closing it books each variance as an adjustment."""

    location = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="stock_counts", verbose_name=_("location")
    )
    status = models.CharField(_("status"), max_length=16, choices=CountStatus.choices, default=CountStatus.OPEN)
    created_at = models.DateTimeField(_("created at"))
    created_by_label = models.CharField(_("opened by"), max_length=150, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        constraints = [
            models.UniqueConstraint(fields=["location"], condition=Q(status="open"), name="one_open_count_per_location")
        ]

    def __str__(self) -> str:
        return f"C{self.pk}"


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.PROTECT, related_name="lines", verbose_name=_("count"))
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    expected = models.IntegerField(_("on hand when opened"))
    counted = models.IntegerField(_("counted"), null=True, blank=True)

    class Meta:
        ordering = ["count_id", "part_id"]
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        constraints = [
            models.UniqueConstraint(fields=["count", "part"], name="one_count_line_per_part"),
            models.CheckConstraint(condition=Q(counted__isnull=True) | Q(counted__gte=0), name="counted_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.count_id}/{self.part_id}"

    @property
    def variance(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected
