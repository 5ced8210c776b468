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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from centers import selectors as center_selectors
from centers.models import OpeningException, Region

PAGE_SIZE = 10
# A position's nearest places are looked for within this radius first (the indexed bounding box
# keeps that cheap); only when nothing is that close is the whole network sorted by distance.
NEAR_RADIUS_KM = 300


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


def region_full_name(region: Region) -> str:
    """ "北京市朝阳区", "吉林省长春市朝阳区": the region with its (non-placeholder) parents."""
    names, r = [], region
    while r is not None:
        if not r.is_placeholder and r.name not in names:
            names.append(r.name)
        r = r.parent
    return "".join(reversed(names))


def _region_for_text(q: str) -> tuple[Region | None, list[Region]]:
    named = center_selectors.regions_named(name=q)
    if named:
        return named[0], named[1:]
    from booking.addresses import address_region

    return address_region(q), []


def _with_week(qs, *, at: dt.datetime | None = None):
    """Weekly hours and the coming week's exceptions prefetched ("opens Mon 09:00" needs both)."""
    today = center_selectors.local_now(at).date()
    return center_selectors.with_hours(qs).prefetch_related(
        Prefetch(
            "opening_exceptions",
            queryset=OpeningException.objects.filter(date__gte=today, date__lte=today + dt.timedelta(days=8)),
        )
    )


def _page(qs, page: int, *, at=None) -> tuple[list, bool]:
    offset = (page - 1) * PAGE_SIZE
    rows = list(_with_week(qs, at=at)[offset : offset + PAGE_SIZE + 1])
    for c in rows:
        c.next_opening = (
            None if getattr(c, "is_open_now", False) else center_selectors.center_next_opening(center=c, at=at)
        )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


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

    def base(**kwargs):
        return center_selectors.centers_search(service=service, at=at, **kwargs).filter(official=True)

    def nearest(centre, page):
        places, more = _page(base(near=centre, radius_km=NEAR_RADIUS_KM), page, at=at)
        if not places and page == 1:
            places, more = _page(base(near=centre, radius_km=None), page, at=at)
        return places, more

    if near is not None:
        places, more = nearest(near, page)
        return FindResult(places=places, near=near, has_more=more, page=page)
    q = (q or "").strip()
    region, others = _region_for_text(q)
    if region is not None:
        centre = (region.lat, region.lng) if region.lat is not None and region.lng is not None else None
        inside = base(region=region, near=centre, radius_km=None) if centre else base(region=region)
        places, more = _page(inside, page, at=at)
        result = FindResult(
            places=places,
            region=region,
            near=centre,
            has_more=more,
            page=page,
            other_regions=[region_full_name(r) for r in others],
        )
        if not places and page == 1 and centre is not None:
            result.places = nearest(centre, 1)[0][:5]
            result.outside = True
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
