from django.db import models
from django.utils.translation import gettext_lazy as _

from centers.choices import DeviceCategory  # noqa: F401  (re-exported: the catalog's categories)


class Tier(models.TextChoices):
    FLAGSHIP = "flagship", _("Flagship")
    STANDARD = "standard", _("Standard")


class SaleChannel(models.TextChoices):
    RETAIL = "retail", _("Retail store")
    ONLINE = "online", _("Online store")
    OPERATOR = "operator", _("Carrier / operator")
    OTHER = "other", _("Other")
    UNREGISTERED = "unregistered", _("Registered at check-in")
