"""Customers, repair tickets and their timeline. Quotes, catalog and shipments are added by the repairs work."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Channel, FaultCategory, Language, TicketStatus


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=100)
    # E.164, normalised by the service (phonenumbers): +8613812345678
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS)
    contact_consent = models.BooleanField(_("agrees to be contacted"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name


class RepairTicket(models.Model):
    """A repair, from booking to closing. ``status`` only changes through ``repairs.services``."""

    service_no = models.CharField(_("service number"), max_length=16, unique=True)
    center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("center")
    )
    # Where the device was handed in when that is not the repairing center (collection point).
    origin_center = models.ForeignKey(
        "centers.ServiceCenter", on_delete=models.PROTECT, null=True, blank=True, related_name="originated_tickets"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    device = models.ForeignKey("warranty.Device", on_delete=models.PROTECT, related_name="tickets")
    fault_category = models.CharField(_("fault"), max_length=20, choices=FaultCategory.choices)
    fault_description = models.TextField(_("fault description"), blank=True)
    accessories = models.JSONField(_("accessories received"), default=list, blank=True)
    appearance_notes = models.TextField(_("appearance notes"), blank=True)
    repair_mode_enabled = models.BooleanField(_("repair mode enabled"), default=False)
    data_backup_consent = models.BooleanField(_("data backup consent"), default=False)
    needs = models.JSONField(_("accessibility needs"), default=dict, blank=True)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.BOOKED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the current stage started and when it is due (SLA).
    stage_started_at = models.DateTimeField(null=True, blank=True)
    stage_due_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    promised_at = models.DateTimeField(_("promised ready"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("repair ticket")
        verbose_name_plural = _("repair tickets")
        indexes = [
            models.Index(fields=["center", "status", "-created_at"], name="ticket_center_status_idx"),
            models.Index(fields=["status", "stage_due_at"], name="ticket_status_due_idx"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
        ]

    def __str__(self) -> str:
        return self.service_no


class TicketEvent(models.Model):
    """One line of a ticket's timeline: who moved it, when, from what to what, and why."""

    ticket = models.ForeignKey(RepairTicket, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} -> {self.to_status}"
