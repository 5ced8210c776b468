"""Every figure the board and the dashboards show, as aggregate queries.

Conventions:
- ``center_ids``: the centers the viewer may see; ``None`` = the whole network (HQ).
- ``period``: :class:`ops.periods.Period` (local dates, both inclusive).
- Each selector runs a fixed number of queries, independent of the number of rows
  (tests assert it); Python only reshapes the handful of aggregated rows.
- Rates are returned as ``(numerator, denominator)`` plus a rounded percentage so the
  CSV export carries the raw counts and nobody has to trust a rounded number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from centers.choices import RegionLevel, StaffRole
from centers.models import Certification, Region, ServiceCenter, StaffMembership
from repairs.choices import TicketStatus
from repairs.models import RepairTicket, TicketEvent
from servicehub.masking import mask_name

from .aggregates import EpochSeconds, PercentileCont, db_has_percentiles, group_percentiles
from .periods import Period, local_today

# --- helpers ----------------------------------------------------------------


def rate(num: int, den: int) -> Decimal | None:
    """Percentage with one decimal (``None`` when there is nothing to divide by)."""
    if not den:
        return None
    return (Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.1"))


def _scoped(qs, center_ids, field: str = "center_id"):
    if center_ids is None:
        return qs
    return qs.filter(**{f"{field}__in": center_ids})


# --- the transparent repair board --------------------------------------------

# The six columns of the waiting-room TV, in the order a repair moves through them.
# ``awaiting_parts`` is shown as "repairing": the customer sees their device is in the workshop.
BOARD_STAGES: tuple[tuple[str, object, tuple[str, ...]], ...] = (
    ("received", _("Received"), (TicketStatus.RECEIVED,)),
    ("diagnosing", _("Diagnosing"), (TicketStatus.DIAGNOSING,)),
    ("awaiting_approval", _("Awaiting approval"), (TicketStatus.AWAITING_APPROVAL,)),
    ("repairing", _("Repairing"), (TicketStatus.REPAIRING, TicketStatus.AWAITING_PARTS)),
    ("quality_check", _("Quality check"), (TicketStatus.QUALITY_CHECK,)),
    ("ready", _("Ready for pickup"), (TicketStatus.READY,)),
)
BOARD_STATUS_TO_STAGE = {status: key for key, _label, statuses in BOARD_STAGES for status in statuses}
BOARD_ROWS_PER_STAGE = 8


@dataclass(frozen=True)
class BoardRow:
    name: str  # masked: 王*明
    number: str  # last 4 characters of the service number
    minutes_in_stage: int

    @property
    def age(self) -> str:
        """Time in stage for the TV: "12 min", "3 h 05 min"."""
        hours, minutes = divmod(self.minutes_in_stage, 60)
        if hours:
            return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
        return _("%(m)d min") % {"m": minutes}


@dataclass(frozen=True)
class BoardColumn:
    key: str
    label: str
    rows: tuple[BoardRow, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def board_center(*, code: str) -> ServiceCenter | None:
    """The active center whose board ``/board/<code>/`` shows (``None`` -> 404)."""
    return ServiceCenter.objects.filter(code=code, active=True).only("pk", "code", "name").first()


def board_columns(*, center_id: int, now: dt.datetime | None = None, limit: int = BOARD_ROWS_PER_STAGE) -> list[BoardColumn]:
    """The board's columns for one center: at most ``limit`` rows each, longest-waiting first.

    Two queries whatever the queue length: the counts per status, and the first ``limit``
    rows of each status (``ROW_NUMBER() OVER (PARTITION BY status)``). Only the masked
    name and the last four characters of the service number leave this function.
    """
    now = now or timezone.now()
    statuses = list(BOARD_STATUS_TO_STAGE)
    open_here = RepairTicket.objects.filter(center_id=center_id, status__in=statuses)
    totals: dict[str, int] = {}
    for status, n in open_here.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"):
        key = BOARD_STATUS_TO_STAGE[status]
        totals[key] = totals.get(key, 0) + n

    since = F("stage_started_at")
    rows = (
        open_here.annotate(
            rn=Window(RowNumber(), partition_by=[F("status")], order_by=[since.asc(nulls_first=True), F("pk").asc()])
        )
        .filter(rn__lte=limit)
        .order_by()
        .values_list("status", "customer__name", "service_no", "stage_started_at", "updated_at")
    )
    by_stage: dict[str, list[tuple]] = {}
    for status, name, service_no, started, updated in rows:
        started = started or updated
        minutes = max(0, int((now - started).total_seconds() // 60))
        by_stage.setdefault(BOARD_STATUS_TO_STAGE[status], []).append(
            (started, BoardRow(name=mask_name(name), number=service_no[-4:], minutes_in_stage=minutes))
        )
    columns = []
    for key, label, _statuses in BOARD_STAGES:
        # awaiting_parts and repairing share a column: merge, re-sort, cut to the limit again.
        merged = sorted(by_stage.get(key, []), key=lambda item: item[0])[:limit]
        columns.append(BoardColumn(key=key, label=str(label), rows=tuple(r for _s, r in merged), total=totals.get(key, 0)))
    return columns


# --- front desk: queue and overdue -------------------------------------------


def queue_by_stage(*, center_ids) -> list[dict]:
    """Open tickets per status (one GROUP BY): ``[{"status", "label", "count", "overdue"}]`` in lifecycle order."""
    now = timezone.now()
    qs = _scoped(RepairTicket.objects.filter(status__in=_OPEN), center_ids)
    counts = {
        row["status"]: row
        for row in qs.order_by().values("status").annotate(count=Count("pk"), overdue=Count("pk", filter=Q(stage_due_at__lt=now)))
    }
    labels = dict(TicketStatus.choices)
    return [
        {
            "status": s,
            "label": str(labels[s]),
            "count": counts.get(s, {}).get("count", 0),
            "overdue": counts.get(s, {}).get("overdue", 0),
        }
        for s in _OPEN
    ]


_OPEN = (
    TicketStatus.RECEIVED,
    TicketStatus.IN_TRANSIT,
    TicketStatus.DIAGNOSING,
    TicketStatus.AWAITING_APPROVAL,
    TicketStatus.AWAITING_PARTS,
    TicketStatus.REPAIRING,
    TicketStatus.QUALITY_CHECK,
    TicketStatus.READY,
    TicketStatus.RETURNING,
)


def overdue_tickets(*, center_ids, now: dt.datetime | None = None, limit: int = 50) -> tuple[list[dict], int]:
    """Open tickets past their stage deadline (``stage_due_at < now``), most overdue first.

    Returns ``(first `limit` rows, total)``: two queries. Staff-only page, so the service
    number is shown in full; the customer's name is not needed here and is not fetched.
    """
    now = now or timezone.now()
    qs = _scoped(RepairTicket.objects.filter(status__in=_OPEN, stage_due_at__lt=now), center_ids)
    total = qs.count()
    rows = list(
        qs.order_by("stage_due_at", "pk").values(
            "pk", "service_no", "status", "center__code", "stage_due_at", "stage_started_at", "channel"
        )[:limit]
    )
    labels = dict(TicketStatus.choices)
    for row in rows:
        row["status_label"] = str(labels.get(row["status"], row["status"]))
        row["overdue_minutes"] = int((now - row["stage_due_at"]).total_seconds() // 60)
    return rows, total


def tickets_today(*, center_ids, today: dt.date | None = None) -> dict:
    """Tickets received today by channel (walk-ins, appointments that showed up, mail-in...): one query."""
    period = Period(today or local_today(), today or local_today())
    qs = _scoped(RepairTicket.objects.filter(received_at__gte=period.since, received_at__lt=period.until), center_ids)
    by_channel = dict(qs.order_by().values_list("channel").annotate(n=Count("pk")).values_list("channel", "n"))
    return {"by_channel": by_channel, "total": sum(by_channel.values())}


# --- HQ: turnaround time -----------------------------------------------------

TAT_PERCENTILES = (0.5, 0.9)


def _delivered(center_ids, period: Period):
    return _scoped(
        RepairTicket.objects.filter(
            delivered_at__gte=period.since, delivered_at__lt=period.until, received_at__isnull=False
        ),
        center_ids,
    )


def turnaround_by_center_channel(*, center_ids, period: Period) -> list[dict]:
    """Turnaround (``received_at`` -> ``delivered_at``) p50/p90 in hours per center and channel.

    Tickets delivered within the period. PostgreSQL computes ``percentile_cont`` in one
    GROUP BY; SQLite (embedded demo, small data) sorts the durations in Python with the
    same interpolation, so both give the same exact numbers.
    """
    qs = _delivered(center_ids, period).order_by()
    secs = EpochSeconds("delivered_at", "received_at")
    if db_has_percentiles():
        rows = list(
            qs.values("center_id", "center__code", "channel").annotate(
                n=Count("pk"),
                p50=PercentileCont(secs, percentile=0.5),
                p90=PercentileCont(secs, percentile=0.9),
            )
        )
    else:
        raw = qs.annotate(secs=secs).values_list("center_id", "center__code", "channel", "secs")
        rows = [
            {"center_id": k[0], "center__code": k[1], "channel": k[2], "n": n, "p50": p50, "p90": p90}
            for k, (n, p50, p90) in group_percentiles(raw, percentiles=TAT_PERCENTILES).items()
        ]
    for row in rows:
        row["center_code"] = row.pop("center__code")
        row["p50_hours"] = _hours(row.pop("p50"))
        row["p90_hours"] = _hours(row.pop("p90"))
    rows.sort(key=lambda r: (r["center_code"], r["channel"]))
    return rows


def turnaround_overall(*, center_ids, period: Period) -> dict:
    """p50/p90 of the whole scope (one query on PostgreSQL)."""
    qs = _delivered(center_ids, period).order_by()
    secs = EpochSeconds("delivered_at", "received_at")
    if db_has_percentiles():
        agg = qs.aggregate(
            n=Count("pk"), p50=PercentileCont(secs, percentile=0.5), p90=PercentileCont(secs, percentile=0.9)
        )
        n, p50, p90 = agg["n"], agg["p50"], agg["p90"]
    else:
        raw = qs.annotate(secs=secs).values_list("secs")
        n, p50, p90 = group_percentiles(((s,) for (s,) in raw), percentiles=TAT_PERCENTILES).get((), (0, None, None))
    return {"n": n, "p50_hours": _hours(p50), "p90_hours": _hours(p90)}


def turnaround_trend(*, center_ids, period: Period) -> list[dict]:
    """Daily p50 turnaround and deliveries (by local delivery date) for the trend line."""
    tz = timezone.get_default_timezone()
    qs = _delivered(center_ids, period).order_by().annotate(day=TruncDate("delivered_at", tzinfo=tz))
    secs = EpochSeconds("delivered_at", "received_at")
    if db_has_percentiles():
        rows = {
            r["day"]: r
            for r in qs.values("day").annotate(n=Count("pk"), p50=PercentileCont(secs, percentile=0.5))
        }
    else:
        raw = qs.annotate(secs=secs).values_list("day", "secs")
        rows = {k[0]: {"n": n, "p50": p50} for k, (n, p50) in group_percentiles(raw, percentiles=(0.5,)).items()}
    out = []
    for i in range(period.days):
        day = period.start + dt.timedelta(days=i)
        row = rows.get(day) or {}
        out.append({"day": day, "delivered": row.get("n", 0), "p50_hours": _hours(row.get("p50"))})
    return out


def _hours(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / 3600).quantize(Decimal("0.01"))


# --- HQ: quality -------------------------------------------------------------

REPEAT_WINDOW = dt.timedelta(days=90)


def first_time_fix(*, center_ids, period: Period) -> dict:
    """First-time-fix rate of repairs delivered in the period.

    A delivered repair is *not* fixed the first time when another (not cancelled) ticket for
    the same device and the same fault category was opened after its delivery and within
    90 days of it. One query (``EXISTS`` subquery), grouped by center.
    Note: repairs delivered less than 90 days ago can still turn into repeats later.
    """
    repeat = RepairTicket.objects.filter(
        device_id=OuterRef("device_id"),
        fault_category=OuterRef("fault_category"),
        created_at__gt=OuterRef("delivered_at"),
        created_at__lte=OuterRef("delivered_at") + REPEAT_WINDOW,
    ).exclude(status=TicketStatus.CANCELLED)
    rows = list(
        _delivered(center_ids, period)
        .order_by()
        .annotate(repeated=Exists(repeat))
        .values("center_id", "center__code")
        .annotate(delivered=Count("pk"), repeated_n=Count("pk", filter=Q(repeated=True)))
        .order_by("center__code")
    )
    by_center = [
        {
            "center_code": r["center__code"],
            "delivered": r["delivered"],
            "repeated": r["repeated_n"],
            "first_time_fixed": r["delivered"] - r["repeated_n"],
            "rate": rate(r["delivered"] - r["repeated_n"], r["delivered"]),
        }
        for r in rows
    ]
    delivered = sum(r["delivered"] for r in by_center)
    fixed = sum(r["first_time_fixed"] for r in by_center)
    return {"delivered": delivered, "first_time_fixed": fixed, "rate": rate(fixed, delivered), "by_center": by_center}


def _qc_pass_events():
    return TicketEvent.objects.filter(from_status=TicketStatus.QUALITY_CHECK, to_status=TicketStatus.READY)


def qc_first_pass(*, center_ids, period: Period) -> dict:
    """QC first-pass rate: QC passes in the period with no earlier QC fail on the same ticket.

    Passes and fails are read from the timeline by their transition (quality_check -> ready,
    quality_check -> repairing), which is what ``qc_pass``/``qc_fail`` do. One query.
    """
    earlier_fail = TicketEvent.objects.filter(
        ticket_id=OuterRef("ticket_id"),
        from_status=TicketStatus.QUALITY_CHECK,
        to_status=TicketStatus.REPAIRING,
        at__lt=OuterRef("at"),
    )
    qs = _scoped(_qc_pass_events().filter(at__gte=period.since, at__lt=period.until), center_ids, "ticket__center_id")
    agg = qs.aggregate(passes=Count("pk"), first=Count("pk", filter=~Exists(earlier_fail)))
    return {"passes": agg["passes"], "first_pass": agg["first"], "rate": rate(agg["first"], agg["passes"])}


def stage_sla_targets() -> dict[str, int]:
    """Target minutes per stage: ``repairs.StageSLA`` rows over the code defaults (one query)."""
    from repairs import choices as repair_choices

    targets = {str(k): v for k, v in getattr(repair_choices, "DEFAULT_STAGE_SLA_MINUTES", {}).items()}
    try:
        from repairs.models import StageSLA
    except ImportError:  # pragma: no cover - before the repairs work landed
        return targets
    for status, minutes, active in StageSLA.objects.values_list("status", "target_minutes", "active"):
        if active:
            targets[status] = minutes
        else:
            targets.pop(status, None)
    return targets


def sla_compliance_by_stage(*, center_ids, period: Period) -> list[dict]:
    """Per stage: stage visits that ended in the period, and how many ended within the target.

    A visit of stage S ends with a timeline event ``from_status = S``; it started with the
    previous event of the same ticket (the one that moved the ticket into S). One query:
    the start is a correlated subquery on the (ticket, at) index, and the comparison
    ``ended_at <= started_at + target`` runs in the database.
    """
    targets = stage_sla_targets()
    if not targets:
        return []
    previous_at = Subquery(
        TicketEvent.objects.filter(
            Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")), ticket_id=OuterRef("ticket_id")
        )
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    from django.db.models import Case, DateTimeField, DurationField, ExpressionWrapper, Value, When

    target = Case(
        *[When(from_status=s, then=Value(dt.timedelta(minutes=m), output_field=DurationField())) for s, m in targets.items()],
        output_field=DurationField(),
    )
    qs = _scoped(
        TicketEvent.objects.filter(at__gte=period.since, at__lt=period.until, from_status__in=list(targets)),
        center_ids,
        "ticket__center_id",
    )
    rows = (
        qs.annotate(started_at=previous_at)
        .annotate(deadline=ExpressionWrapper(F("started_at") + target, output_field=DateTimeField()))
        .order_by()
        .values("from_status")
        .annotate(visits=Count("pk"), within=Count("pk", filter=Q(at__lte=F("deadline"))))
    )
    found = {r["from_status"]: r for r in rows}
    labels = dict(TicketStatus.choices)
    out = []
    for status in [s for s in TicketStatus.values if s in targets]:
        r = found.get(status, {"visits": 0, "within": 0})
        out.append(
            {
                "stage": status,
                "label": str(labels.get(status, status)),
                "target_minutes": targets[status],
                "visits": r["visits"],
                "within": r["within"],
                "rate": rate(r["within"], r["visits"]),
            }
        )
    return out


# --- HQ: people ----------------------------------------------------------------


def certified_engineers(*, center_ids, today: dt.date | None = None) -> dict:
    """Engineers (active ``engineer`` membership in scope) holding a certification valid today. One query."""
    today = today or local_today()
    memberships = _scoped(StaffMembership.objects.filter(role=StaffRole.ENGINEER, active=True), center_ids)
    valid = Certification.objects.filter(user_id=OuterRef("pk"), issued_on__lte=today, expires_on__gte=today)
    agg = (
        get_user_model()
        .objects.filter(pk__in=memberships.values("user_id"), is_active=True)
        # The EXISTS goes straight into the FILTER clause: as an annotation Django 5.2 drops it
        # from the inner query when the aggregate is wrapped (and SQLite then reads a string).
        .aggregate(engineers=Count("pk"), certified=Count("pk", filter=Exists(valid)))
    )
    return {"engineers": agg["engineers"], "certified": agg["certified"], "rate": rate(agg["certified"], agg["engineers"])}


# --- HQ: coverage --------------------------------------------------------------


def coverage_by_province() -> dict:
    """Share of prefecture-level cities and of counties with an active official site, per province.

    Two grouped queries (cities, counties) plus one for the uncovered list. Statistical
    placeholder regions (``Region.is_placeholder``, when the centers app has it) are left out.
    """
    site = ServiceCenter.objects.filter(active=True, official=True)
    regions = Region.objects.all()
    if any(f.name == "is_placeholder" for f in Region._meta.get_fields()):
        regions = regions.filter(is_placeholder=False)

    def grouped(level: str, covered_by: str, province_path: str):
        return {
            r["prov"]: r
            for r in regions.filter(level=level)
            .annotate(covered=Exists(site.filter(**{covered_by: OuterRef("pk")})))
            .order_by()
            .values(prov=F(f"{province_path}_id"))
            .annotate(total=Count("pk"), covered_n=Count("pk", filter=Q(covered=True)))
        }

    cities = grouped(RegionLevel.CITY, "city_id", "parent")
    counties = grouped(RegionLevel.COUNTY, "region_id", "parent__parent")
    provinces = dict(Region.objects.filter(level=RegionLevel.PROVINCE).values_list("pk", "name"))
    rows = []
    for pk, name in sorted(provinces.items(), key=lambda kv: kv[0]):
        c, k = cities.get(pk, {}), counties.get(pk, {})
        rows.append(
            {
                "province": name,
                "cities": c.get("total", 0),
                "cities_covered": c.get("covered_n", 0),
                "cities_rate": rate(c.get("covered_n", 0), c.get("total", 0)),
                "counties": k.get("total", 0),
                "counties_covered": k.get("covered_n", 0),
                "counties_rate": rate(k.get("covered_n", 0), k.get("total", 0)),
            }
        )
    tot = {key: sum(r[key] for r in rows) for key in ("cities", "cities_covered", "counties", "counties_covered")}
    tot["cities_rate"] = rate(tot["cities_covered"], tot["cities"])
    tot["counties_rate"] = rate(tot["counties_covered"], tot["counties"])
    return {"provinces": rows, "total": tot}


def uncovered_regions(*, limit: int | None = 200) -> list[dict]:
    """Cities and counties without an active official site (province, city, name, adcode)."""
    site = ServiceCenter.objects.filter(active=True, official=True)
    qs = Region.objects.filter(
        Q(~Exists(site.filter(city_id=OuterRef("pk"))), level=RegionLevel.CITY)
        | Q(~Exists(site.filter(region_id=OuterRef("pk"))), level=RegionLevel.COUNTY)
    )
    if any(f.name == "is_placeholder" for f in Region._meta.get_fields()):
        qs = qs.filter(is_placeholder=False)
    qs = qs.order_by("adcode").values("adcode", "name", "level", "parent__name")
    if limit is not None:
        qs = qs[:limit]
    return list(qs)
