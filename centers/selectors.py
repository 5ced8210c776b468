"""Reads of the service network: regions, hours, nearest centers, verification, coverage.

Everything here is side-effect free. Times are judged in the centers' local zone
(all centers are in China: Asia/Shanghai, whatever zone the caller's datetime carries).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt
from django.utils import timezone
from django.utils.translation import get_language

from servicehub.dbrouter import primary_reads
from servicehub.prepared import PreparedQuery

from .calendar import NATIONAL_HOLIDAYS, NATIONAL_MAKEUP_WORKDAYS, BusinessCalendar, calendar_build
from .calendar import is_open as calendar_is_open
from .choices import CenterKind, RegionLevel
from .geo import EARTH_RADIUS_KM, bounding_box
from .models import OpeningException, OpeningHours, Region, ServiceCenter, ServiceDay, StaffMembership

CENTER_TZ = ZoneInfo("Asia/Shanghai")
# The ServiceCenter field that holds a region of each level (counties: ``region``).
_LEVEL_FIELD: dict[str, str] = {RegionLevel.PROVINCE: "province", RegionLevel.CITY: "city"}


# --- regions -----------------------------------------------------------------


def region_by_adcode(*, adcode: str) -> Region | None:
    """The region with this adcode; 6-digit codes (the common short form) are padded to 12."""
    adcode = (adcode or "").strip()
    if not adcode.isdigit() or len(adcode) not in (6, 12):
        return None
    if len(adcode) == 6:
        adcode += "000000"
    return Region.objects.filter(adcode=adcode).first()


def region_province(*, region: Region) -> Region:
    """The province a region belongs to (itself for a province), without walking parents.

    Adcodes encode the hierarchy: the first two digits are the province.
    """
    if region.level == RegionLevel.PROVINCE:
        return region
    return Region.objects.get(adcode=region.adcode[:2] + "0" * 10)


def region_city(*, region: Region) -> Region | None:
    """The prefecture-level unit of a county (itself for a city, None for a province)."""
    if region.level == RegionLevel.PROVINCE:
        return None
    if region.level == RegionLevel.CITY:
        return region
    return Region.objects.filter(adcode=region.adcode[:4] + "0" * 8).first()


# --- opening hours -----------------------------------------------------------


def local_now(at: datetime | None = None) -> datetime:
    """``at`` (default: now) in the centers' local zone."""
    at = at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at, CENTER_TZ)
    return at.astimezone(CENTER_TZ)


def _prefetched(center, name):
    cache = getattr(center, "_prefetched_objects_cache", {})
    return cache.get(name)


def center_hours_on(*, center, day: date, exceptions: list[Any] | None = None) -> list[tuple[time, time]]:
    """The center's opening intervals on a local date; ``[]`` = closed.

    A dated exception (closed, or special hours such as Spring Festival) replaces the weekly
    hours of that day entirely. Several weekly rows on one weekday make a lunch break.
    Uses prefetched ``opening_hours`` / ``opening_exceptions`` when present (no query), or the dated
    ``exceptions`` given (a list that covers ``day``). National holidays and make-up working days apply as in
    ``centers.calendar`` (unless ``opens_on_public_holidays``).
    """
    if exceptions is None:
        exceptions = _prefetched(center, "opening_exceptions")
    if exceptions is not None:
        exception = next((e for e in exceptions if e.date == day), None)
    else:
        exception = OpeningException.objects.filter(center=center, date=day).first()
    if exception is not None:
        return [] if exception.closed else [(exception.opens, exception.closes)]
    hours = _prefetched(center, "opening_hours")
    # The date first: an ordinary day never reads the flag (a center loaded with .only() pays no query).
    if (day in NATIONAL_HOLIDAYS or day in NATIONAL_MAKEUP_WORKDAYS) and not center.opens_on_public_holidays:
        every = list(hours) if hours is not None else list(OpeningHours.objects.filter(center=center))
        if every and day in NATIONAL_HOLIDAYS:
            return []
        if day in NATIONAL_MAKEUP_WORKDAYS and not any(h.weekday == day.weekday() for h in every):
            first = next((wd for wd in range(5) if any(h.weekday == wd for h in every)), None)
            return sorted((h.opens, h.closes) for h in every if h.weekday == first)
        hours = every
    if hours is None:
        hours = OpeningHours.objects.filter(center=center, weekday=day.weekday())
    return sorted((h.opens, h.closes) for h in hours if h.weekday == day.weekday())


def interval_holds(opens: time, closes: time, t: time) -> bool:
    """Does an interval that opened today hold the time of day ``t``? One that closes at or before it opens
    runs past midnight (20:00-02:00): from ``opens`` on, today."""
    return opens <= t < closes if opens < closes else opens <= t


def center_is_open(*, center, at: datetime | None = None, exceptions: list[Any] | None = None) -> bool:
    """Is the (active) center open at ``at`` (default now), judged in its local time?

    Intervals are half-open: open at ``opens``, closed at ``closes``. The day's hours follow the national
    calendar and the center's exceptions (``center_hours_on``); an overnight interval of yesterday still holds
    in the small hours. ``open_at_q`` is the SQL twin; both agree with ``centers.calendar.is_open``.
    """
    if not center.active:
        return False
    now = local_now(at)
    t = now.time().replace(tzinfo=None)
    today = center_hours_on(center=center, day=now.date(), exceptions=exceptions)
    if any(interval_holds(opens, closes, t) for opens, closes in today):
        return True
    yesterday = center_hours_on(center=center, day=now.date() - timedelta(days=1), exceptions=exceptions)
    return any(t < closes <= opens for opens, closes in yesterday)


