from django.db import models
from django.utils.translation import gettext_lazy as _


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


class Need(models.TextChoices):
    """Accessibility needs a customer can flag on a booking (the center prepares for them)."""

    SIGN_LANGUAGE = "sign_language", _("Sign-language video service")
    WHEELCHAIR = "wheelchair", _("Wheelchair access")
    ELDERLY = "elderly_assistance", _("Elderly assistance")


NEED_KEYS = tuple(Need.values)


class TimeWindow(models.TextChoices):
    MORNING = "morning", _("Morning (9:00-12:00)")
    AFTERNOON = "afternoon", _("Afternoon (13:00-17:00)")
    EVENING = "evening", _("Evening (18:00-20:00)")


# local start/end hour of each on-site window
TIME_WINDOW_HOURS: dict[str, tuple[int, int]] = {
    TimeWindow.MORNING: (9, 12),
    TimeWindow.AFTERNOON: (13, 17),
    TimeWindow.EVENING: (18, 20),
}


class OnSiteStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ASSIGNED = "assigned", _("Engineer assigned")
    CANCELLED = "cancelled", _("Cancelled")


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a call")
    DONE = "done", _("Called back")


class CallbackOutcome(models.TextChoices):
    """What a hotline call back came to; every outcome but ``no_answer`` closes the request."""

    RESOLVED = "resolved", _("Resolved on the phone")
    NO_ANSWER = "no_answer", _("No answer (try again)")
    FOLLOW_UP_BOOKED = "follow_up_booked", _("Follow-up booked")
    TICKET_CREATED = "ticket_created", _("Repair ticket created")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


# Outcomes that leave the request open (it waits for another call).
CALLBACK_RETRY_OUTCOMES = (CallbackOutcome.NO_ANSWER,)


class CallbackTopic(models.TextChoices):
    REPAIR = "repair", _("A repair")
    WARRANTY = "warranty", _("Warranty or plans")
    BOOKING = "booking", _("An appointment")
    OTHER = "other", _("Something else")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
