"""Reads of the desk's quick visits (issue #22): today's counts at the desk, the API summary, HQ's reach figures.

Every count is people (the sum of ``count``) of visits still ``recorded`` (a voided tap counts nowhere). Each
function is one or two queries whatever the number of visits.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import CharField, Count, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat

from .models import Visit, VisitService, VisitStatus
from .visits import VOID_WINDOW


def _recorded(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": VisitStatus.RECORDED})


def services_with_counts(*, center_id: int, day: dt.date) -> list[VisitService]:
    """The active catalog, each service with ``today`` = people served at the center on ``day``. One query."""
    in_day = Q(visits__center_id=center_id, visits__day=day) & _recorded("visits__")
    return list(
        VisitService.objects.filter(active=True)
        .annotate(today=Coalesce(Sum("visits__count", filter=in_day), 0))
        .order_by("position", "code")
    )


def last_undoable(*, user, center_id: int, now: dt.datetime) -> Visit | None:
    """The user's latest tap at the center, while it can still be undone. One query."""
    if not getattr(user, "pk", None):
        return None
    return (
        Visit.objects.select_related("service")
        .filter(center_id=center_id, staff_id=user.pk, status=VisitStatus.RECORDED, at__gte=now - VOID_WINDOW)
        .order_by("-at", "-pk")
        .first()
    )


def visits_summary(*, center_id: int, day: dt.date) -> dict:
    """People per service at a center on a day (every active service, zeros included), and the total."""
    rows = services_with_counts(center_id=center_id, day=day)
    services = [{"service": s.code, "name": s.name, "kind": s.kind, "visits": s.today} for s in rows]
    return {"services": services, "total": sum(r["visits"] for r in services)}


def _scoped(center_ids, start: dt.date, end: dt.date):
    qs = Visit.objects.filter(_recorded(), day__gte=start, day__lte=end)
    return qs if center_ids is None else qs.filter(center_id__in=center_ids)


def service_day_reach(*, center_ids, start: dt.date, end: dt.date) -> dict:
    """People reached on Service Days vs ordinary days, by province, over ``start``..``end``. Two queries.

    ``{"rows": [{"region", "service_day", "ordinary", "service_day_share"}], "service_day", "ordinary",
    "service_day_dates", "ordinary_dates", "service_day_daily", "ordinary_daily"}`` (daily = people per
    center-day that had visits)."""
    qs = _scoped(center_ids, start, end)
    by_region: dict[str, dict] = {}
    for row in qs.values("center__province__name", "during_service_day").annotate(n=Sum("count")).order_by():
        name = row["center__province__name"] or "—"
        entry = by_region.setdefault(name, {"region": name, "service_day": 0, "ordinary": 0})
        entry["service_day" if row["during_service_day"] else "ordinary"] += row["n"]
    rows = sorted(by_region.values(), key=lambda r: (-r["service_day"], r["region"]))
    for r in rows:
        total = r["service_day"] + r["ordinary"]
        r["service_day_share"] = round(100 * r["service_day"] / total, 1) if total else None
    center_days = {True: 0, False: 0}
    for row in qs.values("during_service_day").annotate(days=_distinct_center_days()).order_by():
        center_days[row["during_service_day"]] = row["days"]
    sd, ordinary = sum(r["service_day"] for r in rows), sum(r["ordinary"] for r in rows)
    return {
        "rows": rows,
        "service_day": sd,
        "ordinary": ordinary,
        "service_day_center_days": center_days[True],
        "ordinary_center_days": center_days[False],
        "service_day_daily": round(sd / center_days[True], 1) if center_days[True] else None,
        "ordinary_daily": round(ordinary / center_days[False], 1) if center_days[False] else None,
    }


def _distinct_center_days():
    """Distinct (center, day) pairs: the center-days that had visits."""
    return Count(Concat(Cast("center_id", CharField()), Value(":"), Cast("day", CharField())), distinct=True)


def visits_by_service(*, center_ids, start: dt.date, end: dt.date) -> dict:
    """People per service (free perks apart) and per day over ``start``..``end``. Two queries."""
    qs = _scoped(center_ids, start, end)
    services = [
        {
            "code": r["service__code"],
            "name_zh": r["service__name_zh"],
            "name_en": r["service__name_en"],
            "visits": r["n"],
            "perks": r["perks"],
        }
        for r in qs.values("service__code", "service__name_zh", "service__name_en", "service__position")
        .annotate(n=Sum("count"), perks=Coalesce(Sum("count", filter=Q(perk=True)), 0))
        .order_by("service__position", "service__code")
    ]
    per_day = dict(qs.values_list("day").annotate(n=Sum("count")).order_by())
    days = [(start + dt.timedelta(days=i)) for i in range((end - start).days + 1)]
    return {"services": services, "days": [(d, per_day.get(d, 0)) for d in days]}


def visits_today(*, center_ids, day: dt.date) -> list[dict]:
    """People per service today across the centers in scope (the center dashboard). One query."""
    return [
        {"code": r["service__code"], "name_zh": r["service__name_zh"], "name_en": r["service__name_en"], "n": r["n"]}
        for r in _scoped(center_ids, day, day)
        .values("service__code", "service__name_zh", "service__name_en", "service__position")
        .annotate(n=Sum("count"))
        .order_by("service__position", "service__code")
    ]