def center_next_opening(*, center, at: datetime | None = None, days: int = 8) -> datetime | None:
    """When a closed center opens next (local, aware), looking ``days`` ahead; None when it is open
    now or has no opening in that window. Uses prefetched hours/exceptions when present."""
    now = local_now(at)
    t = now.time().replace(tzinfo=None)
    for offset in range(days):
        day = date.fromordinal(now.date().toordinal() + offset)
        for opens, closes in center_hours_on(center=center, day=day):
            if offset == 0 and opens <= t < closes:
                return None
            if offset > 0 or opens > t:
                return datetime.combine(day, opens, tzinfo=CENTER_TZ)
    return None


def regions_named(*, name: str) -> list[Region]:
    """Non-placeholder regions whose name is exactly ``name`` (provinces first, then cities, counties)."""
    name = (name or "").strip()
    if not name:
        return []
    order: dict[str, int] = {RegionLevel.PROVINCE: 0, RegionLevel.CITY: 1, RegionLevel.COUNTY: 2}
    rows = list(Region.objects.filter(name=name, is_placeholder=False).select_related("parent__parent"))
    return sorted(rows, key=lambda r: (order.get(r.level, 3), r.adcode))


def _day_open_q(day: date, holds) -> Q | Combinable:
    """A center has an interval opening on ``day`` for which ``holds(rows)`` finds a row: the SQL twin of
    ``center_hours_on`` (its exception, the national holiday and make-up working day rules, the weekly hours).
    The national calendar is the same for every center, so the date's kind is settled here, not in SQL."""
    exception = OpeningException.objects.filter(center=OuterRef("pk"), date=day)
    own = OpeningHours.objects.filter(center=OuterRef("pk"), weekday=day.weekday())
    regular: Q | Combinable
    if day in NATIONAL_HOLIDAYS:
        regular = Q(opens_on_public_holidays=True) & Exists(holds(own))
    elif day in NATIONAL_MAKEUP_WORKDAYS:
        # 调休: a center with no hours on that weekday works its first Monday-Friday hours that day.
        first_weekday = (
            OpeningHours.objects.filter(center=OuterRef("center"), weekday__lt=5).order_by("weekday").values("weekday")
        )
        worked = OpeningHours.objects.filter(center=OuterRef("pk"), weekday=Subquery(first_weekday[:1]))
        regular = Exists(holds(own)) | (Q(opens_on_public_holidays=False) & ~Exists(own) & Exists(holds(worked)))
    else:
        regular = Exists(holds(own))
    return (~Exists(exception) & regular) | Exists(holds(exception.filter(closed=False)))


def open_at_q(at: datetime | None = None) -> Q | Combinable:
    """SQL twin of ``center_is_open``, usable in ``filter()`` or as an annotation (one query): today's
    intervals that hold the time, or yesterday's overnight ones that have not closed yet."""
    now = local_now(at)
    today, t = now.date(), now.time().replace(tzinfo=None)

    def today_holds(rows):
        return rows.filter(Q(opens__lte=t, closes__gt=t) | Q(closes__lte=F("opens"), opens__lte=t))

    def carried_over(rows):
        return rows.filter(closes__lte=F("opens"), closes__gt=t)

    open_q: Q | Combinable = Q(active=True) & (
        _day_open_q(today, today_holds) | _day_open_q(today - timedelta(days=1), carried_over)
    )
    return open_q


# --- search ------------------------------------------------------------------


def distance_km_expression(*, lat: float, lng: float):
    """Haversine distance from (lat, lng) to each row, in SQL (PostgreSQL and SQLite alike)."""
    import math

    lat_r = math.radians(lat)
    return _haversine(lat_r=lat_r, lng_r=math.radians(lng), cos_lat=math.cos(lat_r))


def _haversine(*, lat_r: float, lng_r: float, cos_lat: float):
    """``distance_km_expression`` from the point's radians and the cosine of its latitude (each one parameter:
    the prepared nearest search binds them)."""
    dlat = (Radians(F("lat")) - Value(lat_r)) / Value(2.0)
    dlng = (Radians(F("lng")) - Value(lng_r)) / Value(2.0)
    a = Power(Sin(dlat), 2) + Value(cos_lat) * Cos(Radians(F("lat"))) * Power(Sin(dlng), 2)
    return ExpressionWrapper(Value(2 * EARTH_RADIUS_KM) * ASin(Sqrt(Least(a, Value(1.0)))), output_field=FloatField())


def _within(qs, *, lat_r, lng_r, cos_lat, min_lat, max_lat, radius_km, all_lng: bool, min_lng=None, max_lng=None):
    """``qs`` limited to ``radius_km`` of the point by the indexed box and the haversine distance, nearest first
    (ties by code), with ``distance_km``."""
    qs = qs.filter(lat__gte=min_lat, lat__lte=max_lat)
    if not all_lng:
        qs = qs.filter(lng__gte=min_lng, lng__lte=max_lng)
    return (
        qs.annotate(distance_km=_haversine(lat_r=lat_r, lng_r=lng_r, cos_lat=cos_lat))
        .filter(distance_km__lte=radius_km)
        .order_by("distance_km", "code")
    )


def _near_values(lat: float, lng: float, radius_km: float) -> tuple[dict[str, float], bool]:
    import math

    box = bounding_box(lat, lng, radius_km)
    lat_r = math.radians(lat)
    values = {
        "lat_r": lat_r,
        "lng_r": math.radians(lng),
        "cos_lat": math.cos(lat_r),
        "min_lat": box.min_lat,
        "max_lat": box.max_lat,
        "min_lng": box.min_lng,
        "max_lng": box.max_lng,
        "radius_km": float(radius_km),
    }
    return values, box.all_lng


_NEAREST_PAGES: dict[tuple[bool, int, int], PreparedQuery[ServiceCenter]] = {}
NEAREST_PREPARED_PAGE_SIZES = frozenset((5, 10, 20, 50, 100))
NEAREST_PREPARED_PAGES = 3
_NEAREST_FLOATS = frozenset(("lat_r", "lng_r", "cos_lat", "min_lat", "max_lat", "min_lng", "max_lng", "radius_km"))


