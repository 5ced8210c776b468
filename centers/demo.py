"""Demo network for ``python manage.py seed_demo``: regions, centers, hubs, collection points, staff.

Deterministic from ``options["seed"]`` and idempotent: sites are keyed by code and only
missing ones are created (with their hours and holiday exceptions); users and memberships
are created only when missing. Bulk inserts in batches, so the national network
(``--centers 2400 --collection-points 20000``) loads in well under a minute on PostgreSQL.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from .choices import CenterKind, ExceptionReason, RegionLevel, StaffRole
from .models import Certification, OpeningException, OpeningHours, Region, ServiceCenter, StaffMembership
from .selectors import local_now, phone_digits
from .services import regions_load, service_days_generate

DEMO_PASSWORD = "servicehub-demo"
DEMO_CENTER_CODE = "SC-SH-001"
BATCH = 2000

# Two-letter province codes (GB/T 2260 style) used in site codes.
PROVINCE_ABBR = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL", "23": "HL",
    "31": "SH", "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX", "37": "SD", "41": "HA",
    "42": "HB", "43": "HN", "44": "GD", "45": "GX", "46": "HI", "50": "CQ", "51": "SC", "52": "GZ",
    "53": "YN", "54": "XZ", "61": "SN", "62": "GS", "63": "QH", "64": "NX", "65": "XJ",
}  # fmt: skip
MUNICIPALITY_AREA_CODES = {"11": "010", "12": "022", "31": "021", "50": "023"}

REPAIR_SERVICES = ["phone", "tablet", "pc", "wearable", "walk_in", "appointment", "mail_in", "loaners"]
FLAGSHIP_SERVICES = REPAIR_SERVICES + ["smart_screen", "on_site"]
# The first service center of each province also sends engineers out (smart screens, PCs, and people who
# cannot travel), so the demo has on-site service everywhere a province has a center.
ON_SITE_SERVICES = FLAGSHIP_SERVICES
HUB_SERVICES = ["phone", "tablet", "pc", "wearable", "smart_screen", "mail_in"]
STORE_SERVICES = ["phone", "tablet", "wearable", "walk_in"]
POINT_SERVICES = ["phone", "tablet", "wearable", "walk_in"]

# Spring Festival 2027 (New Year's Day: 6 February): open through the holiday with shorter hours.
SPRING_FESTIVAL = [date(2027, 2, 5) + timedelta(days=i) for i in range(7)]
SPRING_FESTIVAL_HOURS = (time(10), time(16))


def _spread(total: int, weights: dict[str, int], minimum: dict[str, int] | None = None) -> dict[str, int]:
    """Split ``total`` over keys proportionally to ``weights`` (largest remainder; deterministic)."""
    minimum = minimum or {}
    alloc = {k: minimum.get(k, 0) for k in weights}
    rest = total - sum(alloc.values())
    if rest <= 0:
        return alloc
    wsum = sum(weights.values()) or 1
    shares = {k: rest * w / wsum for k, w in weights.items()}
    for k, s in shares.items():
        alloc[k] += int(s)
    leftover = total - sum(alloc.values())
    for k in sorted(shares, key=lambda k: (-(shares[k] - int(shares[k])), k))[:leftover]:
        alloc[k] += 1
    return alloc


def _weekly(kind: str, lunch: bool) -> list[tuple[int, time, time]]:
    if kind == CenterKind.EXPERIENCE_STORE:
        return [(d, time(10), time(22)) for d in range(7)]
    if kind == CenterKind.COLLECTION_POINT:
        return [(d, time(9), time(21)) for d in range(7)]
    if kind == CenterKind.MAIL_IN_HUB:
        return [(d, time(9), time(18)) for d in range(6)]
    rows: list[tuple[int, time, time]] = []
    for d in range(6):
        if lunch and d < 5:
            rows += [(d, time(9), time(12)), (d, time(13), time(18))]
        else:
            rows.append((d, time(9), time(18)))
    rows.append((6, time(10), time(17)))  # Sunday: shorter
    return rows


class _Network:
    """The deterministic plan of every demo site (nothing written)."""

    def __init__(self, *, centers: int, points: int, seed: int):
        self.rng = random.Random(seed)
        regions = list(Region.objects.values_list("pk", "adcode", "name", "level", "parent_id", "lat", "lng"))
        self.by_id = {r[0]: r for r in regions}
        self.provinces = {r[1][:2]: r for r in regions if r[3] == RegionLevel.PROVINCE and r[1][:2] in PROVINCE_ABBR}
        self.counties: dict[str, list[tuple]] = defaultdict(list)
        has_children = {r[4] for r in regions if r[3] == RegionLevel.COUNTY and r[2] != "市辖区"}
        for r in regions:
            if r[1][:2] not in PROVINCE_ABBR or r[5] is None or r[2] == "市辖区":
                continue
            # Counties, plus prefecture-level cities without counties (Dongguan, Zhongshan, ...).
            if r[3] == RegionLevel.COUNTY or (r[3] == RegionLevel.CITY and r[0] not in has_children):
                self.counties[r[1][:2]].append(r)
        weights = {p: len(c) for p, c in self.counties.items()}
        self.center_alloc = _spread(centers, weights, {"31": 1} if centers else {})
        self.point_alloc = _spread(points, weights)
        self.store_alloc = _spread(max(1, centers // 20) if centers else 0, weights)
        self.phone_seq = 0
        self.plans: list[dict] = []

    def _place(self, county, prov):
        city = county if county[3] == RegionLevel.CITY else self.by_id[county[4]]
        city_label = city[2] if city[2] not in ("市辖区",) and not city[2].endswith("直辖县级行政区划") else prov[2]
        # "上海市黄浦区", "东莞市" (a city without counties is not repeated)
        place = city_label if city_label == county[2] else f"{city_label}{county[2]}"
        return city, place

    def _site(self, *, code, kind, county, prov, name, services, jitter=0.03) -> dict:
        self.phone_seq += 1
        city, place = self._place(county, prov)
        area = MUNICIPALITY_AREA_CODES.get(prov[1][:2], "0" + county[1][:3])
        phone = f"{area}-{6 + self.phone_seq % 3}{self.phone_seq:07d}"
        return {
            "code": code,
            "kind": kind,
            "name": name,
            "region_id": county[0],
            "city_id": city[0],
            "province_id": prov[0],
            "address": f"{place if place.startswith(prov[2]) else prov[2] + place}服务大道{self.phone_seq % 300 + 1}号",
            "lat": round(county[5] + self.rng.uniform(-jitter, jitter), 6),
            "lng": round(county[6] + self.rng.uniform(-jitter, jitter), 6),
            "phone": phone,
            "services": services,
            "hub_code": None,
        }

    def build(self) -> list[dict]:
        for p in sorted(self.counties):
            prov, counties, abbr = self.provinces[p], self.counties[p], PROVINCE_ABBR[p]
            order = list(counties)
            self.rng.shuffle(order)
            # The provincial mail-in hub sits in the first county of the capital (lowest adcode).
            capital_county = min(counties, key=lambda c: c[1])
            self.plans.append(
                self._site(
                    code=f"HUB-{abbr}",
                    kind=CenterKind.MAIL_IN_HUB,
                    county=capital_county,
                    prov=prov,
                    name=f"{prov[2]}寄修中心",
                    services=HUB_SERVICES,
                    jitter=0.01,
                )
            )
            # Centers: Shanghai's first one is the well-known demo center SC-SH-001 in Huangpu.
            if p == "31":
                order.sort(key=lambda c: c[1] != "310101000000")
            names_seen: dict[str, int] = defaultdict(int)
            for j in range(self.center_alloc.get(p, 0)):
                county = order[j % len(order)]
                _city, label = self._place(county, prov)
                kind = CenterKind.FLAGSHIP if j % 20 == 19 else CenterKind.SERVICE_CENTER
                base = f"{label}{'服务旗舰店' if kind == CenterKind.FLAGSHIP else '授权服务中心'}"
                names_seen[base] += 1
                name = base if names_seen[base] == 1 else f"{base}（{names_seen[base]}店）"
                self.plans.append(
                    self._site(
                        code=f"SC-{abbr}-{j + 1:03d}",
                        kind=kind,
                        county=county,
                        prov=prov,
                        name=name,
                        services=FLAGSHIP_SERVICES if kind == CenterKind.FLAGSHIP or j == 0 else REPAIR_SERVICES,
                    )
                )
            for j in range(self.store_alloc.get(p, 0)):
                county = order[(j * 7 + 3) % len(order)]
                _city, label = self._place(county, prov)
                self.plans.append(
                    self._site(
                        code=f"ES-{abbr}-{j + 1:03d}",
                        kind=CenterKind.EXPERIENCE_STORE,
                        county=county,
                        prov=prov,
                        name=f"{label}授权体验店{j + 1}",
                        services=STORE_SERVICES,
                    )
                )
            # Collection points start where centers stopped, so together they cover the most counties.
            start = self.center_alloc.get(p, 0)
            for j in range(self.point_alloc.get(p, 0)):
                county = order[(start + j) % len(order)]
                _city, label = self._place(county, prov)
                self.plans.append(
                    self._site(
                        code=f"CP-{abbr}-{j + 1:05d}",
                        kind=CenterKind.COLLECTION_POINT,
                        county=county,
                        prov=prov,
                        name=f"{label}服务收机点{j + 1}",
                        services=POINT_SERVICES,
                    )
                )
        return self.plans


def _create_sites(plans: list[dict], existing: set[str], hub_of) -> list[ServiceCenter]:
    created: list[ServiceCenter] = []
    todo = [p for p in plans if p["code"] not in existing]
    for i in range(0, len(todo), BATCH):
        objs = []
        for p in todo[i : i + BATCH]:
            objs.append(
                ServiceCenter(
                    code=p["code"],
                    name=p["name"],
                    kind=p["kind"],
                    official=True,
                    region_id=p["region_id"],
                    city_id=p["city_id"],
                    province_id=p["province_id"],
                    address=p["address"],
                    lat=p["lat"],
                    lng=p["lng"],
                    phone=p["phone"],
                    phone_digits=phone_digits(p["phone"]),
                    services=p["services"],
                    hub_id=hub_of(p),
                    opened_on=date(2018, 3, 1),
                )
            )
        created += ServiceCenter.objects.bulk_create(objs, batch_size=BATCH)
    return created


def _create_hours(centers: list[ServiceCenter]) -> tuple[int, int]:
    hours: list[OpeningHours] = []
    exceptions: list[OpeningException] = []
    n_hours = n_exc = 0
    for c in centers:
        lunch = c.pk % 4 == 0
        hours += [OpeningHours(center_id=c.pk, weekday=d, opens=o, closes=e) for d, o, e in _weekly(c.kind, lunch)]
        if c.kind in (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP):
            exceptions += [
                OpeningException(
                    center_id=c.pk,
                    date=d,
                    closed=False,
                    opens=SPRING_FESTIVAL_HOURS[0],
                    closes=SPRING_FESTIVAL_HOURS[1],
                    reason_code=ExceptionReason.SPRING_FESTIVAL,
                )
                for d in SPRING_FESTIVAL
            ]
        if len(hours) >= BATCH * 5:
            n_hours += len(OpeningHours.objects.bulk_create(hours, batch_size=BATCH))
            hours = []
        if len(exceptions) >= BATCH * 5:
            n_exc += len(OpeningException.objects.bulk_create(exceptions, batch_size=BATCH, ignore_conflicts=True))
            exceptions = []
    n_hours += len(OpeningHours.objects.bulk_create(hours, batch_size=BATCH))
    n_exc += len(OpeningException.objects.bulk_create(exceptions, batch_size=BATCH, ignore_conflicts=True))
    return n_hours, n_exc


def _demo_staff(out) -> None:
    User = get_user_model()
    center = ServiceCenter.objects.get(code=DEMO_CENTER_CODE)
    people = [
        ("hq", StaffRole.HQ, None),
        ("frontdesk", StaffRole.FRONT_DESK, center),
        ("engineer", StaffRole.ENGINEER, center),
        ("manager", StaffRole.MANAGER, center),
    ]
    for username, role, at in people:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, is_staff=True, first_name=username.capitalize())
            user.set_password(DEMO_PASSWORD)
            user.save()
        StaffMembership.objects.get_or_create(user=user, center=at, role=role)
        if role == StaffRole.ENGINEER:
            Certification.objects.get_or_create(
                number="CERT-DEMO-0001",
                defaults={
                    "user": user,
                    "name": "Certified Repair Engineer (phone & tablet)",
                    "issued_on": date(2025, 6, 1),
                    "expires_on": date(2028, 5, 31),
                },
            )
        if role == StaffRole.MANAGER:
            _demo_roster(center, user)
    out.write(
        f"  Staff logins (password '{DEMO_PASSWORD}'): hq (HQ, sees all), frontdesk, engineer, "
        f"manager @ {DEMO_CENTER_CODE}"
    )


def _demo_roster(center, manager) -> None:
    """The demo manager's day shifts this week (09:00-18:00 local), once: the roster page shows a week."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from .models import StaffShift

    if StaffShift.objects.filter(center=center, user=manager).exists():
        return
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    StaffShift.objects.bulk_create(
        StaffShift(
            center=center,
            user=manager,
            starts_at=datetime.combine(today + timedelta(days=n), time(9), tzinfo=tz),
            ends_at=datetime.combine(today + timedelta(days=n), time(18), tzinfo=tz),
        )
        for n in range(7)
    )


