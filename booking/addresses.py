"""Chinese address parsing (cpca) shared by mail-in and on-site requests."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedAddress:
    province: str
    city: str
    county: str
    adcode: str  # 6-digit county adcode ("" when unknown)

    @property
    def province_adcode(self) -> str:
        """12-digit adcode of the province (as stored in ``centers.Region``)."""
        return (self.adcode[:2] + "0000").ljust(12, "0") if self.adcode else ""


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def address_parse(address: str) -> ParsedAddress | None:
    """Province/city/county of a free-text address, or None when no province is recognised."""
    import cpca  # loads its dataset once; imported lazily so app start-up stays fast

    if not address or not address.strip():
        return None
    row = cpca.transform([address.strip()]).to_dict("records")[0]
    province = _clean(row.get("省"))
    if not province:
        return None
    return ParsedAddress(
        province=province,
        city=_clean(row.get("市")),
        county=_clean(row.get("区")),
        adcode=_clean(row.get("adcode")),
    )


def address_region(address: str):
    """The most precise non-placeholder ``centers.Region`` a free-text address names (county, else city, else
    province), or None. Registered with centers (``address_region_resolver_register``) for store reports."""
    from centers.models import Region

    parsed = address_parse(address)
    if parsed is None or not parsed.adcode:
        return None
    adcode = parsed.adcode
    candidates = [adcode + "000000"]
    if parsed.city:
        candidates.append(adcode[:4] + "00000000")
    candidates.append(adcode[:2] + "0000000000")
    found = {r.adcode: r for r in Region.objects.filter(adcode__in=candidates)}
    for code in candidates:
        region = found.get(code)
        if region is not None and not region.is_placeholder:
            return region
    return None