def centers_nearest_page(*, lat: float, lng: float, radius_km: float, offset: int, limit: int) -> list[ServiceCenter]:
    """One page of the plain nearest search -- ``centers_search(near=..., radius_km=..., annotate_open=False)``
    with no other filter -- each row with ``distance_km`` and ``_total`` (the count of all matches, ``COUNT(*)
    OVER ()``), as the centers list API pages it. The query is compiled once per process for each page window
    (servicehub.prepared): building and compiling the haversine query cost three times what running it does.
    tests/centers/test_nearest_prepared.py holds it to ``centers_search``'s answers."""
    values, all_lng = _near_values(lat, lng, radius_km)
    if limit not in NEAREST_PREPARED_PAGE_SIZES or offset >= NEAREST_PREPARED_PAGES * limit:
        # Django writes LIMIT and OFFSET into the SQL, so each page window is a statement of its own, prepared on
        # every connection: only the first pages of the usual sizes are (a crawler paging deep would otherwise
        # leave thousands of plans in each database session). Deeper pages are the same query, built each time.
        qs = _within(ServiceCenter.objects.select_related("region").filter(active=True), all_lng=all_lng, **values)
        return list(qs.annotate(_total=Window(Count("pk")))[offset : offset + limit])
    key = (all_lng, offset, limit)
    query = _NEAREST_PAGES.get(key)
    if query is None:

        def build(**v):
            qs = _within(ServiceCenter.objects.select_related("region").filter(active=True), all_lng=all_lng, **v)
            return qs.annotate(_total=Window(Count("pk")))[offset : offset + limit]

        names = _NEAREST_FLOATS if not all_lng else _NEAREST_FLOATS - {"min_lng", "max_lng"}
        query = _NEAREST_PAGES.setdefault(key, PreparedQuery(build, model=ServiceCenter, floats=names))
    if all_lng:
        values = {k: v for k, v in values.items() if k not in ("min_lng", "max_lng")}
    return query.run(**values)


def _service_q(service: str) -> Q:
    if connection.vendor == "postgresql":
        return Q(services__contains=[service])
    # SQLite has no JSON containment; the list is stored as JSON text and values are a fixed
    # vocabulary, so the quoted value cannot match a longer one.
    return Q(services_text__contains=f'"{service}"')


