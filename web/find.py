"""Find the nearest official places for what a customer typed (or where they are).

One search box understands provinces, cities, counties and street addresses: an exact region
name first (``centers.selectors.regions_named``: "吉林市" is the city, "吉林省" the province),
else cpca parses the text ("邵阳" → 湖南省邵阳市, "深圳市南山区科技园路1号" → 南山区). The answer is
always a list of places, nearest first:

- the official active sites *inside* the region, by distance from the region's centre;
- when the region has none, the nearest sites *outside* it, and the page says so;
- text that names no region: sites whose name or address contains it;
- a position (``near=lat,lng``): the nearest sites anywhere.

Pages of ``PAGE_SIZE``; one more row than shown is read to know whether there is a next page, so a
search costs the page query plus two prefetches (weekly hours, the coming week's exceptions) and
the region look-ups — never a COUNT over the whole network.

A search by a place is the same for everyone until a center changes, so its page of places is cached under
the directory version (``centers.selectors.directory_cache_version``: any write of any center, its hours or
exceptions gives a new one, and the next search reads the database) and the local date; an exact region name
is cached with it. Only the clock is the request's own: "open now" and "opens Mon 09:00" are worked out on
every request from the cached hours and exceptions (``centers.selectors.center_is_open``, the SQL twin's
Python twin). Free text that names no region (a center's name, part of an address) is not cached: anyone
can type anything, and the cache must not fill with it. Positions are not cached either: no two are alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Prefetch, Q

from centers import selectors as center_selectors
from centers.models import OpeningException, Region
from servicehub.dbrouter import primary_reads

PAGE_SIZE = 10
# A position's nearest places are looked for within this radius first (the indexed bounding box
# keeps that cheap); only when nothing is that close is the whole network sorted by distance.
NEAR_RADIUS_KM = 300
_CACHE_SCHEMA = "1"  # bump when FindResult or what the page reads of a place changes shape


@dataclass
class FindResult:
    places: list = field(default_factory=list)
    region: Region | None = None
    outside: bool = False  # the region has no site: these are the nearest outside it
    near: tuple[float, float] | None = None
    text: bool = False  # matched by name/address, not by place
    has_more: bool = False
    page: int = 1
    other_regions: list = field(default_factory=list)  # same name elsewhere ("朝阳区": Beijing, Changchun)
    # Set when the places are the cached ones of a region (the directory version is in it): pages may cache
    # what they render of them under it, with the minute (open now, "opens Mon 09:00") and the language.
    cache_key: str = ""


def region_full_name(region: Region) -> str:
    """ "北京市朝阳区", "吉林省长春市朝阳区": the region with its (non-placeholder) parents."""
    names, r = [], region
    while r is not None:
        if not r.is_placeholder and r.name not in names:
            names.append(r.name)
        r = r.parent
    return "".join(reversed(names))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _region_for_text(q: str, *, version: str) -> tuple[Region | None, list[Region]]:
    # An exact region name is cached (there are a few thousand of them); cpca's reading of an address is not.
    key = f"find:named:{_CACHE_SCHEMA}:{version}:{_digest(q)}"
    named = cache.get(key)
    if named is None:
        named = center_selectors.regions_named(name=q)
        if named:
            cache.set(key, named, center_selectors.PUBLIC_CACHE_SECONDS)
    if named:
        return named[0], named[1:]
    from booking.addresses import address_region

    return address_region(q), []


def _with_week(qs, *, at: dt.datetime | None = None):
    """Weekly hours and the exceptions from yesterday (an overnight interval) to a week ahead prefetched:
    "open now" and "opens Mon 09:00" are worked out from both (``_set_clock``)."""
    today = center_selectors.local_now(at).date()
    return center_selectors.with_hours(qs).prefetch_related(
        Prefetch(
            "opening_exceptions",
            queryset=OpeningException.objects.filter(
                date__gte=today - dt.timedelta(days=1), date__lte=today + dt.timedelta(days=8)
            ),
        )
    )


def _page(qs, page: int, *, at=None) -> tuple[list, bool]:
    offset = (page - 1) * PAGE_SIZE
    rows = list(_with_week(qs, at=at)[offset : offset + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _set_clock(places, *, at: dt.datetime | None) -> None:
    """The request's own part of a place: open now, else when it opens next (no query: all prefetched)."""
    for c in places:
        c.is_open_now = center_selectors.center_is_open(center=c, at=at)
        c.next_opening = None if c.is_open_now else center_selectors.center_next_opening(center=c, at=at)


def find_places(
    *,
    q: str = "",
    near: tuple[float, float] | None = None,
    service: str | None = None,
    page: int = 1,
    at: dt.datetime | None = None,
) -> FindResult:
    """The official active places for ``q`` or ``near`` (see the module docstring), one page."""
    page = max(1, page)
    result = _find(q=q, near=near, service=service, page=page, at=at)
    _set_clock(result.places, at=at)
    return result


def _find(*, q: str, near, service: str | None, page: int, at: dt.datetime | None) -> FindResult:
    def base(**kwargs):
        return center_selectors.centers_search(service=service, at=at, **kwargs).filter(official=True)

    def nearest(centre, page):
        places, more = _page(base(near=centre, radius_km=NEAR_RADIUS_KM), page, at=at)
        if not places and page == 1:
            places, more = _page(base(near=centre, radius_km=None), page, at=at)
        return places, more

    def in_region(region, page):
        centre = (region.lat, region.lng) if region.lat is not None and region.lng is not None else None
        inside = base(region=region, near=centre, radius_km=None) if centre else base(region=region)
        places, more = _page(inside, page, at=at)
        result = FindResult(places=places, region=region, near=centre, has_more=more, page=page)
        if not places and page == 1 and centre is not None:
            result.places = nearest(centre, 1)[0][:5]
            result.outside = True
        return result

    if near is not None:
        places, more = nearest(near, page)
        return FindResult(places=places, near=near, has_more=more, page=page)
    q = (q or "").strip()
    version = center_selectors.directory_cache_version()
    region, others = _region_for_text(q, version=version)
    if region is not None:
        today = center_selectors.local_now(at).date()
        key = f"find:region:{_CACHE_SCHEMA}:{version}:{region.pk}:{service or '-'}:{page}:{today.isoformat()}"
        result = cache.get(key)
        if result is None:
            with primary_reads():  # never cache a lagging replica's rows under the new version
                result = in_region(region, page)
            cache.set(key, result, center_selectors.PUBLIC_CACHE_SECONDS)
        result.cache_key = key
        result.other_regions = [region_full_name(r) for r in others]  # the same name elsewhere: q's, not cached
        return result
    qs = base().filter(Q(name__icontains=q) | Q(address__icontains=q))
    places, more = _page(qs, page, at=at)
    return FindResult(places=places, text=True, has_more=more, page=page)


def parse_near(value: str) -> tuple[float, float] | None:
    """``"lat,lng"`` → (lat, lng), or None when it is not a valid position."""
    try:
        lat_s, lng_s = (value or "").split(",")
        lat, lng = float(lat_s), float(lng_s)
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        return None
    return lat, lng
