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
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Count, DurationField, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When, Window
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
    promised: str = ""  # the promised completion time, local "HH:MM" today or "MM-DD HH:MM" (issue #21)
    express: bool = False

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


# How long a board answer may be reused at most. A change of any ticket on the board changes the
# board's fingerprint (counts and latest ``updated_at`` per status) and shows on the next poll; the
# TTL only bounds what the fingerprint cannot see (a customer renaming themself).
BOARD_CACHE_SECONDS = 60


def board_center(*, code: str) -> ServiceCenter | None:
    """The active center whose board ``/board/<code>/`` shows (``None`` -> 404).

    Cached under the center's public-cache version (``centers.selectors.center_cache_version``),
    so deactivating or renaming it shows at once; no query on a hit. The version is stored in the cached
    value and read with it in one round trip: an entry of another version is read again from the database.
    """
    from django.core.cache import cache

    from centers.selectors import (
        CENTER_CODE_MAX_LENGTH,
        PUBLIC_CACHE_SECONDS,
        cache_code,
        center_cache_forget,
        center_cache_version_created,
        center_cache_version_in,
        center_cache_version_keys,
    )

    if not code or len(code) > CENTER_CODE_MAX_LENGTH:
        return None
    key = f"ops:board-center:{cache_code(code)}"
    found = cache.get_many([*center_cache_version_keys(code=code), key])
    version, created = center_cache_version_in(found, code=code), False
    if version is None:
        version, created = center_cache_version_created(code=code)
    hit = found.get(key)
    if hit is None or hit[0] != version:
        from servicehub.dbrouter import primary_reads

        with primary_reads():  # cached under a version bumped on commit: not from a lagging replica
            center = ServiceCenter.objects.filter(code=code, active=True).only("pk", "code", "name").first()
        if center is None:
            if created:  # a made-up code from the URL leaves nothing in the cache
                center_cache_forget(code=code)
            return None
        hit = (version, center.pk, center.code, center.name)
        cache.set(key, hit, PUBLIC_CACHE_SECONDS)
    _version, pk, code, name = hit
    return ServiceCenter(pk=pk, code=code, name=name, active=True)


# The board's fingerprint query, compiled once per database alias: ``(sql, params, index of center_id)``. Django
# built and compiled this aggregate on every poll; its SQL is the same for every center but the id.
_BOARD_STATE_SQL: dict[str, tuple[str, tuple, int]] = {}
_BOARD_STATE_SENTINEL = -(2**62) + 104729


def board_state(*, center_id: int) -> list[tuple]:
    """``[(status, count, latest updated_at)]`` of the open board statuses at one center, sorted: one query.

    This is the board's fingerprint (every ticket write moves ``updated_at``). The latest change is what the
    database driver gives (an aware datetime on PostgreSQL, text on SQLite): it is only compared, never shown.
    """
    from django.db import connections, router

    alias = router.db_for_read(RepairTicket)
    compiled = _BOARD_STATE_SQL.get(alias)
    if compiled is None:
        from django.db.models import Max

        qs = (
            RepairTicket.objects.using(alias)
            .filter(center_id=_BOARD_STATE_SENTINEL, status__in=list(BOARD_STATUS_TO_STAGE))
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"), last=Max("updated_at"))
            .values_list("status", "n", "last")
        )
        sql, params = qs.query.get_compiler(alias).as_sql()
        if list(params).count(_BOARD_STATE_SENTINEL) != 1:  # pragma: no cover - a Django change, loudly
            raise RuntimeError("the board's state query no longer binds center_id once")
        compiled = _BOARD_STATE_SQL[alias] = (sql, tuple(params), list(params).index(_BOARD_STATE_SENTINEL))
    sql, params, index = compiled
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, (*params[:index], center_id, *params[index + 1 :]))
        return sorted(tuple(row) for row in cursor.fetchall())


def board_fingerprint_key(*, center_id: int, state: list[tuple], now: dt.datetime, limit: int, kind: str) -> str:
    """A cache key for what the board shows: the center, its counts and latest change per status, the minute
    (the minutes in stage and the clock move with it) and the language."""
    import hashlib

    from django.utils.translation import get_language

    fingerprint = "|".join(f"{st}:{n}:{last}" for st, n, last in state)
    minute = int(now.timestamp() // 60)
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=16).hexdigest()
    return f"ops:board-{kind}:{center_id}:{limit}:{minute}:{get_language()}:{digest}"


