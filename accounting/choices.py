from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BuyerType(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class FapiaoStatus(models.TextChoices):
    """requested -> issued, or requested -> failed -> (retry) requested."""

    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    FAILED = "failed", _("Failed")


class RequestedVia(models.TextChoices):
    DESK = "desk", _("Service desk")
    TRACKING = "tracking", _("Tracking page")
    ME = "me", _("My service")
    API = "api", _("API")


class CloseStatus(models.TextChoices):
    # Context: "Closed" alone is a center's opening hours ("休息") in the catalog.
    OPEN = "open", pgettext_lazy("daily close", "Open")
    CLOSED = "closed", pgettext_lazy("daily close", "Closed")


class CloseAction(models.TextChoices):
    CLOSED = "closed", pgettext_lazy("daily close", "Closed")
    REOPENED = "reopened", _("Re-opened")
