from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    RETAILER = "retailer", _("Retailer")
    COLLECTION_POINT_OPERATOR = "collection_point_operator", _("Collection-point operator")
    COURIER = "courier", _("Courier")
    MAP_PROVIDER = "map_provider", _("Map provider")
    INSURER = "insurer", _("Insurer")
    OTHER = "other", _("Other")


class WebhookEvent(models.TextChoices):
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("Ticket status changed")
    TICKET_SLA_BREACHED = "ticket.sla_breached", _("Ticket SLA breached")
    QUOTE_READY = "quote.ready", _("Quote ready")
    LOAN_OVERDUE = "loan.overdue", _("Loan overdue")
    PLAN_ACTIVATED = "plan.activated", _("Plan activated")
    SHIPMENT_UPDATED = "shipment.updated", _("Shipment updated")
    TICKET_EXCHANGED = "ticket.exchanged", _("Device exchanged (三包)")
    TICKET_RETURNED = "ticket.returned", _("Device returned with a refund (三包)")
    PAYMENT_SUCCEEDED = "payment.succeeded", _("Payment succeeded")
    PAYMENT_REFUNDED = "payment.refunded", _("Payment refunded")
    PARTS_LOW_STOCK = "parts.low_stock", _("Parts low in stock")