def board_columns(
    *,
    center_id: int,
    now: dt.datetime | None = None,
    limit: int = BOARD_ROWS_PER_STAGE,
    state: list[tuple] | None = None,
) -> list[BoardColumn]:
    """The board's columns for one center: at most ``limit`` rows each, longest-waiting first.

    At most two queries whatever the queue length: the counts (and latest change) per status
    (:func:`board_state`, or ``state`` when the caller has it), and the first ``limit`` rows of each status
    (``ROW_NUMBER() OVER (PARTITION BY status)``). The first is the board's fingerprint: while it and the
    minute are unchanged, the columns come from the cache (one query per poll; 2,400 TVs polling cost 2,400
    index look-ups, not 7,200). Only the masked name and the last four characters of the service number leave
    this function.
    """
    from django.core.cache import cache

    live = now is None
    now = now or timezone.now()
    statuses = list(BOARD_STATUS_TO_STAGE)
    open_here = RepairTicket.objects.filter(center_id=center_id, status__in=statuses)
    if state is None:
        state = board_state(center_id=center_id)
    key = None
    if live:
        key = board_fingerprint_key(center_id=center_id, state=state, now=now, limit=limit, kind="columns")
        cached = cache.get(key)
        if cached is not None:
            return cached
    totals: dict[str, int] = {}
    for status, n, _last in state:
        key_ = BOARD_STATUS_TO_STAGE[status]
        totals[key_] = totals.get(key_, 0) + n

    since = F("stage_started_at")
    rows = (
        (
            open_here.annotate(
                rn=Window(
                    RowNumber(), partition_by=[F("status")], order_by=[since.asc(nulls_first=True), F("pk").asc()]
                )
            )
            .filter(rn__lte=limit)
            .order_by()
            .values_list(
                "status", "customer__name", "service_no", "stage_started_at", "updated_at", "promised_at", "express"
            )
        )
        if state
        else []
    )
    by_stage: dict[str, list[tuple]] = {}
    today = timezone.localtime(now).date()
    for status, name, service_no, started, updated, promised_at, express in rows:
        started = started or updated
        minutes = max(0, int((now - started).total_seconds() // 60))
        promised = ""
        if promised_at is not None and status != "ready":
            local = timezone.localtime(promised_at)
            promised = local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")
        row = BoardRow(
            name=mask_name(name), number=service_no[-4:], minutes_in_stage=minutes, promised=promised, express=express
        )
        by_stage.setdefault(BOARD_STATUS_TO_STAGE[status], []).append((started, row))
    columns = []
    for stage, label, _statuses in BOARD_STAGES:
        # awaiting_parts and repairing share a column: merge, re-sort, cut to the limit again.
        merged = sorted(by_stage.get(stage, []), key=lambda item: item[0])[:limit]
        columns.append(
            BoardColumn(key=stage, label=str(label), rows=tuple(r for _s, r in merged), total=totals.get(stage, 0))
        )
    if key is not None:
        cache.set(key, columns, BOARD_CACHE_SECONDS)
    return columns


# --- front desk: queue and overdue -------------------------------------------


def queue_by_stage(*, center_ids) -> list[dict]:
    """Open tickets per status (one GROUP BY): ``[{"status", "label", "count", "overdue"}]`` in lifecycle order."""
    now = timezone.now()
    qs = _scoped(RepairTicket.objects.filter(status__in=_OPEN), center_ids)
    counts = {
        row["status"]: row
        for row in qs.order_by()
        .values("status")
        .annotate(count=Count("pk"), overdue=Count("pk", filter=Q(stage_due_at__lt=now)))
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


def overdue_tickets(*, center_ids, now: dt.datetime | None = None, limit: int | None = 50) -> tuple[list[dict], int]:
    """Open tickets past their stage deadline (``stage_due_at < now``), most overdue first.

    Returns ``(first `limit` rows, total)``: two queries. Staff-only page, so the service
    number is shown in full; the customer's name is not needed here and is not fetched.
    """
    now = now or timezone.now()
    qs = _scoped(RepairTicket.objects.filter(status__in=_OPEN, stage_due_at__lt=now), center_ids)
    total = qs.count()
    rows = qs.order_by("stage_due_at", "pk").values(
        "pk", "service_no", "status", "center__code", "stage_due_at", "stage_started_at", "channel"
    )
    rows = list(rows if limit is None else rows[:limit])
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
    """p50/p90 of the whole scope, and the business minutes those repairs were paused waiting on the customer
    and on parts (issue #21: the wall-clock turnaround includes them). One query."""
    qs = _delivered(center_ids, period).order_by()
    secs = EpochSeconds("delivered_at", "received_at")
    if db_has_percentiles():
        agg = qs.aggregate(
            n=Count("pk"),
            p50=PercentileCont(secs, percentile=0.5),
            p90=PercentileCont(secs, percentile=0.9),
            customer=Sum("paused_customer_minutes"),
            parts=Sum("paused_parts_minutes"),
        )
        n, p50, p90 = agg["n"], agg["p50"], agg["p90"]
        customer, parts = agg["customer"] or 0, agg["parts"] or 0
    else:
        raw = list(qs.annotate(secs=secs).values_list("secs", "paused_customer_minutes", "paused_parts_minutes"))
        n, p50, p90 = group_percentiles(((s,) for s, _c, _p in raw), percentiles=TAT_PERCENTILES).get(
            (), (0, None, None)
        )
        customer, parts = sum(c or 0 for _s, c, _p in raw), sum(p or 0 for _s, _c, p in raw)
    return {
        "n": n,
        "p50_hours": _hours(p50),
        "p90_hours": _hours(p90),
        "paused_customer_minutes": customer,
        "paused_parts_minutes": parts,
    }


def waits_by_center(*, center_ids, period: Period) -> list[dict]:
    """Per center, the repairs delivered in the period and the business minutes they waited on the customer
    (quote approval) and on parts, on average -- the paused time the turnaround includes (issue #21). One query."""
    rows = (
        _delivered(center_ids, period)
        .order_by()
        .values("center__code")
        .annotate(
            n=Count("pk"),
            customer=Sum("paused_customer_minutes"),
            parts=Sum("paused_parts_minutes"),
        )
    )
    out = []
    for row in rows:
        n = row["n"] or 0
        out.append(
            {
                "center_code": row["center__code"],
                "n": n,
                "customer_avg": round((row["customer"] or 0) / n) if n else 0,
                "parts_avg": round((row["parts"] or 0) / n) if n else 0,
                "total_minutes": (row["customer"] or 0) + (row["parts"] or 0),
            }
        )
    out.sort(key=lambda r: (-r["total_minutes"], r["center_code"]))
    return out


def turnaround_trend(*, center_ids, period: Period) -> list[dict]:
    """Daily p50 turnaround and deliveries (by local delivery date) for the trend line."""
    tz = timezone.get_default_timezone()
    qs = _delivered(center_ids, period).order_by().annotate(day=TruncDate("delivered_at", tzinfo=tz))
    secs = EpochSeconds("delivered_at", "received_at")
    if db_has_percentiles():
        rows = {r["day"]: r for r in qs.values("day").annotate(n=Count("pk"), p50=PercentileCont(secs, percentile=0.5))}
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
    90 days of it. Two queries grouped by center: the deliveries, and the deliveries
    ``WHERE EXISTS`` such a repeat. (In the WHERE clause PostgreSQL runs the repeat look-up as a
    parallel semi-join on ``ops_ticket_repeat_idx``; as a ``COUNT(...) FILTER`` in the select list it
    was one serial probe per delivery in the leader: 220 ms as one query vs 97 + 70 ms as two, for
    80k deliveries, docs/performance.md.)
    Note: repairs delivered less than 90 days ago can still turn into repeats later.
    """
    repeat = RepairTicket.objects.filter(
        device_id=OuterRef("device_id"),
        fault_category=OuterRef("fault_category"),
        created_at__gt=OuterRef("delivered_at"),
        created_at__lte=OuterRef("delivered_at") + REPEAT_WINDOW,
    ).exclude(status=TicketStatus.CANCELLED)
    delivered_qs = _delivered(center_ids, period).order_by()
    repeated = dict(
        delivered_qs.filter(Exists(repeat))
        .values_list("center_id")
        .annotate(n=Count("pk"))
        .values_list("center_id", "n")
    )
    rows = list(
        delivered_qs.values("center_id", "center__code").annotate(delivered=Count("pk")).order_by("center__code")
    )
    for r in rows:
        r["repeated_n"] = repeated.get(r["center_id"], 0)
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

    A visit of stage S ends with a timeline event ``from_status = S``; its length is the
    event's ``business_minutes_in_stage`` (written with the event: the center's open minutes since
    the ticket entered S), since the targets count business minutes (issue #21). Rows written
    before that column existed have it null and fall back to the wall-clock ``time_in_stage``.
    Within target when that length ``<= target``; a visit of unknown length counts as a visit,
    not as within. Two queries: the targets, and one aggregate over
    the period's events (``ops_event_stage_visit_idx``; a center scope joins the tickets).
    (Pairing each event with its predecessor at read time took 1.7-8 s on 8M events; this
    reads only the period's rows, see docs/performance.md, Operations.)
    """
    targets = stage_sla_targets()
    if not targets:
        return []
    stages = [s for s in TicketStatus.values if s in targets]
    qs = _scoped(
        TicketEvent.objects.filter(at__gte=period.since, at__lt=period.until, from_status__in=stages),
        center_ids,
        "ticket__center_id",
    )
    target = Case(
        *[When(from_status=status, then=Value(targets[status])) for status in stages],
        output_field=IntegerField(),
    )
    wall_target = Case(
        *[When(from_status=status, then=Value(dt.timedelta(minutes=targets[status]))) for status in stages],
        output_field=DurationField(),
    )
    within = Q(business_minutes_in_stage__lte=target) | Q(
        business_minutes_in_stage__isnull=True, time_in_stage__lte=wall_target
    )
    # COUNT(from_status), not COUNT(id): the (from_status, at) INCLUDE (time_in_stage, ticket_id) index
    # answers the visits alone; "within" now also reads business_minutes_in_stage from the heap (not in
    # that index; the period's rows only, so no new index was added -- see docs/ops.md).
    found = {
        row["from_status"]: (row["visits"], row["within"])
        for row in qs.order_by()
        .values("from_status")
        .annotate(visits=Count("from_status"), within=Count("from_status", filter=within))
    }
    labels = dict(TicketStatus.choices)
    out = []
    for status in stages:
        visits, within_n = found.get(status, (0, 0))
        out.append(
            {
                "stage": status,
                "label": str(labels.get(status, status)),
                "target_minutes": targets[status],
                "visits": visits,
                "within": within_n,
                "rate": rate(within_n, visits),
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
    return {
        "engineers": agg["engineers"],
        "certified": agg["certified"],
        "rate": rate(agg["certified"], agg["engineers"]),
    }


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
    rows = qs.order_by("adcode").values("adcode", "name", "level", "parent__name")
    if limit is not None:
        rows = rows[:limit]
    return [dict(row) for row in rows]


# --- loaners and deposits ------------------------------------------------------------------


def loaners_by_tier(*, center_ids, now: dt.datetime | None = None) -> list[dict]:
    """Per tier: loaners available (lendable now), out, of which overdue, in maintenance/transfer, pool size.

    Two queries: loaner status counts by tier (at their current center), and open loans
    past due by tier (``overdue`` status, or still ``out`` after ``due_at`` before the job ran).
    """
    from loaners.choices import OPEN_LOAN_STATUSES, LoanerStatus, LoanStatus
    from loaners.models import Loan, Loaner
    from warranty.choices import Tier

    now = now or timezone.now()
    pool = _scoped(Loaner.objects.exclude(status=LoanerStatus.RETIRED), center_ids, "current_center_id")
    counts = (
        pool.order_by()
        .values("model__tier")
        .annotate(
            pool=Count("pk"),
            available=Count("pk", filter=Q(status=LoanerStatus.AVAILABLE, needs_wipe=False)),
            out=Count("pk", filter=Q(status=LoanerStatus.OUT)),
            other=Count(
                "pk",
                filter=Q(status__in=[LoanerStatus.MAINTENANCE, LoanerStatus.TRANSFERRING])
                | Q(status=LoanerStatus.AVAILABLE, needs_wipe=True),
            ),
        )
    )
    by_tier = {r["model__tier"]: r for r in counts}
    overdue = dict(
        _scoped(
            Loan.objects.filter(status__in=list(OPEN_LOAN_STATUSES)).filter(
                Q(status=LoanStatus.OVERDUE) | Q(due_at__lt=now)
            ),
            center_ids,
        )
        .order_by()
        .values_list("tier")
        .annotate(n=Count("pk"))
        .values_list("tier", "n")
    )
    labels = dict(Tier.choices)
    rows = []
    for tier in Tier.values:
        r = by_tier.get(tier, {})
        rows.append(
            {
                "tier": tier,
                "label": str(labels[tier]),
                "pool": r.get("pool", 0),
                "available": r.get("available", 0),
                "out": r.get("out", 0),
                "overdue": overdue.get(tier, 0),
                "unavailable": r.get("other", 0),
                "utilization": rate(r.get("out", 0), r.get("pool", 0)),
            }
        )
    return rows


def deposits_held(*, center_ids) -> dict:
    """Deposit money held now (the ledger: holds minus what refunds and deductions took out). One query."""
    from django.db.models import Sum

    from loaners.choices import EntryKind
    from loaners.models import DepositEntry

    agg = _scoped(DepositEntry.objects.all(), center_ids).aggregate(
        holds=Sum("amount", filter=Q(kind=EntryKind.HOLD)),
        out=Sum("from_deposit", filter=~Q(kind=EntryKind.HOLD)),
        loans=Count("loan_id", distinct=True, filter=Q(kind=EntryKind.HOLD)),
    )
    held = (agg["holds"] or Decimal("0")) - (agg["out"] or Decimal("0"))
    return {"held": held.quantize(Decimal("0.01")), "loans_with_deposit": agg["loans"]}


def cash_today(*, center_ids, day: dt.date) -> list[dict]:
    """Today's deposit cash report, per center and payment method (``loaners.selectors.cash_report``, 2 queries)."""
    from loaners.selectors import cash_report

    return cash_report(day=day, center_ids=center_ids)


def loaner_utilization(*, center_ids, period: Period, now: dt.datetime | None = None) -> list[dict]:
    """Loaner-days on loan / loaner-days in the pool, per tier, over the period.

    Loan time is clipped to the period in SQL (``GREATEST``/``LEAST``) and summed: one query,
    plus one for the pool (current non-retired loaners; retirements inside the period are
    not back-dated, which slightly understates utilization of a shrinking pool).
    """
    from django.db.models import Sum, Value
    from django.db.models.functions import Coalesce, Greatest, Least

    from loaners.choices import LoanerStatus
    from loaners.models import Loan, Loaner
    from warranty.choices import Tier

    now = now or timezone.now()
    end = min(period.until, now)
    since = period.since
    loans = _scoped(
        Loan.objects.filter(out_at__lt=end).filter(Q(returned_at__isnull=True) | Q(returned_at__gt=since)), center_ids
    )
    lent = dict(
        loans.order_by()
        .values("tier")
        .annotate(
            secs=Sum(
                EpochSeconds(
                    Least(Coalesce("returned_at", Value(end)), Value(end)),
                    Greatest("out_at", Value(since)),
                )
            )
        )
        .values_list("tier", "secs")
    )
    pool = dict(
        _scoped(Loaner.objects.exclude(status=LoanerStatus.RETIRED), center_ids, "current_center_id")
        .order_by()
        .values_list("model__tier")
        .annotate(n=Count("pk"))
        .values_list("model__tier", "n")
    )
    span = max((end - since).total_seconds(), 0.0)
    labels = dict(Tier.choices)
    rows = []
    for tier in Tier.values:
        loan_days = Decimal(str(lent.get(tier) or 0)) / 86400
        pool_days = Decimal(pool.get(tier, 0)) * Decimal(str(span)) / 86400
        rows.append(
            {
                "tier": tier,
                "label": str(labels[tier]),
                "loaners": pool.get(tier, 0),
                "loan_days": loan_days.quantize(Decimal("0.01")),
                "pool_days": pool_days.quantize(Decimal("0.01")),
                "rate": (loan_days * 100 / pool_days).quantize(Decimal("0.1")) if pool_days else None,
            }
        )
    return rows


# --- plans ----------------------------------------------------------------------------------------


def plan_attach_rate(*, period: Period) -> dict:
    """Plans sold per device sold in the period (network-wide): purchases made in the period that
    were not cancelled or refunded, divided by devices whose ``sold_at`` is in the period.

    Two queries (purchases grouped by plan kind, devices sold).
    """
    from warranty.choices import PurchaseStatus
    from warranty.models import Device, PlanPurchase

    sold = Device.objects.filter(sold_at__gte=period.since, sold_at__lt=period.until).count()
    by_kind = dict(
        PlanPurchase.objects.filter(purchased_at__gte=period.since, purchased_at__lt=period.until)
        .exclude(status__in=[PurchaseStatus.CANCELLED, PurchaseStatus.REFUNDED])
        .order_by()
        .values_list("product__kind")
        .annotate(n=Count("pk"))
        .values_list("product__kind", "n")
    )
    plans = sum(by_kind.values())
    return {
        "devices_sold": sold,
        "plans_sold": plans,
        "rate": rate(plans, sold),
        "by_kind": [{"kind": k, "plans": n, "rate": rate(n, sold)} for k, n in sorted(by_kind.items())],
    }


# --- customer self-service (booking app) ------------------------------------------------------


def booking_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("booking")


def appointments_on(*, center_ids, day: dt.date) -> dict:
    """Appointments whose slot starts on ``day``: booked / arrived (checked in) / cancelled / no-show. One query."""
    from booking.choices import AppointmentStatus
    from booking.models import Appointment

    day_period = Period(day, day)
    agg = _scoped(
        Appointment.objects.filter(start__gte=day_period.since, start__lt=day_period.until), center_ids
    ).aggregate(
        total=Count("pk"),
        booked=Count("pk", filter=Q(status=AppointmentStatus.BOOKED)),
        arrived=Count("pk", filter=Q(status=AppointmentStatus.BOOKED, ticket__received_at__isnull=False)),
        cancelled=Count("pk", filter=Q(status=AppointmentStatus.CANCELLED)),
        no_show=Count("pk", filter=Q(status=AppointmentStatus.NO_SHOW)),
    )
    agg["waiting"] = agg["booked"] - agg["arrived"]
    return agg


def callbacks_summary(*, now: dt.datetime | None = None) -> dict:
    """Hotline callback requests (network-wide: they belong to no center): open, oldest open, today's. One query."""
    from django.db.models import Min

    from booking.choices import CallbackStatus
    from booking.models import CallbackRequest

    now = now or timezone.now()
    today = Period(local_today(now), local_today(now))
    agg = CallbackRequest.objects.aggregate(
        open=Count("pk", filter=Q(status=CallbackStatus.OPEN)),
        oldest_open=Min("created_at", filter=Q(status=CallbackStatus.OPEN)),
        requested_today=Count("pk", filter=Q(created_at__gte=today.since, created_at__lt=today.until)),
        done_today=Count(
            "pk", filter=Q(status=CallbackStatus.DONE, handled_at__gte=today.since, handled_at__lt=today.until)
        ),
    )
    oldest = agg.pop("oldest_open")
    agg["oldest_open_minutes"] = int((now - oldest).total_seconds() // 60) if oldest else None
    return agg


SURVEY_ASPECTS = ("overall", "staff", "speed", "quality")


def _survey_score():
    """Mean of the four 1-5 aspects of one survey, as a float expression."""
    from django.db.models import ExpressionWrapper, FloatField
    from django.db.models.expressions import Combinable

    total: Combinable = F(SURVEY_ASPECTS[0])
    for aspect in SURVEY_ASPECTS[1:]:
        total = total + F(aspect)
    return ExpressionWrapper(total * 1.0 / len(SURVEY_ASPECTS), output_field=FloatField())


def csat(*, center_ids, period: Period) -> dict:
    """Satisfaction from surveys answered in the period. One query.

    CSAT = share of surveys rating ``overall`` 4 or 5 (top-two box); also the mean of each aspect.
    NPS = % promoters (9-10) - % detractors (0-6) among the surveys that answered the optional
    0-10 "would you recommend us" question (``recommend``); ``None`` when none did. The raw
    promoter / detractor / answer counts are returned too.
    """
    from django.db.models import Avg

    from booking.models import Survey

    qs = _scoped(Survey.objects.filter(created_at__gte=period.since, created_at__lt=period.until), center_ids)
    agg = qs.aggregate(
        responses=Count("pk"),
        satisfied=Count("pk", filter=Q(overall__gte=4)),
        promoters=Count("pk", filter=Q(recommend__gte=9)),
        detractors=Count("pk", filter=Q(recommend__lte=6)),
        nps_answers=Count("recommend"),
        **{f"avg_{a}": Avg(a) for a in SURVEY_ASPECTS},
    )
    out = {
        "responses": agg["responses"],
        "satisfied": agg["satisfied"],
        "csat": rate(agg["satisfied"], agg["responses"]),
        "nps_answers": agg["nps_answers"],
        "promoters": agg["promoters"],
        "detractors": agg["detractors"],
    }
    for a in SURVEY_ASPECTS:
        v = agg[f"avg_{a}"]
        out[f"avg_{a}"] = None if v is None else Decimal(str(v)).quantize(Decimal("0.01"))
    out["nps"] = None
    if agg["nps_answers"]:
        out["nps"] = (Decimal(agg["promoters"] - agg["detractors"]) * 100 / agg["nps_answers"]).quantize(Decimal("0.1"))
    return out


SERVICE_STAR_MIN_RESPONSES = 5


def service_stars(
    *, center_ids, period: Period, min_responses: int = SERVICE_STAR_MIN_RESPONSES, limit: int = 10
) -> list[dict]:
    """The "24℃ service star" ranking: staff by mean survey score (four aspects) in the period.

    Only staff with at least ``min_responses`` surveys rank. Ties: more responses first, then
    the lower user id. One query; the rank is the position in that order.
    """
    from django.db.models import Avg

    from booking.models import Survey

    qs = _scoped(
        Survey.objects.filter(created_at__gte=period.since, created_at__lt=period.until, engineer__isnull=False),
        center_ids,
    )
    rows = list(
        qs.order_by()
        .values("engineer_id", "engineer__username", "engineer__first_name", "engineer__last_name")
        .annotate(responses=Count("pk"), score=Avg(_survey_score()), csat_n=Count("pk", filter=Q(overall__gte=4)))
        .filter(responses__gte=min_responses)
        .order_by("-score", "-responses", "engineer_id")[:limit]
    )
    out = []
    for i, r in enumerate(rows, start=1):
        full = f"{r['engineer__last_name']}{r['engineer__first_name']}".strip()
        out.append(
            {
                "rank": i,
                "staff": full or r["engineer__username"],
                "username": r["engineer__username"],
                "responses": r["responses"],
                "score": Decimal(str(r["score"])).quantize(Decimal("0.01")),
                "csat": rate(r["csat_n"], r["responses"]),
            }
        )
    return out


# --- Service Days ---------------------------------------------------------------------------------


def service_days_month(*, center_ids, year: int, month: int) -> list[dict]:
    """This month's active Service Days: per date, how many centers (in scope) hold one. One query."""
    from centers.models import ServiceDay

    m = Period.month(year, month)
    qs = _scoped(
        ServiceDay.objects.filter(date__gte=m.start, date__lte=m.end, active=True, center__active=True), center_ids
    )
    return [
        {"date": d, "centers": n}
        for d, n in qs.order_by("date").values_list("date").annotate(n=Count("pk")).values_list("date", "n")
    ]


# --- page-level helpers ------------------------------------------------------------------------------


# Sorts and hashes of the period aggregates (percentiles per center and channel, the repeat
# semi-join) spilled to disk at PostgreSQL's default 4 MB; the page's transaction asks for more.
WORK_MEM = "64MB"


@contextmanager
def reporting_snapshot():
    """Run one dashboard page's figures in one read-only snapshot (PostgreSQL).

    REPEATABLE READ makes every figure on the page see the same data (the queue and the
    overdue list cannot disagree), READ ONLY guards against accidental writes, and
    ``jit = off`` because JIT compilation of these one-off aggregates cost more than it
    saved (up to 4.5 s of 8 s measured, docs/performance.md); ``work_mem`` is raised for this
    transaction only. One extra statement; inside an outer transaction (tests) only the
    settings apply.
    """
    if connection.vendor != "postgresql":
        yield
        return
    from django.db import transaction

    outer = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if outer:
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = %s", [WORK_MEM])
            else:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
                    " SET LOCAL jit = off; SET LOCAL work_mem = %s",
                    [WORK_MEM],
                )
        yield
