"""Quick visits at the desk (issue #22): non-repair services for any brand, a few seconds each, and the free
Service-Day / new-store-month perks they consume.

- ``visit_record``: one tap = one visit (``count`` people for a group), stamped with the center's Service Day and
  new-store month (``centers.selectors.center_promotion_on``, the same answer as the repair labor waiver). A perk
  service on a day that offers it is free once per customer phone per Service Day (or per new-store month at a
  center): ``PerkRedemption``, refused a second time with 409 ``perk_already_used``.
- ``visit_void``: undo a tap within ``VOID_WINDOW`` (status ``voided``, never deleted); it releases the perk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from centers.models import ServiceCenter
from centers.selectors import CenterPromotion, center_promotion_on, local_now
from servicehub.errors import Conflict, DomainError, NotFound
from servicehub.locking import lock_one
from servicehub.phones import phone_normalize

from .models import GuestBookEntry, PerkRedemption, Visit, VisitService, VisitStatus

DESK_ROLES = ("front_desk", "manager")
VOID_WINDOW = dt.timedelta(minutes=2)
MAX_COUNT = 500
GUEST_BOOK_SERVICE = "guest_book"
_IMEI = re.compile(r"^\d{14,17}$")


def _invalid(field: str, message: str) -> DomainError:
    return DomainError("validation_error", message, field=field)


def _desk_center(*, actor, center_id: int) -> ServiceCenter:
    center = ServiceCenter.objects.filter(pk=center_id, active=True).first()
    if center is None or not actor.can_see_center(center.pk):
        raise NotFound(_("No such center."))
    if not any(actor.has_role(role, center.pk) for role in DESK_ROLES):
        raise DomainError(
            "permission_denied", _("Only the front desk and managers of this center record visits."), status=403
        )
    return center


def phone_key(e164: str) -> str:
    """The keyed hash a redemption stores instead of the number (a bare hash of 10^10 numbers is easily reversed)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"perk:{e164}".encode(), hashlib.sha256).hexdigest()


def perk_offered(service: VisitService, promotion: CenterPromotion) -> bool:
    """Is ``service`` free today: a perk, and the day's Service Day lists it, or the new-store month."""
    if not service.perk:
        return False
    if promotion.new_store_month:
        return True
    return promotion.service_day is not None and service.code in (promotion.service_day.perks or [])


def perk_period(*, center: ServiceCenter, day: dt.date, promotion: CenterPromotion) -> str:
    """One Service Day weekend per month, network-wide; a new-store month belongs to its center."""
    if promotion.service_day is not None:
        return f"sd:{day:%Y-%m}"
    return f"ns:{center.pk}"


def _perk_used_error(service: VisitService, period: str) -> Conflict:
    if period.startswith("sd:"):
        message = _("This phone number has already had the free %(service)s during this Service Day.")
    else:
        message = _("This phone number has already had the free %(service)s during this new-store month.")
    return Conflict("perk_already_used", message % {"service": service.name}, field="phone")


def _redeem(*, visit: Visit, service: VisitService, e164: str, period: str) -> PerkRedemption:
    """Insert the redemption in a savepoint: the partial unique constraint decides a race, as a 409."""
    try:
        with transaction.atomic():
            return PerkRedemption.objects.create(
                visit=visit, service=service, phone_hash=phone_key(e164), phone_last4=e164[-4:], period=period
            )
    except IntegrityError:
        raise _perk_used_error(service, period) from None