def _on_site_upgrade() -> None:
    """Databases seeded before on-site existed in the demo: give each province's first center on-site service,
    and name the Spring Festival exceptions by code (their English note then reads in the page's language)."""
    for center in ServiceCenter.objects.filter(code__regex=r"^SC-[A-Z]{2}-001$", active=True):
        if "on_site" not in (center.services or []):
            center.services = list(dict.fromkeys([*(center.services or []), "smart_screen", "on_site"]))
            center.save(update_fields=["services"])
    OpeningException.objects.filter(reason="Spring Festival: open with holiday hours", reason_code="").update(
        reason_code=ExceptionReason.SPRING_FESTIVAL, reason=""
    )


DEMO_STORE_REPORTS = [
    {
        "name": "华为官方授权维修中心",
        "address": "上海市黄浦区福州路 99 号",
        "phone": "021-88886666",
        "note": "门头挂着官方标志，店员说是授权服务中心，换屏要价很高。",
    },
    {
        "name": "官方售后服务站",
        "address": "广东省深圳市福田区华强北路 1002 号",
        "phone": "",
        "note": "说要把手机寄回总部维修，收了押金。",
    },
    {
        "name": "原厂维修",
        "address": "四川省成都市锦江区春熙路 18 号",
        "phone": "13800001111",
        "note": "不确定是不是官方，价格比官网便宜很多。",
    },
]


