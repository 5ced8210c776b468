from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("Prefecture-level city")
    COUNTY = "county", _("County / district")


class CenterKind(models.TextChoices):
    SERVICE_CENTER = "service_center", _("Authorized service center")
    FLAGSHIP = "flagship", _("Service flagship store")
    COLLECTION_POINT = "collection_point", _("Collection point")
    MAIL_IN_HUB = "mail_in_hub", _("Mail-in repair hub")
    EXPERIENCE_STORE = "experience_store", _("Experience store with service desk")


# Kinds that repair devices themselves (the others forward to their hub).
REPAIRING_KINDS = (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB)


# Kinds that stay open on public holidays unless staff untick it (ServiceCenter.opens_on_public_holidays).
HOLIDAY_OPEN_KINDS = (CenterKind.FLAGSHIP, CenterKind.EXPERIENCE_STORE)


class DeviceCategory(models.TextChoices):
    PHONE = "phone", _("Phone")
    TABLET = "tablet", _("Tablet")
    PC = "pc", _("PC")
    WEARABLE = "wearable", _("Wearable")
    SMART_SCREEN = "smart_screen", _("Smart screen")


class ServiceOffering(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    APPOINTMENT = "appointment", _("Appointment")
    MAIL_IN = "mail_in", _("Mail-in")
    ON_SITE = "on_site", _("On-site")
    LOANERS = "loaners", _("Loaner phones")


# What a center's ``services`` list may contain.
SERVICE_VALUES = tuple(DeviceCategory.values) + tuple(ServiceOffering.values)


class StaffRole(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    ENGINEER = "engineer", _("Engineer")
    MANAGER = "manager", _("Center manager")
    HQ = "hq", _("Headquarters")


class StaffSkill(models.TextChoices):
    """What a staff member can do beyond their role (``StaffMembership.skills``): the roster shows it."""

    SIGN_LANGUAGE = "sign_language", _("Signs (sign language)")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ServiceDayPerk(models.TextChoices):
    SCREEN_FILM = "free_screen_film", _("Free screen film")
    CLEANING = "cleaning", _("Free cleaning")
    LABOR_WAIVED = "labor_waived", _("Out-of-warranty labor waived")
    TRAINING = "phone_training", _("Phone-use training")


DEFAULT_SERVICE_DAY_PERKS = [p.value for p in ServiceDayPerk]


class ExceptionReason(models.TextChoices):
    """Why a day's hours differ (shown in the page's language); ``other`` shows the free-text reason."""

    SPRING_FESTIVAL = "spring_festival", _("Spring Festival: open with holiday hours")
    PUBLIC_HOLIDAY = "public_holiday", _("Public holiday")
    NATIONAL_DAY = "national_day", _("National Day holiday")
    STAFF_TRAINING = "staff_training", _("Staff training")
    RENOVATION = "renovation", _("Renovation")
    OTHER = "other", _("Other")


class StoreReportStatus(models.TextChoices):
    """Where HQ's triage of a reported store stands (reports are never deleted)."""

    NEW = "new", _("New")
    INVESTIGATING = "investigating", _("Investigating")
    CONFIRMED_UNOFFICIAL = "confirmed_unofficial", _("Confirmed unofficial")
    OFFICIAL_AFTER_ALL = "official_after_all", _("Official after all")
    DISMISSED = "dismissed", _("Dismissed")
