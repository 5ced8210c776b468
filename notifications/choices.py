from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    TICKET_RECEIVED = "ticket_received", _("Repair received")
    QUOTE_READY = "quote_ready", _("Quote ready for approval")
    PARTS_AWAITED = "parts_awaited", _("Waiting for parts")
    REPAIR_READY = "repair_ready", _("Repair done, ready for pickup")
    SHIPPED_BACK = "shipped_back", _("Shipped back")
    DELIVERED = "delivered", _("Delivered")
    LOANER_DUE_TOMORROW = "loaner_due_tomorrow", _("Loaner due tomorrow")
    LOANER_OVERDUE = "loaner_overdue", _("Loaner overdue")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    APPOINTMENT_BOOKED = "appointment_booked", _("Appointment booked")
    SERVICE_DAY_REMINDER = "service_day_reminder", _("Service Day reminder")
    SURVEY_INVITATION = "survey_invitation", _("Survey invitation")
    SLA_BREACHED = "sla_breached", _("Stage overdue (staff)")
    VERIFICATION_CODE = "verification_code", _("Verification code")
    LOOKUP_LOCKED = "lookup_locked", _("Tracking locked after wrong digits")
    PICKUP_SCHEDULED = "pickup_scheduled", _("Mail-in pickup scheduled")
    COURIER_ASSIGNED = "courier_assigned", _("Mail-in courier number")
    PAYMENT_RECEIVED = "payment_received", _("Payment received (receipt link)")
    PROMISE_SLIPPED = "promise_slipped", _("Promised time moved later")
    FAPIAO_ISSUED = "fapiao_issued", _("Fapiao issued")
    EVENT_REGISTERED = "event_registered", _("Event sign-up (door code)")
    EVENT_REMINDER = "event_reminder", _("Event reminder (the day before)")
    SIGN_SESSION_ALERT = "sign_session_alert", _("Sign-language session to prepare (staff)")
    AMENITY_OVERDUE = "amenity_overdue", _("Amenity overdue (umbrella, power bank...)")


class NotificationChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("The customer does not agree to be contacted")
    NO_RECIPIENT = "no_recipient", _("No address for this channel")
