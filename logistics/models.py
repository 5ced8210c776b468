"""Shipments of devices between customers, collection points, centers and hubs, with their custody chain.

docs/design.md places shipments with repairs; they live here because the repairs app
was being built in parallel. A ``Shipment`` is one leg; its ``ShipmentEvent`` rows
(append-only) are the chain of custody.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import CallOutcome, Leg, ShipmentEventKind, ShipmentStatus


class Shipment(models.Model):
    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("ticket")
    )
    leg = models.CharField(_("leg"), max_length=32, choices=Leg.choices)
    courier = models.CharField(_("courier"), max_length=120, blank=True)
    # The courier partner whose key may post this shipment's events (and only its own).
    courier_partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("courier partner"),
    )
    tracking_no = models.CharField(_("tracking number"), max_length=64, blank=True)
    seal_no = models.CharField(_("seal / bag number"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.CREATED
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    # When the courier comes to the door (mail-in pickup): told to the customer by SMS.
    pickup_from = models.DateTimeField(_("pickup from"), null=True, blank=True)
    pickup_until = models.DateTimeField(_("pickup until"), null=True, blank=True)
    origin_center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from"),
    )
    destination_center = models.ForeignKey(
        "centers.ServiceCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            # One open shipment per ticket and leg: a retry of the booking never sends two couriers.
            models.UniqueConstraint(
                fields=["ticket", "leg"],
                condition=~models.Q(status__in=["delivered", "cancelled"]),
                name="one_open_shipment_per_ticket_leg",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="delivered") | models.Q(delivered_at__isnull=False),
                name="delivered_shipment_has_time",
            ),
        ]
        indexes = [models.Index(fields=["courier_partner", "status"], name="shipment_courier_status_idx")]

    def __str__(self) -> str:
        return f"{self.get_leg_display()} {self.tracking_no or self.pk}"

    @property
    def courier_display(self) -> str:
        """The courier's name in the active language (``logistics.choices.carrier_label``)."""
        from .choices import carrier_label

        return carrier_label(self.courier)


class ShipmentEvent(models.Model):
    """One step of the custody chain (append-only)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="events", verbose_name=_("shipment"))
    event = models.CharField(_("event"), max_length=16, choices=ShipmentEventKind.choices)
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))
    tracking_no = models.CharField(_("tracking number"), max_length=64, blank=True)
    seal_no = models.CharField(_("seal / bag number"), max_length=64, blank=True)
    # True when the seal was checked against the one recorded at pickup; None when not checked.
    seal_ok = models.BooleanField(_("seal intact"), null=True)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("partner")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_label = models.CharField(max_length=150, blank=True, verbose_name=_("actor label"))
    ticket_action = models.CharField(
        _("ticket moved by"), max_length=32, blank=True, help_text=_("The ticket transition this event triggered.")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The courier's own id of this status (a route push row): a push delivered twice records it once.
    external_id = models.CharField(_("courier event id"), max_length=80, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        indexes = [models.Index(fields=["shipment", "at"], name="shipevent_shipment_at_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~models.Q(external_id=""), name="shipevent_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.event} @ {self.at:%Y-%m-%d %H:%M}"


def _default_call_stages() -> list[str]:
    from .choices import DEFAULT_CALL_STAGES

    return list(DEFAULT_CALL_STAGES)


class ProgressCallPlan(models.Model):
    """The stages at which a center's front desk calls its mail-in customers (one row per center)."""

    center = models.OneToOneField(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="progress_call_plan", verbose_name=_("center")
    )
    stages = models.JSONField(_("call at the stages"), default=_default_call_stages)
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("progress call plan")
        verbose_name_plural = _("progress call plans")

    def __str__(self) -> str:
        return str(self.center)


class ProgressCall(models.Model):
    """One call to a mail-in customer about their repair, at the stage the ticket was in (append-only)."""

    ticket = models.ForeignKey(
        "repairs.RepairTicket", on_delete=models.PROTECT, related_name="progress_calls", verbose_name=_("ticket")
    )
    stage = models.CharField(_("stage"), max_length=20)
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("progress call")
        verbose_name_plural = _("progress calls")
        constraints = [
            # The customer is told once per stage: a second "reached" at the same stage is refused.
            models.UniqueConstraint(
                fields=["ticket", "stage"], condition=models.Q(outcome="reached"), name="one_reached_call_per_stage"
            )
        ]
        indexes = [models.Index(fields=["ticket", "stage"], name="progresscall_ticket_stage_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.stage} {self.outcome}"
