"""Links that open a center in the phone's map app.

Coordinates are stored as WGS-84 (``centers.geo``). Maps in mainland China draw on GCJ-02, so a
raw WGS-84 point lands ~300-600 m off: Amap and Baidu are told the system (``coordinate=wgs84``,
``coord_type=wgs84``) and convert; Apple Maps is given GCJ-02, converted here.

Which app: Amap (高德) is the most used map app in China and its URI API opens the app when it is
installed, else its mobile web map — the first link on every page. Chinese pages add Baidu Maps
(the other big one). English pages add Apple Maps instead: visitors with iPhones get their own
app in their language, and Apple's map works in China (it uses AutoNavi's data); Google Maps is
not offered because it is not reachable from mainland China without a VPN and its map there is
offset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lat: float, lng: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _t_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _t_lng(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The published WGS-84 → GCJ-02 transform (identity outside China)."""
    if _out_of_china(lat, lng):
        return lat, lng
    dlat = _t_lat(lng - 105.0, lat - 35.0)
    dlng = _t_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lng + dlng


@dataclass(frozen=True)
class MapLink:
    label: str
    url: str


def map_links(*, name: str, address: str, lat: float | None, lng: float | None, language: str) -> list[MapLink]:
    """[Amap, Baidu] on Chinese pages, [Amap, Apple Maps] on English ones; [] without coordinates."""
    from django.utils.translation import gettext as _

    if lat is None or lng is None:
        return []
    amap = "https://uri.amap.com/marker?" + urlencode(
        {
            "position": f"{lng:.6f},{lat:.6f}",
            "name": name,
            "coordinate": "wgs84",
            "callnative": 1,
            "src": "servicehub",
        }
    )
    links = [MapLink(_("Amap"), amap)]
    if (language or "").startswith("en"):
        glat, glng = wgs84_to_gcj02(lat, lng)
        links.append(
            MapLink(
                _("Apple Maps"), "https://maps.apple.com/?" + urlencode({"ll": f"{glat:.6f},{glng:.6f}", "q": name})
            )
        )
    else:
        links.append(
            MapLink(
                _("Baidu Maps"),
                "https://api.map.baidu.com/marker?"
                + urlencode(
                    {
                        "location": f"{lat:.6f},{lng:.6f}",
                        "title": name,
                        "content": address,
                        "output": "html",
                        "coord_type": "wgs84",
                        "src": "servicehub",
                    }
                ),
            )
        )
    return links