def _demo_store_reports(out) -> None:
    """A few reports of suspected unofficial stores for HQ's triage queue (idempotent: by name)."""
    from .models import StoreReport
    from .services import store_report_create

    made = 0
    for values in DEMO_STORE_REPORTS:
        if not StoreReport.objects.filter(name=values["name"]).exists():
            store_report_create(**values, client_ip="192.0.2.1")
            made += 1
    out.write(f"  store reports: {made} created ({len(DEMO_STORE_REPORTS)} in the demo)")


def seed(*, out, options) -> None:
    """Load regions and the demo network; safe to run again (creates only what is missing)."""
    regions = regions_load()
    out.write(f"  regions: {regions.total} ({regions.created} new)")
    plan = _Network(
        centers=max(1, options.get("centers") or 0),
        points=max(0, options.get("collection_points") or 0),
        seed=options.get("seed", 0),
    ).build()
    with transaction.atomic():
        existing = set(ServiceCenter.objects.values_list("code", flat=True))
        # Hubs first, then centers and stores, then collection points pointing at them.
        first_wave = [p for p in plan if p["kind"] != CenterKind.COLLECTION_POINT]
        created = _create_sites(first_wave, existing, lambda p: None)
        repairing = (CenterKind.SERVICE_CENTER, CenterKind.FLAGSHIP, CenterKind.MAIL_IN_HUB)
        city_hub: dict[int, int] = {}
        province_hub: dict[int, int] = {}
        rows = (
            ServiceCenter.objects.filter(active=True, kind__in=repairing)
            .order_by("code")
            .values_list("pk", "kind", "city_id", "province_id")
        )
        for pk, kind, city_id, province_id in rows:
            if kind == CenterKind.MAIL_IN_HUB:
                province_hub.setdefault(province_id, pk)
            else:
                city_hub.setdefault(city_id, pk)

        def hub_of(p):
            # A collection point forwards to a center in its city, else to its province's hub.
            return city_hub.get(p["city_id"]) or province_hub.get(p["province_id"])

        created += _create_sites([p for p in plan if p["kind"] == CenterKind.COLLECTION_POINT], existing, hub_of)
        n_hours, n_exc = _create_hours(created)
        _on_site_upgrade()
    today = local_now().date()
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = sum(service_days_generate(year=d.year, month=d.month) for d in (today, next_month))
    out.write(
        f"  centers: {len(created)} sites created ({len(plan)} planned), {n_hours} weekly hours, "
        f"{n_exc} holiday exceptions, {days} Service Days"
    )
    _demo_staff(out)
    _demo_store_reports(out)
