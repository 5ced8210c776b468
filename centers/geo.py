"""Plain geometry for the nearest-centers search (no PostGIS): haversine and a safe bounding box.

The same formula is used in Python (tests, brute force) and in SQL (``selectors``),
with the same Earth radius, so both agree to floating-point noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
# Relative safety margin on the box: float rounding must never cut off a point inside the radius.
_BOX_MARGIN = 1e-6


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km between two WGS-84 points (spherical Earth)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat = p2 - p1
    dlng = math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class BBox:
    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float
    # True when the box spans every longitude (near a pole or a huge radius).
    all_lng: bool = False


def bounding_box(lat: float, lng: float, radius_km: float) -> BBox:
    """The smallest lat/lng box containing the spherical cap of ``radius_km`` around the point.

    Latitude: the cap reaches ``radius / R`` radians north and south. Longitude: the widest
    point of the cap is ``asin(sin(d) / cos(lat))`` east and west of the centre (Chan's
    formula, exact on a sphere) — not at the centre's latitude, which is why ``radius / (R cos lat)``
    would cut points off. A small relative margin absorbs float rounding. Boxes that would reach
    a pole or the antimeridian span all longitudes (never the case for China, kept correct anyway).
    """
    d = radius_km / EARTH_RADIUS_KM  # angular radius, radians
    dlat = math.degrees(d) * (1 + _BOX_MARGIN) + 1e-9
    min_lat, max_lat = lat - dlat, lat + dlat
    lat_r = math.radians(lat)
    if min_lat <= -90 or max_lat >= 90 or d >= math.pi / 2 or math.sin(d) >= math.cos(lat_r):
        return BBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0, all_lng=True)
    dlng = math.degrees(math.asin(math.sin(d) / math.cos(lat_r))) * (1 + _BOX_MARGIN) + 1e-9
    min_lng, max_lng = lng - dlng, lng + dlng
    if min_lng < -180 or max_lng > 180:
        # Crosses the antimeridian: a single range cannot express it; take every longitude.
        return BBox(min_lat, max_lat, -180.0, 180.0, all_lng=True)
    return BBox(min_lat, max_lat, min_lng, max_lng)
