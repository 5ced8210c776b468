from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    RETAILER = "retailer", _("Retailer")
    COLLECTION_POINT_OPERATOR = "collection_point_operator", _("Collection-point operator")
    COURIER = "courier", _("Courier")
    MAP_PROVIDER = "map_provider", _("Map provider")
    INSURER = "insurer", _("Insurer")
    OTHER = "other", _("Other")