def visit_record(
    *,
    actor,
    center_id: int,
    service: str,
    count: int = 1,
    any_brand: bool = False,
    brand: str = "",
    imei: str = "",
    phone: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Visit:
    """Record one visit of ``service`` (a catalog code) at the center; returns it.

    Refuses: 404 ``not_found`` (center not visible), 403 ``permission_denied`` (not its front desk or manager),
    400 ``validation_error`` (service, count 1..500, imei, brand, note, phone: a free perk needs a valid phone
    and is for one person), 409 ``perk_already_used``."""
    center = _desk_center(actor=actor, center_id=center_id)
    item = VisitService.objects.filter(code=str(service or ""), active=True).first()
    if item is None:
        raise _invalid("service", _("Choose a service from the list."))
    try:
        count = int(count)
    except (TypeError, ValueError):
        raise _invalid("count", _("Enter how many people (1 to 500).")) from None
    if not 1 <= count <= MAX_COUNT:
        raise _invalid("count", _("Enter how many people (1 to 500)."))
    brand, imei, note = str(brand or "").strip(), str(imei or "").strip(), str(note or "").strip()
    if len(brand) > 40:
        raise _invalid("brand", _("The brand is at most 40 characters."))
    if imei and not _IMEI.match(imei):
        raise _invalid("imei", _("An IMEI is 15 digits (or leave it empty)."))
    if len(note) > 200:
        raise _invalid("note", _("The note is at most 200 characters."))
    at = now or timezone.now()
    day = local_now(at).date()
    promotion = center_promotion_on(center=center, day=day)
    free = perk_offered(item, promotion)
    e164 = ""
    period = ""
    if free:
        if not str(phone or "").strip():
            raise _invalid("phone", _("A free perk needs the customer's phone number: one per phone per Service Day."))
        e164 = phone_normalize(phone)
        if count != 1:
            raise _invalid("count", _("A free perk is recorded for one person at a time."))
        period = perk_period(center=center, day=day, promotion=promotion)
        if PerkRedemption.objects.filter(service=item, phone_hash=phone_key(e164), period=period, active=True).exists():
            raise _perk_used_error(item, period)
    with transaction.atomic():
        visit = Visit.objects.create(
            center=center,
            service=item,
            at=at,
            day=day,
            count=count,
            any_brand=bool(any_brand or brand),
            brand=brand,
            imei=imei,
            during_service_day=promotion.service_day is not None,
            during_new_store_month=promotion.new_store_month,
            perk=free,
            staff=actor.user if getattr(actor.user, "pk", None) else None,
            note=note,
        )
        if free:
            _redeem(visit=visit, service=item, e164=e164, period=period)
    return visit


def visit_void(*, actor, visit_id: int, now: dt.datetime | None = None) -> Visit:
    """Undo a tap: the visit becomes ``voided`` (and its perk is free again). Only within two minutes, by whoever
    recorded it or a manager of the center.

    Refuses: 404 ``not_found``, 403 ``permission_denied``, 409 ``already_voided`` / ``void_too_late``."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = lock_one(Visit, visit_id, not_found=_("No such visit."))
        if not actor.can_see_center(visit.center_id):
            raise NotFound(_("No such visit."))
        own = visit.staff_id is not None and visit.staff_id == getattr(actor.user, "pk", None)
        if not (own and actor.has_role("front_desk", visit.center_id)) and not actor.has_role(
            "manager", visit.center_id
        ):
            raise DomainError(
                "permission_denied", _("Only whoever recorded a visit, or a manager, can undo it."), status=403
            )
        if visit.status == VisitStatus.VOIDED:
            raise Conflict("already_voided", _("This visit was already undone."))
        if now - visit.at > VOID_WINDOW:
            raise Conflict("void_too_late", _("A visit can only be undone within two minutes."))
        visit.status = VisitStatus.VOIDED
        visit.voided_at = now
        visit.save(update_fields=["status", "voided_at"])
        PerkRedemption.objects.filter(visit=visit, active=True).update(active=False)
    return visit


def guest_book_write(*, actor, center_id: int, message: str, name: str = "") -> GuestBookEntry:
    """A guest-book line written at the desk; it also counts as a visit of the ``guest_book`` service when the
    catalog has it. Refuses 400 ``validation_error`` (message 1..500, name up to 40)."""
    center = _desk_center(actor=actor, center_id=center_id)
    message, name = str(message or "").strip(), str(name or "").strip()
    if not message or len(message) > 500:
        raise _invalid("message", _("Write a message (at most 500 characters)."))
    if len(name) > 40:
        raise _invalid("name", _("The name is at most 40 characters."))
    user = actor.user if getattr(actor.user, "pk", None) else None
    with transaction.atomic():
        entry = GuestBookEntry.objects.create(center=center, name=name, message=message, staff=user)
        if VisitService.objects.filter(code=GUEST_BOOK_SERVICE, active=True).exists():
            visit_record(actor=actor, center_id=center.pk, service=GUEST_BOOK_SERVICE)
    return entry


# --- the catalog ---------------------------------------------------------------------------------------
# The perks' codes are the Service Day perk codes (centers.choices.ServiceDayPerk): a Service Day's ``perks``
# list says which are free that day.
CATALOG = (
    # code, Chinese, English, kind, perk
    ("free_screen_film", "贴膜", "Screen film", "care", True),
    ("cleaning", "清洁保养", "Cleaning and care", "care", True),
    ("uv_disinfection", "紫外线消毒（任何品牌）", "UV disinfection (any brand)", "care", False),
    ("phone_training", "手机使用指导", "Phone-use help", "care", True),
    ("water", "饮水", "Drinking water", "rest_station", False),
    ("charging", "充电", "Charging", "rest_station", False),
    ("cool_rest", "纳凉休息", "A cool place to rest", "rest_station", False),
    ("tea", "茶水", "Tea and water", "hospitality", False),
    (GUEST_BOOK_SERVICE, "留言簿", "Guest book", "hospitality", False),
)


def visit_catalog_ensure() -> int:
    """Create the catalog's missing services (existing ones are left as HQ edited them); returns how many."""
    created = 0
    for position, (code, zh, en, kind, perk) in enumerate(CATALOG):
        _obj, new = VisitService.objects.get_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "kind": kind, "perk": perk, "position": position}
        )
        created += new
    return created
