"""Writes of the service network: regions, centers, hours, Service Days, CSV import.

Every function is keyword-only, one transaction, and raises ``DomainError`` (never a DRF
exception). Centers are deactivated, never deleted.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import hmac
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.actors import Actor
from servicehub.csvsafe import csv_unescape
from servicehub.errors import DomainError
from servicehub.events import emit
from servicehub.locking import lock_many, lock_one

from .choices import (
    DEFAULT_SERVICE_DAY_PERKS,
    HOLIDAY_OPEN_KINDS,
    SERVICE_VALUES,
    CenterKind,
    RegionLevel,
    StoreReportStatus,
)
from .models import (
    OpeningException,
    OpeningHours,
    Region,
    ServiceCenter,
    ServiceDay,
    StoreReport,
    StoreReportPhoto,
)
from .photos import photo_clean, photos_check_count
from .selectors import DIRECTORY_VERSION_KEY, NETWORK_VERSION_KEY, center_version_key, phone_digits, region_province

# --- public data cache -----------------------------------------------------------------


def center_cache_bump(*, code: str | None = None) -> None:
    """Give one center (``code``) or the whole network (``None``) a new public-cache version.

    Deferred to after the surrounding transaction commits (at once outside one), so a reader
    never caches the old rows under the new version. Every write of a center, its hours or
    exceptions, and every bulk write of Service Days or an import calls this; the admin too. The directory
    version (what lists of many centers are cached under: ``web.find``) changes with every call.
    """
    key = NETWORK_VERSION_KEY if code is None else center_version_key(code)

    def bump() -> None:
        cache.set_many({key: uuid.uuid4().hex[:12], DIRECTORY_VERSION_KEY: uuid.uuid4().hex[:12]}, timeout=None)

    transaction.on_commit(bump, robust=True)


# --- regions -------------------------------------------------------------------

PLACEHOLDER_COUNTY_NAMES = {"市辖区"}
PLACEHOLDER_CITY_SUFFIX = "直辖县级行政区划"


def region_level_of(adcode: str) -> str:
    """Level from the 12-digit adcode: PP0000000000 province, PPCC00000000 city, else county."""
    if adcode[2:] == "0" * 10:
        return RegionLevel.PROVINCE
    if adcode[4:] == "0" * 8:
        return RegionLevel.CITY
    return RegionLevel.COUNTY


def _parent_adcode(adcode: str, level: str) -> str | None:
    if level == RegionLevel.PROVINCE:
        return None
    if level == RegionLevel.CITY:
        return adcode[:2] + "0" * 10
    return adcode[:4] + "0" * 8


def read_cpca_adcodes() -> list[dict]:
    """The rows of ``cpca/resources/adcodes.csv`` (found through the installed package)."""
    text = resources.files("cpca").joinpath("resources/adcodes.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class RegionLoadResult:
    created: int
    updated: int
    total: int


def _fill_coordinates(regions: dict[str, dict]) -> None:
    """Give rows without coordinates the mean of their children's, else their parent's."""
    children: dict[str, list[dict]] = {}
    for r in regions.values():
        if r["parent"]:
            children.setdefault(r["parent"], []).append(r)
    # Bottom-up (counties have no children): cities and provinces from children first...
    for level in (RegionLevel.CITY, RegionLevel.PROVINCE):
        for r in regions.values():
            if r["level"] == level and r["lat"] is None:
                kids = [k for k in children.get(r["adcode"], []) if k["lat"] is not None]
                if kids:
                    r["lat"] = sum(k["lat"] for k in kids) / len(kids)
                    r["lng"] = sum(k["lng"] for k in kids) / len(kids)
    # ...then top-down: whatever is still empty takes its parent's.
    for level in (RegionLevel.CITY, RegionLevel.COUNTY):
        for r in regions.values():
            if r["level"] == level and r["lat"] is None and r["parent"]:
                parent = regions.get(r["parent"])
                if parent and parent["lat"] is not None:
                    r["lat"], r["lng"] = parent["lat"], parent["lng"]


def regions_load(*, rows: list[dict] | None = None) -> RegionLoadResult:
    """Create or update every Region from the cpca dataset (idempotent; a second run writes nothing).

    Changes: inserts missing regions (provinces, then cities, then counties, so parents exist),
    updates name/level/parent/coordinates/placeholder of rows that differ. Never deletes.
    Rows without coordinates get their children's centroid or their parent's.
    """
    rows = rows if rows is not None else read_cpca_adcodes()
    wanted: dict[str, dict] = {}
    for row in rows:
        adcode = row["adcode"].strip()
        level = region_level_of(adcode)
        name = row["name"].strip()
        lat = float(row["latitude"]) if row.get("latitude") else None
        lng = float(row["longitude"]) if row.get("longitude") else None
        placeholder = (level == RegionLevel.COUNTY and name in PLACEHOLDER_COUNTY_NAMES) or (
            level == RegionLevel.CITY and name.endswith(PLACEHOLDER_CITY_SUFFIX)
        )
        wanted[adcode] = {
            "adcode": adcode,
            "name": name,
            "level": level,
            "parent": _parent_adcode(adcode, level),
            "lat": lat,
            "lng": lng,
            "is_placeholder": placeholder,
        }
    _fill_coordinates(wanted)

    created = updated = 0
    with transaction.atomic():
        existing = {r.adcode: r for r in Region.objects.all()}
        for level in (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY):
            ids = {code: r.pk for code, r in existing.items()}
            new, changed = [], []
            for w in wanted.values():
                if w["level"] != level:
                    continue
                parent_id = ids.get(w["parent"]) if w["parent"] else None
                values = {
                    "name": w["name"],
                    "level": w["level"],
                    "parent_id": parent_id,
                    "lat": w["lat"],
                    "lng": w["lng"],
                    "is_placeholder": w["is_placeholder"],
                }
                current = existing.get(w["adcode"])
                if current is None:
                    new.append(Region(adcode=w["adcode"], **values))
                elif any(getattr(current, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(current, k, v)
                    changed.append(current)
            if new:
                Region.objects.bulk_create(new, batch_size=1000)
                created += len(new)
                # PostgreSQL returns ids from bulk_create; SQLite 3.35+ does too, but re-read to be sure.
                existing.update(
                    {r.adcode: r for r in Region.objects.filter(level=level, adcode__in=[n.adcode for n in new])}
                )
            if changed:
                Region.objects.bulk_update(
                    changed, ["name", "level", "parent_id", "lat", "lng", "is_placeholder"], batch_size=1000
                )
                updated += len(changed)
        if created or updated:
            center_cache_bump()  # region names and places are part of every cached center page and search
    return RegionLoadResult(created=created, updated=updated, total=len(wanted))


# --- centers ---------------------------------------------------------------------

CENTER_FIELDS = ("name", "kind", "official", "address", "lat", "lng", "phone", "services", "hub", "opened_on")


def _invalid(field: str, message: str) -> DomainError:
    return DomainError("validation_error", message, status=400, field=field)


def _validate_center_values(values: dict, *, center: ServiceCenter | None = None) -> None:
    kind = values.get("kind")
    if kind is not None and kind not in CenterKind.values:
        raise _invalid("kind", _("Unknown kind: %(kind)s.") % {"kind": kind})
    for coord, lo, hi in (("lat", -90, 90), ("lng", -180, 180)):
        if coord in values:
            try:
                value = float(values[coord])
            except (TypeError, ValueError):
                raise _invalid(coord, _("Must be a number.")) from None
            if not lo <= value <= hi:
                raise _invalid(coord, _("Must be between %(lo)s and %(hi)s.") % {"lo": lo, "hi": hi})
            values[coord] = value
    if "services" in values:
        services = list(values["services"] or [])
        unknown = [s for s in services if s not in SERVICE_VALUES]
        if unknown:
            raise _invalid("services", _("Unknown services: %(s)s.") % {"s": ", ".join(map(str, unknown))})
        values["services"] = list(dict.fromkeys(services))
    if not (values.get("name") or (center and center.name)):
        raise _invalid("name", _("A name is required."))
    hub = values.get("hub", center.hub if center else None)
    kind = kind or (center.kind if center else None)
    if hub is not None:
        if center is not None and hub.pk == center.pk:
            raise _invalid("hub", _("A center cannot be its own hub."))
        if hub.kind not in (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB):
            raise _invalid("hub", _("The hub must be a center that repairs devices."))
        if not hub.active:
            raise _invalid("hub", _("The hub is not active."))
    elif kind == CenterKind.COLLECTION_POINT:
        raise _invalid("hub", _("A collection point needs a hub to forward devices to."))


def _region_chain(region: Region) -> tuple[Region, Region]:
    """(city, province) of a county. A prefecture-level city without counties (e.g. Dongguan,
    Zhongshan) is its own county: centers there point at the city."""
    if region.level == RegionLevel.CITY and not region.children.filter(is_placeholder=False).exists():
        if region.parent is None:
            raise _invalid("region", _("The region has no city/province parents; run load_regions."))
        return region, region.parent
    if region.level != RegionLevel.COUNTY:
        raise _invalid("region", _("The region must be a county (or a city without counties)."))
    city = region.parent
    province = city.parent if city is not None else None
    if city is None or province is None:
        raise _invalid("region", _("The region has no city/province parents; run load_regions."))
    return city, province


def center_values_validate(*, values: dict, region: Region | None = None, center: ServiceCenter | None = None) -> None:
    """Check center fields without writing (for forms); raises the same ``DomainError`` as the writes."""
    if region is not None:
        _region_chain(region)
    _validate_center_values(dict(values), center=center)


def center_create(
    *,
    code: str,
    name: str,
    kind: str,
    region: Region,
    address: str,
    lat: float,
    lng: float,
    phone: str = "",
    services: list[str] | tuple[str, ...] = (),
    official: bool = True,
    hub: ServiceCenter | None = None,
    opened_on: date | None = None,
    opens_on_public_holidays: bool | None = None,
    actor=None,
) -> ServiceCenter:
    """Create a site; city and province are derived from the county ``region``.

    ``opens_on_public_holidays`` defaults by kind (flagships and experience stores open through the holidays).

    Refuses (400 ``validation_error`` naming the field): unknown kind/services, a non-county
    region, coordinates out of range, a collection point without a hub or a hub that does not
    repair, a code already taken.
    """
    code = (code or "").strip()
    if not code:
        raise _invalid("code", _("A code is required."))
    values = {
        "name": name,
        "kind": kind,
        "address": address,
        "lat": lat,
        "lng": lng,
        "phone": phone,
        "services": services,
        "official": official,
        "hub": hub,
        "opened_on": opened_on,
    }
    _validate_center_values(values)
    city, province = _region_chain(region)
    with transaction.atomic():
        if ServiceCenter.objects.filter(code=code).exists():
            raise _invalid("code", _("A center with code %(code)s already exists.") % {"code": code})
        center = ServiceCenter.objects.create(
            code=code,
            region=region,
            city=city,
            province=province,
            phone_digits=phone_digits(phone),
            opens_on_public_holidays=(
                opens_on_public_holidays_default(kind) if opens_on_public_holidays is None else opens_on_public_holidays
            ),
            **values,
        )
        center_cache_bump(code=code)
        return center


def opens_on_public_holidays_default(kind: str) -> bool:
    """Stores open through the public holidays (春节不打烊); repair centers, hubs and collection points close."""
    return kind in HOLIDAY_OPEN_KINDS


def center_update(*, center_id: int, actor=None, region: Region | None = None, **changes) -> ServiceCenter:
    """Change a center's data (any of ``CENTER_FIELDS``, ``region``, ``active``, ``service_days_opt_out``).

    Locks the row. A new county re-derives city and province. Refuses the same bad input
    as ``center_create`` (400 ``validation_error``); 404 ``not_found`` for an unknown id.
    Reactivating is allowed here; deactivating goes through ``center_deactivate``.
    """
    unknown = set(changes) - set(CENTER_FIELDS) - {"active", "service_days_opt_out", "opens_on_public_holidays"}
    if unknown:
        raise _invalid(sorted(unknown)[0], _("This field cannot be changed."))
    with transaction.atomic():
        center = lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        if changes.get("active") is False and center.active:
            raise _invalid("active", _("Use deactivate to close a center."))
        _validate_center_values(changes, center=center)
        for key, value in changes.items():
            setattr(center, key, value)
        if "phone" in changes:
            center.phone_digits = phone_digits(center.phone)
        if region is not None:
            center.city, center.province = _region_chain(region)
            center.region = region
        center.save()
        center_cache_bump(code=center.code)
        return center


def center_deactivate(*, center_id: int, actor=None) -> ServiceCenter:
    """Deactivate a center (it disappears from public search; its history stays).

    Idempotent. Refuses with 409 ``center_has_spokes`` while active collection points still
    forward to it (move them to another hub first); 404 ``not_found`` for an unknown id.
    """
    with transaction.atomic():
        center = lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        if not center.active:
            return center
        spokes = list(center.spokes.filter(active=True).order_by("code").values_list("code", flat=True)[:10])
        if spokes:
            raise DomainError(
                "center_has_spokes",
                _("Active collection points still forward to this center; move them first."),
                status=409,
                spokes=spokes,
            )
        center.active = False
        center.save(update_fields=["active", "updated_at"])
        center_cache_bump(code=center.code)
        return center


# --- opening hours -------------------------------------------------------------------


def opening_hours_set(*, center_id: int, weekday: int, intervals: list[tuple[time, time]], actor=None) -> list:
    """Replace the weekly hours of one weekday (``[]`` = closed that day; two intervals = lunch break).

    An interval that closes at or before its opening time runs past midnight (20:00-02:00; 10:00-00:00
    closes at midnight); only the day's last interval may. Refuses 400 ``validation_error`` (field
    ``intervals``) for an empty interval (opens = closes), an overnight interval that is not the last one,
    or intervals that overlap; 404 for an unknown center.
    """
    if weekday not in range(7):
        raise _invalid("weekday", _("Weekday must be 0 (Monday) to 6 (Sunday)."))
    ordered = sorted(intervals)
    for i, (opens, closes) in enumerate(ordered):
        if opens == closes:
            raise _invalid("intervals", _("Each interval must open before it closes."))
        if closes < opens and i != len(ordered) - 1:
            raise _invalid("intervals", _("Only the day's last interval may close after midnight."))
        if i and ordered[i - 1][1] > opens:
            raise _invalid("intervals", _("Intervals overlap."))
    with transaction.atomic():
        center = lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        OpeningHours.objects.filter(center=center, weekday=weekday).delete()
        center_cache_bump(code=center.code)
        return OpeningHours.objects.bulk_create(
            [OpeningHours(center=center, weekday=weekday, opens=o, closes=c) for o, c in ordered]
        )


def opening_exception_set(
    *,
    center_id: int,
    day: date,
    closed: bool,
    opens: time | None = None,
    closes: time | None = None,
    reason: str = "",
    actor=None,
) -> OpeningException:
    """Create or replace the exception of one date: closed all day, or special hours.

    Special hours closing at or before their opening time run past midnight (see ``opening_hours_set``).
    Refuses 400 ``validation_error``: open hours missing or empty (opens = closes).
    """
    if not closed and (opens is None or closes is None or opens == closes):
        raise _invalid("opens", _("Special hours must open before they close."))
    with transaction.atomic():
        center = lock_one(ServiceCenter, center_id, not_found=_("No such center."))
        exception, _created = OpeningException.objects.update_or_create(
            center=center,
            date=day,
            defaults={
                "closed": closed,
                "opens": None if closed else opens,
                "closes": None if closed else closes,
                "reason": reason,
            },
        )
        center_cache_bump(code=center.code)
        return exception


# --- Service Days ------------------------------------------------------------------------

SERVICE_DAY_KINDS = (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.EXPERIENCE_STORE)


def service_day_dates(*, year: int, month: int) -> list[date]:
    """First Friday of the month and the Saturday and Sunday right after it (always in the month)."""
    first = date(year, month, 1)
    friday = first + timedelta(days=(calendar.FRIDAY - first.weekday()) % 7)
    return [friday, friday + timedelta(days=1), friday + timedelta(days=2)]


def service_days_generate(*, year: int, month: int, batch_size: int = 3000) -> int:
    """Create the month's Service Days for every active customer-facing center; returns rows created.

    Customer-facing = service centers, flagships and experience stores (collection points and
    mail-in hubs have no counter for the perks) that have not opted out
    (``ServiceCenter.service_days_opt_out``). Idempotent: the unique (center, date) constraint
    plus ``ignore_conflicts`` skips existing rows, so a rerun creates 0 and never resurrects a
    day someone deactivated; two runs at once create each day once (the returned count is then
    approximate: each run may count the other's rows). A few queries per thousand centers.
    Refuses 400 ``validation_error`` (field ``month``) for a month outside 1..12.
    """
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise _invalid("month", _("Not a valid month."))
    days = service_day_dates(year=year, month=month)
    with transaction.atomic():
        before = ServiceDay.objects.filter(date__in=days).count()
        ids = (
            ServiceCenter.objects.filter(active=True, service_days_opt_out=False, kind__in=SERVICE_DAY_KINDS)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        batch: list[ServiceDay] = []
        for center_id in ids.iterator(chunk_size=2000):
            batch.extend(ServiceDay(center_id=center_id, date=d, perks=list(DEFAULT_SERVICE_DAY_PERKS)) for d in days)
            if len(batch) >= batch_size:
                ServiceDay.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        if batch:
            ServiceDay.objects.bulk_create(batch, ignore_conflicts=True)
        center_cache_bump()  # every center's upcoming Service Days may have changed
        return ServiceDay.objects.filter(date__in=days).count() - before


# --- CSV import / export -----------------------------------------------------------------

CSV_COLUMNS = [
    "code",
    "name",
    "kind",
    "official",
    "county_adcode",
    "address",
    "lat",
    "lng",
    "phone",
    "services",
    "hub_code",
    "opened_on",
    "active",
]
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def center_csv_row(center: ServiceCenter) -> list[str]:
    """One export row in ``CSV_COLUMNS`` order (the import reads the same format back)."""
    return [
        center.code,
        center.name,
        center.kind,
        "true" if center.official else "false",
        center.region.adcode,
        center.address,
        f"{center.lat:.6f}",
        f"{center.lng:.6f}",
        center.phone,
        ";".join(center.services),
        center.hub.code if center.hub is not None else "",
        center.opened_on.isoformat() if center.opened_on else "",
        "true" if center.active else "false",
    ]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _parse_bool(value: str, field: str, errors: list[str]) -> bool | None:
    v = (value or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    errors.append(_("%(field)s: expected true/false, got %(value)r.") % {"field": field, "value": value})
    return None


def centers_import_csv(*, text: str, actor=None) -> ImportResult:
    """Create or update centers from CSV (``CSV_COLUMNS``; matched by ``code``), all or nothing.

    Every row is validated first; any error refuses the whole file with 400 ``validation_error``
    whose ``errors`` maps ``"row N"`` (N = line number in the file) to readable messages — nothing
    is written then. Hubs may be defined in the same file (rows are applied hubs first).
    ``active=false`` on an existing center deactivates it (same refusal as ``center_deactivate``).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("code", "name", "kind", "county_adcode", "lat", "lng") if c not in (reader.fieldnames or [])]
    if missing:
        raise DomainError(
            "validation_error",
            _("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)},
            status=400,
            field="file",
        )
    # Our export quotes cells a spreadsheet would run as formulas ('=..., '+86...); read them back as typed.
    rows = [{k: csv_unescape(v) if isinstance(v, str) else v for k, v in row.items()} for row in reader]
    if not rows:
        raise DomainError("validation_error", _("The file has no rows."), status=400, field="file")

    regions = {
        r.adcode: r
        for r in Region.objects.filter(
            adcode__in={(r.get("county_adcode") or "").strip() for r in rows}
        ).select_related("parent__parent")
    }
    codes_in_file = [(r.get("code") or "").strip() for r in rows]
    existing = {
        c.code: c
        for c in ServiceCenter.objects.filter(
            code__in=set(codes_in_file) | {(r.get("hub_code") or "").strip() for r in rows}
        )
    }
    errors: dict[str, list[str]] = {}
    parsed: list[dict] = []
    seen: set[str] = set()
    kinds_in_file = {(r.get("code") or "").strip(): (r.get("kind") or "").strip() for r in rows}
    for line, row in enumerate(rows, start=2):
        row_errors: list[str] = []
        code = (row.get("code") or "").strip()
        if not code:
            row_errors.append(_("code is required."))
        elif code in seen:
            row_errors.append(_("code %(code)s appears twice.") % {"code": code})
        seen.add(code)
        values: dict = {
            "name": (row.get("name") or "").strip(),
            "kind": (row.get("kind") or "").strip(),
            "address": (row.get("address") or "").strip(),
            "phone": (row.get("phone") or "").strip(),
            "services": [s.strip() for s in (row.get("services") or "").replace(",", ";").split(";") if s.strip()],
        }
        if not values["name"]:
            row_errors.append(_("name is required."))
        if values["kind"] not in CenterKind.values:
            row_errors.append(_("kind: unknown value %(v)r.") % {"v": values["kind"]})
        unknown = [s for s in values["services"] if s not in SERVICE_VALUES]
        if unknown:
            row_errors.append(_("services: unknown %(s)s.") % {"s": ", ".join(unknown)})
        for coord, lo, hi in (("lat", -90, 90), ("lng", -180, 180)):
            try:
                values[coord] = float((row.get(coord) or "").strip())
                if not lo <= values[coord] <= hi:
                    raise ValueError
            except ValueError:
                row_errors.append(_("%(f)s: not a coordinate: %(v)r.") % {"f": coord, "v": row.get(coord)})
        official = _parse_bool(row.get("official", "true") or "true", "official", row_errors)
        active = _parse_bool(row.get("active", "true") or "true", "active", row_errors)
        values["official"] = official
        opened = (row.get("opened_on") or "").strip()
        values["opened_on"] = None
        if opened:
            try:
                values["opened_on"] = datetime.strptime(opened, "%Y-%m-%d").date()
            except ValueError:
                row_errors.append(_("opened_on: expected YYYY-MM-DD, got %(v)r.") % {"v": opened})
        adcode = (row.get("county_adcode") or "").strip()
        region = regions.get(adcode)
        if region is None or region.level == RegionLevel.PROVINCE:
            row_errors.append(_("county_adcode: %(v)r is not a known county adcode.") % {"v": adcode})
        hub_code = (row.get("hub_code") or "").strip()
        if hub_code:
            hub_kind = kinds_in_file.get(hub_code) or (existing[hub_code].kind if hub_code in existing else None)
            if hub_kind is None:
                row_errors.append(_("hub_code: unknown center %(v)r.") % {"v": hub_code})
            elif hub_kind not in (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB):
                row_errors.append(_("hub_code: %(v)r does not repair devices.") % {"v": hub_code})
            elif hub_code == code:
                row_errors.append(_("hub_code: a center cannot be its own hub."))
        elif values["kind"] == CenterKind.COLLECTION_POINT:
            row_errors.append(_("hub_code: a collection point needs a hub."))
        if row_errors:
            errors[_("row %(n)d") % {"n": line}] = row_errors
            continue
        parsed.append(
            {"line": line, "code": code, "values": values, "region": region, "hub_code": hub_code, "active": active}
        )
    if errors:
        raise DomainError(
            "validation_error",
            _("%(n)d row(s) have errors; nothing was imported.") % {"n": len(errors)},
            status=400,
            errors=errors,
        )

    created = updated = unchanged = 0
    hub_kinds = (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB)
    parsed.sort(key=lambda p: (p["values"]["kind"] not in hub_kinds, p["code"]))
    with transaction.atomic():
        by_code = dict(existing)
        for item in parsed:
            try:
                center, outcome = _import_one(item, by_code, actor)
            except DomainError as exc:
                # Rolls back every row written so far: the file is all or nothing.
                raise DomainError(
                    "validation_error",
                    _("Row %(n)d was refused; nothing was imported.") % {"n": item["line"]},
                    status=400,
                    errors={_("row %(n)d") % {"n": item["line"]}: [f"{exc.field or exc.code}: {exc.message}"]},
                ) from exc
            by_code[item["code"]] = center
            created += outcome == "created"
            updated += outcome == "updated"
            unchanged += outcome == "unchanged"
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _import_one(item: dict, by_code: dict, actor) -> tuple[ServiceCenter, str]:
    values = dict(item["values"])
    values["hub"] = by_code.get(item["hub_code"]) if item["hub_code"] else None
    region = item["region"]
    current = by_code.get(item["code"])
    if current is None:
        center = center_create(code=item["code"], region=region, actor=actor, **values)
        if item["active"] is False:
            center = center_deactivate(center_id=center.pk, actor=actor)
        return center, "created"
    diff = {k: v for k, v in values.items() if getattr(current, k) != v}
    if item["active"] and not current.active:
        diff["active"] = True
    region_changed = current.region_id != region.pk
    center = current
    if diff or region_changed:
        center = center_update(center_id=current.pk, actor=actor, region=region if region_changed else None, **diff)
    if item["active"] is False and center.active:
        center = center_deactivate(center_id=center.pk, actor=actor)
        return center, "updated"
    return center, "updated" if (diff or region_changed) else "unchanged"


# --- store reports (issue #22) ---------------------------------------------------------
# The public reports a store that may pass itself off as official; HQ triages the reports and exports them for
# the authorities. The region comes from the address through a resolver registered by the app that parses
# Chinese addresses (booking, with cpca): centers stands below it and never imports it.

AddressRegionResolver = Callable[[str], "Region | None"]
_address_region_resolvers: list[AddressRegionResolver] = []

STORE_REPORT_TRIAGE_ROLES = ("hq",)


def address_region_resolver_register(resolver: AddressRegionResolver) -> None:
    """``resolver(address)`` -> the most precise ``Region`` the address names, or None (booking registers it)."""
    if resolver not in _address_region_resolvers:
        _address_region_resolvers.append(resolver)


def address_region(address: str) -> Region | None:
    for resolve in _address_region_resolvers:
        region = resolve(address)
        if region is not None:
            return region
    return None


def client_ip_hash(ip: str) -> str:
    """A keyed hash of the client's address: reports from one client can be grouped, the address is not kept."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"store-report:{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def _report_text(field: str, value, *, max_length: int, required: bool) -> str:
    text = " ".join(str(value or "").split()) if field != "note" else str(value or "").strip()
    if required and not text:
        raise _invalid(field, _("This field is required."))
    if len(text) > max_length:
        raise _invalid(field, _("At most %(n)d characters.") % {"n": max_length})
    return text


def store_report_create(
    *,
    name: str,
    address: str,
    phone: str = "",
    note: str = "",
    reporter_contact: str = "",
    photos: Sequence = (),
    client_ip: str = "",
) -> StoreReport:
    """Record a report of a suspected unofficial store, with up to 3 photos; emits ``store_report.created``.

    Public (no actor): the interfaces throttle it per client address. Photos are checked and re-encoded
    before the transaction (``centers.photos``: 400 ``too_many_photos``, ``photo_too_large``, ``not_an_image``);
    400 ``validation_error`` for a missing name or address.
    """
    values = {
        "name": _report_text("name", name, max_length=200, required=True),
        "address": _report_text("address", address, max_length=300, required=True),
        "phone": _report_text("phone", phone, max_length=32, required=False),
        "note": _report_text("note", note, max_length=2000, required=False),
        "reporter_contact": _report_text("reporter_contact", reporter_contact, max_length=100, required=False),
    }
    photos_check_count(photos)
    cleaned = [photo_clean(p) for p in photos]
    region = address_region(values["address"])
    province = region_province(region=region) if region is not None else None
    with transaction.atomic():
        report = StoreReport.objects.create(
            **values, region=region, province=province, client_ip_hash=client_ip_hash(client_ip)
        )
        for content in cleaned:
            photo = StoreReportPhoto(report=report)
            photo.image.save(content.name, content, save=False)
            photo.save()
        emit(
            "store_report.created",
            {
                "report_id": report.pk,
                "province": province.adcode if province is not None else None,
                "photos": len(cleaned),
            },
            center_id=None,
        )
    return report


def store_report_triage_refusal(*, status: str, note: str) -> DomainError | None:
    """Why this status and note cannot be set (None when they can): the admin's form asks it too."""
    if status not in StoreReportStatus.values:
        return _invalid("status", _("Unknown status."))
    if status not in (StoreReportStatus.NEW, StoreReportStatus.INVESTIGATING) and not (note or "").strip():
        return _invalid("triage_note", _("Say why in the note: it goes to the authorities with the export."))
    return None


def store_report_triage(*, actor: Actor, report_ids: Iterable[int], status: str, note: str = "") -> int:
    """Set the status of reports (HQ only) with a note; records who and when. Returns how many changed.

    403 ``forbidden`` without the HQ role; 400 ``validation_error`` for an unknown status or, when the outcome
    is decided (confirmed unofficial, official after all, dismissed), without a note.
    """
    if not isinstance(actor, Actor) or not any(actor.has_role(r) for r in STORE_REPORT_TRIAGE_ROLES):
        raise DomainError("forbidden", _("Only HQ triages store reports."), status=403)
    note = (note or "").strip()
    refusal = store_report_triage_refusal(status=status, note=note)
    if refusal is not None:
        raise refusal
    ids = sorted(set(report_ids))
    now = timezone.now()
    with transaction.atomic():
        reports = lock_many(StoreReport, ids)
        for report in reports.values():
            report.status = status
            if note:
                report.triage_note = note
            report.handled_by = actor.user if getattr(actor.user, "pk", None) else None
            report.handled_at = now
            report.save(update_fields=["status", "triage_note", "handled_by", "handled_at"])
    return len(reports)
