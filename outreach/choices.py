"""Choices of outreach: community events and classes (issue #22)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    COMMUNITY_OUTREACH = "community_outreach", _("Community outreach")
    CUSTOMER_CLASS = "customer_class", _("Phone-use class")
    STAFF_TRAINING = "staff_training", _("Staff training")


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


# A registration holding a place: every status but cancelled.
ACTIVE_REGISTRATION = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)


class SignSessionStatus(models.TextChoices):
    """A sign-language video session of a booking (``SignLanguageSession``)."""

    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    NO_SHOW = "no_show", _("Customer did not join")
    CANCELLED = "cancelled", _("Cancelled")
