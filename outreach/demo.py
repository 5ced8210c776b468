"""Demo outreach data (called by ``manage.py seed_demo``; idempotent, fast).

Quick visits: the service catalog, and a month of visits at the first demo centers (more on their Service Days).

Community events and classes (issue #22): at the demo center and two more service centers, a phone-use class
for older people, a community service desk (进社区) and a staff training, in the coming weeks; one class with a
few sign-ups already. A second run adds nothing (events are found by center, title and start).

Sign-language sessions (issue #22 item 4): the first front-desk person of each of those centers signs.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from centers.choices import CenterKind
from centers.models import ServiceCenter, ServiceDay
from centers.selectors import CENTER_TZ

from .choices import EventKind, RegistrationStatus
from .models import Event, Registration, Visit, VisitService
from .visits import visit_catalog_ensure

DEMO_NOTE = "demo"
DEMO_CENTERS = 6
DEMO_DAYS = 30


def _visits(rng) -> int:
    if Visit.objects.filter(note=DEMO_NOTE).exists():
        return 0
    services = list(VisitService.objects.filter(active=True).exclude(code="guest_book"))
    centers = list(
        ServiceCenter.objects.filter(active=True, kind__in=("service_center", "flagship")).order_by("code")[
            :DEMO_CENTERS
        ]
    )
    if not services or not centers:
        return 0
    today = timezone.localdate()
    start = today - dt.timedelta(days=DEMO_DAYS - 1)
    service_days = set(
        ServiceDay.objects.filter(center__in=centers, date__gte=start, date__lte=today, active=True).values_list(
            "center_id", "date"
        )
    )
    rows = []
    for center in centers:
        for i in range(DEMO_DAYS):
            day = start + dt.timedelta(days=i)
            sd = (center.pk, day) in service_days
            for _n in range(rng.randint(6, 14) if sd else rng.randint(0, 4)):
                service = rng.choice(services)
                at = dt.datetime.combine(day, dt.time(rng.randint(9, 19), rng.randint(0, 59)), tzinfo=CENTER_TZ)
                count = rng.choice((1, 1, 1, 2, 4)) if service.kind == "rest_station" else 1
                rows.append(
                    Visit(
                        center=center,
                        service=service,
                        at=at,
                        day=day,
                        count=count,
                        any_brand=service.code == "uv_disinfection" and rng.random() < 0.5,
                        during_service_day=sd,
                        note=DEMO_NOTE,
                    )
                )
    Visit.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _seed_visits(*, out, options) -> None:
    with transaction.atomic():
        created = visit_catalog_ensure()
        visits = _visits(options["rng"])
    out.write(f"  outreach: {created} visit services added, {visits} demo quick visits")


EVENTS = [
    # (days ahead, hour, kind, title zh, title en, venue, address, capacity, sign language)
    (
        3,
        9,
        EventKind.CUSTOMER_CLASS,
        "长者智能手机课堂：微信视频与防诈骗",
        "Phone class for seniors: WeChat video calls and scams",
        "曹杨新村街道社区文化活动中心",
        "普陀区兰溪路 100 号",
        20,
        False,
    ),
    (
        6,
        14,
        EventKind.COMMUNITY_OUTREACH,
        "进社区：免费手机检测与清洁",
        "In your community: free phone check and cleaning",
        "田林街道市民驿站",
        "徐汇区田林路 200 号",
        40,
        False,
    ),
    (
        10,
        10,
        EventKind.CUSTOMER_CLASS,
        "手语课堂：手机无障碍功能",
        "Class in sign language: accessibility features of your phone",
        "静安区残疾人综合服务中心",
        "静安区共和新路 1000 号",
        12,
        True,
    ),
    (
        8,
        18,
        EventKind.STAFF_TRAINING,
        "员工培训：长者服务与耐心沟通",
        "Staff training: serving older customers",
        "服务中心培训室",
        "服务中心三楼",
        15,
        False,
    ),
]
DEMO_PEOPLE = [("李阿姨", "13900000101"), ("张大爷", "13900000102"), ("王奶奶", "13900000103")]


def _centers() -> list[ServiceCenter]:
    try:
        from centers.demo import DEMO_CENTER_CODE
    except ImportError:  # pragma: no cover - centers' demo always defines it
        DEMO_CENTER_CODE = ""
    first = list(ServiceCenter.objects.filter(code=DEMO_CENTER_CODE, active=True))
    more = ServiceCenter.objects.filter(kind=CenterKind.SERVICE_CENTER, active=True).exclude(code=DEMO_CENTER_CODE)
    return first + list(more.order_by("code")[: 3 - len(first)])


def _seed_events(*, out, options) -> None:
    centers = _centers()
    if not centers:
        out.write("  outreach: no center to hold events; skipped")
        return
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for i, center in enumerate(centers):
            for days, hour, kind, title_zh, title_en, venue, address, capacity, sign in EVENTS:
                starts = dt.datetime.combine(today + dt.timedelta(days=days + i), dt.time(hour), tzinfo=tz)
                event, created = Event.objects.get_or_create(
                    center=center,
                    title_zh=title_zh,
                    kind=kind,
                    defaults={
                        "title_en": title_en,
                        "venue_name": venue,
                        "venue_address": address,
                        "starts_at": starts,
                        "ends_at": starts + dt.timedelta(hours=2),
                        "capacity": capacity,
                        "public": kind != EventKind.STAFF_TRAINING,
                        "sign_language": sign,
                        "description_zh": "请带上您的手机和充电器。工作人员一对一指导。",
                        "description_en": "Bring your phone and its charger. Our staff help you one to one.",
                    },
                )
                made += created
                if created and i == 0 and kind == EventKind.CUSTOMER_CLASS and not sign:
                    for j, (name, phone) in enumerate(DEMO_PEOPLE):
                        Registration.objects.create(
                            event=event,
                            name=name,
                            phone=f"+86{phone}",
                            language="zh-hans",
                            code=f"{100201 + j}",
                            status=RegistrationStatus.REGISTERED,
                        )
                    event.places_taken = len(DEMO_PEOPLE)
                    event.save(update_fields=["places_taken"])
    out.write(f"  outreach: {made} community events and classes")


def _seed_signers(*, out) -> None:
    """At the demo centers, the first front-desk person signs (``StaffMembership.skills``): sign-language bookings
    there get a signer when that person is on the roster. Idempotent."""
    from centers.choices import StaffSkill
    from centers.models import StaffMembership

    marked = 0
    for center in _centers():
        memberships = StaffMembership.objects.filter(center=center, active=True).order_by("pk")
        if any(StaffSkill.SIGN_LANGUAGE in (m.skills or []) for m in memberships):
            continue
        desk = memberships.filter(role="front_desk").first()
        if desk is not None:
            desk.skills = [*(desk.skills or []), StaffSkill.SIGN_LANGUAGE]
            desk.save(update_fields=["skills"])
            marked += 1
    out.write(f"  outreach: {marked} staff marked as signers")


def seed(*, out, options) -> None:
    _seed_visits(out=out, options=options)
    _seed_events(out=out, options=options)
    _seed_signers(out=out)