def centers_search(
    *,
    near: tuple[float, float] | None = None,
    radius_km: float | None = None,
    kind: str | None = None,
    service: str | None = None,
    open_now: bool = False,
    region: Region | None = None,
    at: datetime | None = None,
    active_only: bool = True,
    annotate_open: bool = True,
) -> QuerySet[ServiceCenter]:
    """Centers matching the filters, annotated with ``is_open_now`` (and ``distance_km`` with ``near``).

    ``annotate_open=False`` leaves ``is_open_now`` out of the SQL (unless ``open_now`` filters on it): the
    caller works it out from the cached calendars (``centers_set_open_now``), which costs no query when they
    are cached, where the annotation is a tree of EXISTS subqueries Django builds and compiles every time.

    With ``near`` the rows are limited to ``radius_km`` by an indexed bounding box on (lat, lng)
    and then the exact haversine distance, and sorted by distance (ties by code); ``radius_km=None``
    with ``near`` sorts by distance without a limit (the "nearest anywhere" fallback, usually
    together with ``region``). Without ``near`` they are sorted by code. One SQL query; add the
    opening hours prefetch for a second.
    """
    qs = ServiceCenter.objects.select_related("region")
    if active_only:
        qs = qs.filter(active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if service:
        if connection.vendor != "postgresql":
            qs = qs.annotate(services_text=Cast("services", TextField()))
        qs = qs.filter(_service_q(service))
    if region is not None:
        level_field = _LEVEL_FIELD.get(region.level, "region")
        qs = qs.filter(**{level_field: region})
    if annotate_open or open_now:
        annotated = qs.annotate(is_open_now=ExpressionWrapper(open_at_q(at), output_field=BooleanField()))
        qs = annotated.filter(is_open_now=True) if open_now else annotated
    if near is None:
        return qs.order_by("code")
    lat, lng = near
    if radius_km is None:
        return qs.annotate(distance_km=distance_km_expression(lat=lat, lng=lng)).order_by("distance_km", "code")
    values, all_lng = _near_values(lat, lng, radius_km)
    return _within(qs, all_lng=all_lng, **values)


def hours_prefetch() -> Prefetch:
    """The weekly hours in the order pages and the API list them."""
    return Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens"))


def with_hours(qs: QuerySet[ServiceCenter]) -> QuerySet[ServiceCenter]:
    """Prefetch the weekly hours (one extra query for any number of centers)."""
    return qs.prefetch_related(hours_prefetch())


def centers_nearest(
    *,
    lat: float,
    lng: float,
    radius_km: float,
    kind: str | None = None,
    service: str | None = None,
    limit: int | None = None,
    open_now: bool = False,
    at: datetime | None = None,
) -> list[ServiceCenter]:
    """Active centers within ``radius_km`` of (lat, lng), nearest first, each with ``distance_km``
    and ``is_open_now`` set and its weekly hours prefetched. Exactly two SQL queries."""
    qs = with_hours(
        centers_search(near=(lat, lng), radius_km=radius_km, kind=kind, service=service, open_now=open_now, at=at)
    )
    return list(qs[:limit] if limit is not None else qs)


# --- cached public data --------------------------------------------------------
#
# What every visitor of a center's page (and every tracking page of its tickets) sees is the same
# until staff change the center, its hours or its exceptions, so it is cached under a *versioned*
# key: ``centers.services.center_cache_bump`` gives the center (or, for bulk changes, the whole
# network) a new random version after the writing transaction commits, and the next read misses.
# Nothing is ever deleted, so a reader that raced the write can only store the old data under the
# old version, which nobody reads any more. Versions are random tokens, not counters: a version key
# evicted from Redis comes back as a new token, never as one whose old entries still exist.
# The TTL is only a safety net for writes that bypass the services (raw SQL, a shell).

PUBLIC_CACHE_SECONDS = 600
CENTER_CODE_MAX_LENGTH = ServiceCenter._meta.get_field("code").max_length or 32
_CACHE_SCHEMA = "3"  # bump when the cached shape changes (entries of old code are then ignored)
NETWORK_VERSION_KEY = "centers:v:*"
# Changes with *any* center's version (``center_cache_bump`` sets it on every write, one center or all): what
# lists many centers (the search pages, ``web.find``) is cached under it. "@" is not in a center code's cache
# form (``cache_code`` digests such codes), so no center's version key can be this one.
DIRECTORY_VERSION_KEY = "centers:v:@directory"


_KEY_SAFE = re.compile(r"[A-Za-z0-9._-]{1,32}")


def cache_code(code: str) -> str:
    """``code`` as it goes into a cache key: itself when it is plain ASCII (every real center code), else a
    digest -- a code read from a URL may hold spaces or control characters, which memcached refuses and a
    Redis key should not carry."""
    if _KEY_SAFE.fullmatch(code):
        return code
    return "h" + hashlib.blake2b(code.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def center_version_key(code: str) -> str:
    return f"centers:v:{cache_code(code)}"


def center_cache_version_keys(*, code: str) -> list[str]:
    """The cache keys a center's cache version is made of, for a caller that reads them with its own keys (then
    ``center_cache_version_in``)."""
    return [NETWORK_VERSION_KEY, center_version_key(code)]


def center_cache_version_in(found: dict, *, code: str) -> str | None:
    """The center's cache version from keys read by ``center_cache_version_keys`` (None: one was missing; then
    ``center_cache_version`` creates it)."""
    network, own = center_cache_version_keys(code=code)
    if network in found and own in found:
        return f"{found[network]}.{found[own]}"
    return None


def center_cache_version(*, code: str) -> str:
    """The current cache version of a center (network version + center version), creating either."""
    return center_cache_version_created(code=code)[0]


def center_cache_version_created(*, code: str) -> tuple[str, bool]:
    """``(version, created)``: ``created`` when this call created the center's own version key -- a reader
    of a code from a URL that then finds no center calls ``center_cache_forget`` so made-up codes leave no
    key behind."""
    keys = center_cache_version_keys(code=code)
    got = cache.get_many(keys)
    created = False
    for key in keys:
        if key not in got:
            added = cache.add(key, uuid.uuid4().hex[:12], timeout=None)
            created = created or (added and key == keys[1])
            got[key] = cache.get(key) or "0"
    return f"{got[keys[0]]}.{got[keys[1]]}", created


def directory_cache_version() -> str:
    """The version of the whole directory: a new token after any write of any center, its hours or exceptions
    (``centers.services.center_cache_bump``). One cache read; created on first use."""
    version = cache.get(DIRECTORY_VERSION_KEY)
    if version is None:
        cache.add(DIRECTORY_VERSION_KEY, uuid.uuid4().hex[:12], timeout=None)
        version = cache.get(DIRECTORY_VERSION_KEY) or "0"
    return version


def center_cache_forget(*, code: str) -> None:
    """Drop the version key of a code that names no center (anonymous callers cannot fill the cache with
    versions of made-up codes; tests/centers/test_public_cache.py)."""
    cache.delete(center_version_key(code))


def _center_public_detail_query(*, code: str, today: date, at: datetime | None) -> ServiceCenter | None:
    qs = with_hours(centers_search(at=at)).prefetch_related(
        Prefetch(  # from yesterday: an overnight interval of yesterday's may still hold (is_open_now)
            "opening_exceptions",
            queryset=OpeningException.objects.filter(date__gte=today - timedelta(days=1)).order_by("date"),
            to_attr="recent_exceptions",
        ),
        Prefetch(
            "service_days",
            queryset=ServiceDay.objects.filter(date__gte=today, active=True).order_by("date"),
            to_attr="upcoming_service_days",
        ),
    )
    center = qs.filter(code=code).first()
    if center is not None:  # what the page and the API list: today on
        recent: list[OpeningException] = center.recent_exceptions  # a Prefetch to_attr
        center.upcoming_exceptions = [e for e in recent if e.date >= today]  # type: ignore[attr-defined]
    return center


def _open_from_prefetched(center: ServiceCenter, now: datetime) -> bool:
    """``open_at_q`` on a center whose weekly hours and exceptions from yesterday on are prefetched: the
    national holidays, make-up working days and yesterday's overnight interval included (``center_is_open``)."""
    recent: list[OpeningException] = center.recent_exceptions  # type: ignore[attr-defined]  # Prefetch to_attr
    return center_is_open(center=center, at=now, exceptions=recent)


def center_public_detail(
    *, code: str, at: datetime | None = None, rendered: tuple[str, ...] = ()
) -> ServiceCenter | None:
    """An active center by code, with ``is_open_now``, hours, upcoming exceptions and Service Days.

    Four queries on a cache miss, none on a hit (the entry is per center and local date and holds the center
    version it was read under: an entry of another version is read again; ``is_open_now`` is recomputed from
    the cached hours on every call). One cache round trip on a hit: the center's version, the entry and the
    ``rendered`` kinds the caller will ask ``center_public_rendered`` for (in the active language) are read in
    one ``get_many``.
    """
    now = local_now(at)
    today = now.date()
    if not code or len(code) > CENTER_CODE_MAX_LENGTH:
        return None  # no center can have it: no query, nothing cached
    key = f"centers:pub:{_CACHE_SCHEMA}:{cache_code(code)}:{today.isoformat()}"
    rendered_keys = [_rendered_key(key, kind) for kind in rendered]
    found = cache.get_many([*center_cache_version_keys(code=code), key, *rendered_keys])
    version, created = center_cache_version_in(found, code=code), False
    if version is None:
        version, created = center_cache_version_created(code=code)
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        center = entry[1]
    else:
        with primary_reads():  # never cache a lagging replica's rows under the new version
            center = _center_public_detail_query(code=code, today=today, at=at)
        if center is None:
            if created:
                center_cache_forget(code=code)
            return None
        cache.set(key, (version, center), PUBLIC_CACHE_SECONDS)
    center.is_open_now = _open_from_prefetched(center, now)
    # Interfaces cache what they render of it beside this entry (center_public_rendered): same version, same day.
    center.public_cache_key, center.public_cache_version = key, version
    center.public_rendered = {k: found[k] for k in rendered_keys if k in found}
    return center


def _rendered_key(key: str, kind: str) -> str:
    return f"{key}:{kind}:{get_language()}"


def center_public_rendered(*, center: ServiceCenter, kind: str, render: Callable[[], Any]) -> Any:
    """``render()`` of a center from ``center_public_detail``, cached beside it (same center version
    and local date, so every change that shows in the detail shows here at once) per ``kind`` and
    language. What depends on the time (``is_open_now``) must be laid over it by the caller. Read with the
    center when ``center_public_detail`` was asked for this ``kind`` (``rendered=``)."""
    key = _rendered_key(center.public_cache_key, kind)  # type: ignore[attr-defined]  # center_public_detail's
    version = center.public_cache_version  # type: ignore[attr-defined]
    prefetched = center.public_rendered  # type: ignore[attr-defined]
    entry = prefetched[key] if key in prefetched else cache.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]
    value = render()
    cache.set(key, (version, value), PUBLIC_CACHE_SECONDS)
    return value


def center_week_hours(
    *, center: ServiceCenter, start: date | None = None, days: int = 7, version: str | None = None
) -> list[dict]:
    """``[{"day": date, "hours": [(opens, closes), ...]}]`` for ``days`` local dates from ``start``.

    What ``center_hours_on`` says for each day (exceptions replace the weekly hours), for any
    center (active or not, any kind). One query on a cache miss (weekly hours UNION the
    exceptions of the range), none on a hit. ``version``: the center's cache version, if read already.
    """
    start = start or local_now().date()
    key = _week_key(center.code, version or center_cache_version(code=center.code), start, days)
    week = cache.get(key)
    if week is None:
        week = _week_hours_read(center, start, days)
        cache.set(key, week, PUBLIC_CACHE_SECONDS)
    return week


def _week_key(code: str, version: str, start: date, days: int) -> str:
    return f"centers:week:{_CACHE_SCHEMA}:{version}:{cache_code(code)}:{start}:{days}"


def _week_hours_read(center: ServiceCenter, start: date, days: int) -> list[dict]:
    """``center_week_hours``'s answer from the database (one query)."""
    end = start + timedelta(days=days - 1)
    weekly_rows = (
        OpeningHours.objects.filter(center_id=center.pk)
        .annotate(kind=Value(0), day=Value(None, output_field=DateField()), is_closed=Value(False))
        .order_by()
        .values_list("kind", "weekday", "day", "opens", "closes", "is_closed")
    )
    exception_rows = (
        OpeningException.objects.filter(center_id=center.pk, date__gte=start, date__lte=end)
        .annotate(kind=Value(1), wd=Value(-1))
        .order_by()
        .values_list("kind", "wd", "date", "opens", "closes", "closed")
    )
    weekly: dict[int, list] = {}
    exceptions: dict[date, tuple] = {}
    with primary_reads():
        rows = list(weekly_rows.union(exception_rows, all=True))
    for kind, weekday, day, opens, closes, closed in rows:
        if kind == 0:
            weekly.setdefault(weekday, []).append((opens, closes))
        else:
            exceptions[day if isinstance(day, date) else date.fromisoformat(str(day))] = (closed, opens, closes)
    week = []
    national = not center.opens_on_public_holidays  # the national calendar applies (centers/calendar.py)
    for i in range(days):
        day = start + timedelta(days=i)
        if day in exceptions:
            closed, opens, closes = exceptions[day]
            hours = [] if closed else [(opens, closes)]
        elif national and weekly and day in NATIONAL_HOLIDAYS:
            hours = []
        elif national and day in NATIONAL_MAKEUP_WORKDAYS and not weekly.get(day.weekday()):
            hours = sorted(next((weekly[wd] for wd in range(5) if weekly.get(wd)), []))
        else:
            hours = sorted(weekly.get(day.weekday(), []))
        week.append({"day": day, "hours": hours})
    return week


def center_week_rendered(
    *, center: ServiceCenter, render: Callable[[list[dict]], str], days: int = 7, version: str | None = None
) -> str:
    """``render(center_week_hours(...))`` from today, cached beside the week itself: the same center version
    and local date (so a change of hours or a closed day shows at once), per language. The tracking page
    shows a center's week to every customer of that center; formatting its dates and times was a tenth of
    the page. ``version``: the center's cache version, when the caller read it this request already."""
    start = local_now().date()
    version = version or center_cache_version(code=center.code)
    key = f"centers:weekhtml:{_CACHE_SCHEMA}:{version}:{cache_code(center.code)}:{start}:{days}:{get_language()}"
    week_key = _week_key(center.code, version, start, days)
    found = cache.get_many([key, week_key])  # the week itself read with its HTML: a miss costs no second read
    html = found.get(key)
    if html is None:
        week = found.get(week_key)
        if week is None:
            week = center_week_hours(center=center, start=start, days=days, version=version)
        html = render(week)
        cache.set(key, html, PUBLIC_CACHE_SECONDS)
    return html


# --- business-hours calendars -------------------------------------------------------------------------
#
# A center's ``BusinessCalendar`` (centers/calendar.py) is cached under the same center version as its public
# page, so any write of its hours or exceptions (services, admin inlines: ``center_cache_bump``) is seen by the
# next read. The key carries the local date: the exceptions loaded start CALENDAR_PAST_DAYS before it.

CALENDAR_PAST_DAYS = 92
CALENDAR_CACHE_SECONDS = 3600


def _calendar_key(code: str, version: str, today: date) -> str:
    return f"centers:cal:{_CACHE_SCHEMA}:{version}:{cache_code(code)}:{today.isoformat()}"


def center_calendars(
    *, centers: Iterable[ServiceCenter], today: date | None = None, versions: dict[int, str] | None = None
) -> dict[int, BusinessCalendar]:
    """``{center_id: BusinessCalendar}`` for these centers: no query when all are cached, else two queries
    (the weekly hours and the exceptions of every center missing from the cache), whatever their number.

    ``opens_on_public_holidays`` is taken from the given rows (load them with that field). ``versions``: the
    centers' ``center_cache_versions`` when the caller read them already (read here otherwise).
    """
    today = today or local_now().date()
    rows = {c.pk: c for c in centers}
    if not rows:
        return {}
    versions = versions if versions is not None else center_cache_versions(centers=rows.values())
    keys = {pk: _calendar_key(c.code, versions[pk], today) for pk, c in rows.items()}
    found = cache.get_many(list(keys.values()))
    out: dict[int, BusinessCalendar] = {}
    missing = []
    for pk, key in keys.items():
        cal = found.get(key)
        if cal is None:
            missing.append(pk)
        else:
            out[pk] = cal
    if missing:
        weekly: dict[int, list[tuple[int, time, time]]] = {pk: [] for pk in missing}
        exceptions: dict[int, list[tuple[date, bool, time | None, time | None]]] = {pk: [] for pk in missing}
        with primary_reads():  # never cache a lagging replica's rows under the new version
            for center_id, weekday, opens, closes in OpeningHours.objects.filter(center_id__in=missing).values_list(
                "center_id", "weekday", "opens", "closes"
            ):
                weekly[center_id].append((weekday, opens, closes))
            for center_id, day, closed, x_opens, x_closes in OpeningException.objects.filter(
                center_id__in=missing, date__gte=today - timedelta(days=CALENDAR_PAST_DAYS)
            ).values_list("center_id", "date", "closed", "opens", "closes"):
                exceptions[center_id].append((day, closed, x_opens, x_closes))
        fresh = {}
        for pk in missing:
            out[pk] = calendar_build(
                weekly=weekly[pk],
                exceptions=exceptions[pk],
                opens_on_public_holidays=rows[pk].opens_on_public_holidays,
            )
            fresh[keys[pk]] = out[pk]
        cache.set_many(fresh, CALENDAR_CACHE_SECONDS)
    return out


def center_cache_versions(*, centers: Iterable[ServiceCenter]) -> dict[int, str]:
    """``{center_id: version}`` (network version + center version, as ``center_cache_version``) for existing
    centers: one ``get_many``, and an ``add`` for each version not made yet."""
    rows = list(centers)
    version_keys = [NETWORK_VERSION_KEY] + [center_version_key(c.code) for c in rows]
    versions = cache.get_many(version_keys)
    for key in version_keys:
        if key not in versions:
            cache.add(key, uuid.uuid4().hex[:12], timeout=None)
            versions[key] = cache.get(key) or "0"
    network = versions[NETWORK_VERSION_KEY]
    return {c.pk: f"{network}.{versions[center_version_key(c.code)]}" for c in rows}


def centers_set_open_now(
    centers: Iterable[ServiceCenter], *, at: datetime | None = None, versions: dict[int, str] | None = None
) -> None:
    """Set ``is_open_now`` on each center from its business calendar (``center_calendars``: no query when
    cached, else two for all of them), judged as ``open_at_q`` judges it (tests compare the two)."""
    rows = list(centers)
    now = local_now(at)
    calendars = center_calendars(centers=rows, today=now.date(), versions=versions)
    for c in rows:
        c.is_open_now = c.active and calendar_is_open(calendars[c.pk], now)  # type: ignore[attr-defined]  # set here


def centers_rendered(
    *,
    centers: list[ServiceCenter],
    kind: str,
    render: Callable[[list[ServiceCenter]], list[Any]],
    versions: dict[int, str] | None = None,
) -> list[Any]:
    """``render(rows)`` of these centers, row by row from the cache: each row is cached under its center's
    version and the language (a write of the center, its hours or exceptions gives a new version), and
    ``render`` is called once, for the rows missing. What depends on the request (distance, open now) is the
    caller's to lay over the rows.

    The rows missing are read again from the primary *after* their versions were read, with their region, and
    ``render`` gets those: rows read before (the caller's page, perhaps on a lagging replica) could predate a
    write whose new version is already set, and would be cached under it. ``versions`` (read by the caller
    before, e.g. shared with ``centers_set_open_now``) keeps that order.
    """
    if not centers:
        return []
    versions = versions if versions is not None else center_cache_versions(centers=centers)
    language = get_language()
    keys = [f"centers:row:{_CACHE_SCHEMA}:{versions[c.pk]}:{cache_code(c.code)}:{kind}:{language}" for c in centers]
    found = cache.get_many(keys)
    missing = [i for i, key in enumerate(keys) if key not in found]
    if missing:
        with primary_reads():
            current = ServiceCenter.objects.select_related("region").in_bulk([centers[i].pk for i in missing])
            rendered = render([current[centers[i].pk] for i in missing])
        fresh = {keys[i]: row for i, row in zip(missing, rendered, strict=True)}
        cache.set_many(fresh, PUBLIC_CACHE_SECONDS)
        found.update(fresh)
    return [found[key] for key in keys]


def center_calendar(*, center: ServiceCenter, today: date | None = None) -> BusinessCalendar:
    """One center's business calendar (``center_calendars`` for one: two queries on a miss, none on a hit)."""
    return center_calendars(centers=[center], today=today)[center.pk]


# --- verification ------------------------------------------------------------

_NON_DIGITS = re.compile(r"\D+")


def phone_digits(phone: str) -> str:
    """Digits of a Chinese phone number without country code or trunk zero.

    ``+86 21 6123 4567``, ``0086-21-61234567`` and ``021-61234567`` all give ``2161234567``;
    mobiles keep their 11 digits.
    """
    digits = _NON_DIGITS.sub("", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:
        digits = digits[2:]
    return digits[1:] if digits.startswith("0") else digits


def _name_key(name: str) -> str:
    return re.sub(r"\s+", "", name or "").casefold()


@dataclass(frozen=True)
class Verification:
    official: bool
    matches: list = field(default_factory=list)  # official active centers matching every criterion
    suggestions: list = field(default_factory=list)  # official centers whose name only contains the query


def centers_verify(*, phone: str = "", name: str = "", city: str = "", limit: int = 20) -> Verification:
    """Is this phone number / store name an official, active center (optionally in ``city``)?

    ``official`` is true only for an exact match: same phone digits (country code, trunk zero,
    spaces and dashes ignored) and/or the same name (case and spaces ignored). Names that merely
    contain the query are returned as ``suggestions`` and do not make a store official: a
    look-alike store name must not pass.
    """
    qs = ServiceCenter.objects.filter(official=True, active=True).select_related("region")
    if phone:
        digits = phone_digits(phone)
        if not digits:
            return Verification(official=False)
        qs = qs.filter(phone_digits=digits)
    if city:
        city = city.strip()
        if city.isdigit():
            region = region_by_adcode(adcode=city)
            if region is None:
                return Verification(official=False)
            level_field = _LEVEL_FIELD.get(region.level, "region")
            qs = qs.filter(**{level_field: region})
        else:
            qs = qs.filter(
                Q(city__name__icontains=city) | Q(region__name__icontains=city) | Q(province__name__icontains=city)
            )
    if name:
        key = _name_key(name)
        candidates = list(with_hours(qs.filter(name__icontains=name.strip()).order_by("code"))[: limit * 5])
        matches = [c for c in candidates if _name_key(c.name) == key][:limit]
        suggestions = [c for c in candidates if _name_key(c.name) != key][:limit]
        return Verification(official=bool(matches), matches=matches, suggestions=suggestions)
    matches = list(with_hours(qs.order_by("code"))[:limit])
    return Verification(official=bool(matches), matches=matches)


def province_mail_in_hub(*, province) -> ServiceCenter | None:
    """The active mail-in hub of a province (a Region of any level, or a province id)."""
    if isinstance(province, Region) and province.level != RegionLevel.PROVINCE:
        province = region_province(region=province)
    province_id = province.pk if isinstance(province, Region) else province
    return (
        ServiceCenter.objects.filter(province_id=province_id, kind=CenterKind.MAIL_IN_HUB, active=True)
        .order_by("code")
        .first()
    )


# --- coverage ----------------------------------------------------------------


@dataclass
class RegionShare:
    total: int = 0
    covered: int = 0
    uncovered: list = field(default_factory=list)  # [{"adcode", "name", "province"}]

    @property
    def share(self) -> float:
        return round(self.covered / self.total, 4) if self.total else 1.0


@dataclass
class ProvinceCoverage:
    adcode: str
    name: str
    cities: RegionShare
    counties: RegionShare


@dataclass
class Coverage:
    cities: RegionShare
    counties: RegionShare
    provinces: list[ProvinceCoverage]
    active_sites: int


def coverage_summary() -> Coverage:
    """Share of prefecture-level cities and of counties with at least one active site (any kind:
    center, collection point, hub, store), overall and per province, with the uncovered ones.

    Placeholder rows of the dataset (``Region.is_placeholder``) are not counted. Five queries.
    """
    covered_cities = set(
        ServiceCenter.objects.filter(active=True).values_list("city_id", flat=True).order_by().distinct()
    )
    covered_counties = set(
        ServiceCenter.objects.filter(active=True).values_list("region_id", flat=True).order_by().distinct()
    )
    active_sites = ServiceCenter.objects.filter(active=True).count()
    provinces = {
        p.adcode[:2]: ProvinceCoverage(p.adcode, p.name, RegionShare(), RegionShare())
        for p in Region.objects.filter(level=RegionLevel.PROVINCE).order_by("adcode")
    }
    total_cities, total_counties = RegionShare(), RegionShare()
    rows = (
        Region.objects.filter(level__in=[RegionLevel.CITY, RegionLevel.COUNTY], is_placeholder=False)
        .order_by("adcode")
        .values_list("pk", "adcode", "name", "level")
    )
    for pk, adcode, name, level in rows:
        prov = provinces.get(adcode[:2])
        if level == RegionLevel.CITY:
            overall, per, covered = total_cities, prov.cities if prov else None, pk in covered_cities
        else:
            overall, per, covered = total_counties, prov.counties if prov else None, pk in covered_counties
        for share in (overall, per):
            if share is None:
                continue
            share.total += 1
            if covered:
                share.covered += 1
            else:
                share.uncovered.append({"adcode": adcode, "name": name, "province": prov.name if prov else ""})
    return Coverage(
        cities=total_cities,
        counties=total_counties,
        provinces=list(provinces.values()),
        active_sites=active_sites,
    )


# --- Service Days --------------------------------------------------------------


def _region_filter(region: Region, prefix: str = "") -> dict:
    level_field = _LEVEL_FIELD.get(region.level, "region")
    return {prefix + level_field: region}


def service_days_for(
    *, year: int, month: int, center: ServiceCenter | None = None, region: Region | None = None
) -> QuerySet[ServiceDay]:
    """Active Service Days of a month (of one center, or of the active centers in a region, or all),
    by date then center code."""
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    # A date range (not __year/__month) so the date index is usable.
    qs = ServiceDay.objects.filter(date__gte=first, date__lt=after, active=True, center__active=True)
    if center is not None:
        qs = qs.filter(center=center)
    if region is not None:
        qs = qs.filter(**_region_filter(region, "center__"))
    return qs.select_related("center").order_by("date", "center__code")


# A center's first 30 days (opening day included) are its new-store month.
NEW_STORE_DAYS = 30


@dataclass(frozen=True)
class CenterPromotion:
    """What a center offers on a day: its Service Day (the row, with its ``perks``) and/or its new-store month."""

    service_day: ServiceDay | None
    new_store_month: bool
    opened_on: date | None

    @property
    def any(self) -> bool:
        return self.service_day is not None or self.new_store_month


def center_promotion_on(*, center: ServiceCenter, day: date) -> CenterPromotion:
    """Is ``day`` a Service Day (an active one) and/or in the new-store month at ``center``? One query.

    The one answer for every perk: the repair labor waiver (``repairs.pricing``) and the desk's free perks
    (``outreach.visits``)."""
    service_day = ServiceDay.objects.filter(center_id=center.pk, date=day, active=True).first()
    opened = center.opened_on
    new_store = bool(opened and 0 <= (day - opened).days < NEW_STORE_DAYS)
    return CenterPromotion(service_day=service_day, new_store_month=new_store, opened_on=opened)


# --- admin/export helpers ---------------------------------------------------------


def centers_visible_to(*, actor) -> QuerySet[ServiceCenter]:
    """Centers an actor may see in the staff UI (all for HQ/superusers)."""
    qs = ServiceCenter.objects.all()
    if actor.center_ids is not None:
        qs = qs.filter(pk__in=actor.center_ids)
    return qs


# --- Who a staff user is (registered with servicehub.actors in CentersConfig.ready()) --------------------------


def staff_roles(user) -> dict[int | None, set[str]]:
    """The roles a user holds through active memberships: ``{center_id: {role, ...}}``; the key None holds HQ."""
    roles: dict[int | None, set[str]] = {}
    for center_id, role in StaffMembership.objects.filter(user=user, active=True).values_list("center_id", "role"):
        roles.setdefault(center_id, set()).add(role)
    return roles


# --- the official-store feed for map providers (issue #22) ------------------------------------------------

FEED_FIELDS = ("code", "name", "kind", "address", "lat", "lng", "phone", "updated_at", "active", "official")


def official_store_feed(*, since: datetime | None = None) -> list[dict]:
    """The official sites for map providers, one query whatever their number.

    Without ``since``: every active official site. With it: every site changed at or after ``since`` that is
    or was official, the closed ones (deactivated, or no longer official) with ``closed`` true. Ordered by
    ``updated_at`` then code, so a provider can keep the largest ``updated_at`` it saw as its next ``since``.
    """
    qs = ServiceCenter.objects.all()
    if since is None:
        qs = qs.filter(active=True, official=True)
    else:
        # A site made unofficial changes too; a site that was never official has no business in the feed, but the
        # row does not remember that, so unofficial changed sites come as closed (harmless for a provider).
        qs = qs.filter(updated_at__gte=since)
    rows = []
    for row in qs.order_by("updated_at", "code").values(*FEED_FIELDS):
        active, official = row.pop("active"), row.pop("official")
        row["closed"] = not (active and official)
        rows.append(row)
    return rows


# --- the roster: who is on shift (escalations, issue #21) ----------------------------------------------------


def managers_on_shift(*, center_id: int, at: datetime | None = None) -> list:
    """The active managers of a center to escalate to at ``at``: those with a shift covering it; when none is
    on shift (or the center keeps no roster), every active manager, so an escalation is never lost. One query."""
    from django.contrib.auth import get_user_model

    from .models import StaffShift

    at = at or timezone.now()
    on_shift = StaffShift.objects.filter(center_id=center_id, user_id=OuterRef("pk"), starts_at__lte=at, ends_at__gt=at)
    managers = list(
        get_user_model()
        .objects.filter(memberships__center_id=center_id, memberships__role="manager", memberships__active=True)
        .annotate(on_shift=Exists(on_shift))
        .distinct()
        .order_by("pk")
    )
    return [m for m in managers if m.on_shift] or managers


def signers_on_shift(*, center_id: int, at: datetime | None = None) -> list:
    """The active staff of a center who sign (``StaffSkill.SIGN_LANGUAGE`` on their membership there) and have a
    shift covering ``at``, by user id; empty when nobody who signs is on shift. One query.

    The skill is read in Python: the lists are a handful of people per center, and JSON containment is not
    portable to the embedded SQLite mode."""
    from .choices import StaffSkill
    from .models import StaffShift

    at = at or timezone.now()
    on_shift = StaffShift.objects.filter(
        center_id=center_id, user_id=OuterRef("user_id"), starts_at__lte=at, ends_at__gt=at
    )
    rows = (
        StaffMembership.objects.filter(center_id=center_id, active=True, user__is_active=True)
        .annotate(on_shift=Exists(on_shift))
        .select_related("user")
        .order_by("user_id", "pk")
    )
    signers: dict[int, object] = {}
    for membership in rows:
        if membership.on_shift and StaffSkill.SIGN_LANGUAGE in (membership.skills or []):
            signers.setdefault(membership.user_id, membership.user)
    return list(signers.values())


def store_reports_handled(*, since: datetime, until: datetime) -> dict:
    """HQ's figure of fake-store reports received in ``[since, until)``: how many per triage status, and the median
    hours from the report to its decision (confirmed unofficial, official after all, dismissed). One query (the
    decided reports' two times, to take the median; a period holds a few hundred reports)."""
    from statistics import median

    from .choices import StoreReportStatus
    from .models import StoreReport

    decided = (
        StoreReportStatus.CONFIRMED_UNOFFICIAL,
        StoreReportStatus.OFFICIAL_AFTER_ALL,
        StoreReportStatus.DISMISSED,
    )
    counts = dict.fromkeys(StoreReportStatus.values, 0)
    hours = []
    for status, created, handled in StoreReport.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "status", "created_at", "handled_at"
    ):
        counts[status] += 1
        if status in decided and handled is not None:
            hours.append((handled - created).total_seconds() / 3600)
    return {
        "by_status": counts,
        "decided": len(hours),
        "median_hours": round(median(hours), 1) if hours else None,
    }
