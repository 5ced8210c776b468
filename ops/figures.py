"""The dashboards' figures as tables: the same table is shown on the page and downloaded as CSV.

A figure is a function ``(ctx) -> Table`` registered under a key for one dashboard
(``front`` or ``hq``). It only calls selectors and reshapes their few rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from repairs.choices import Channel

from . import selectors
from .periods import Period, local_today


@dataclass(frozen=True)
class Ctx:
    """Who is looking (``center_ids`` None = whole network) and over which period."""

    center_ids: frozenset[int] | None
    period: Period
    today: dt.date
    now: dt.datetime
    full: bool = False  # CSV export: no page-size cut on long lists

    @classmethod
    def build(cls, *, center_ids, period: Period | None = None, now: dt.datetime | None = None) -> Ctx:
        now = now or timezone.now()
        today = local_today(now)
        return cls(center_ids=center_ids, period=period or Period.last_days(30, today=today), today=today, now=now)


@dataclass
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (row key, header)
    rows: list[dict]
    note: str = ""
    summary: dict = field(default_factory=dict)  # headline numbers shown above the table
    chart: object = None  # SVG (SafeString) or None
    page_limit: int | None = None  # rows shown on the page (the CSV has them all)

    def header(self) -> list[str]:
        return [str(label) for _k, label in self.columns]

    def values(self) -> list[list]:
        return [[row.get(k) for k, _l in self.columns] for row in self.rows]

    def page_values(self) -> list[list]:
        rows = self.rows if self.page_limit is None else self.rows[: self.page_limit]
        return [[row.get(k) for k, _l in self.columns] for row in rows]

    @property
    def cut_note(self) -> str:
        if self.page_limit is None or len(self.rows) <= self.page_limit:
            return ""
        return str(
            _("Showing %(n)d of %(total)d rows; the CSV has all.") % {"n": self.page_limit, "total": len(self.rows)}
        )


FIGURES: dict[str, dict[str, Callable[[Ctx], Table]]] = {"front": {}, "hq": {}}

# HQ figures are period aggregates over the whole ticket history: the page keeps them for a
# few minutes (``OPS_FIGURE_CACHE_SECONDS``, 0 = off). Front desk figures are live, never cached;
# CSV downloads are always computed fresh.
CACHED_BOARDS = ("hq",)


def cached_figure(board: str, key: str, fn: Callable[[Ctx], Table], ctx: Ctx) -> Table:
    from django.conf import settings
    from django.core.cache import cache
    from django.utils.translation import get_language

    seconds = getattr(settings, "OPS_FIGURE_CACHE_SECONDS", 300)
    if board not in CACHED_BOARDS or not seconds:
        return fn(ctx)
    scope = "all" if ctx.center_ids is None else ",".join(map(str, sorted(ctx.center_ids)))
    digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
    cache_key = f"ops:{board}:{key}:{digest}:{ctx.period.start}:{ctx.period.end}:{ctx.today}:{get_language()}"
    table = cache.get(cache_key)
    if table is None:
        table = fn(ctx)
        cache.set(cache_key, table, seconds)
    return table


def figure(board: str, key: str):
    def register(fn):
        FIGURES[board][key] = fn
        return fn

    return register


def unavailable(key: str, title, reason) -> Table:
    """A figure whose data source (another app's model) is not there: shown, with why."""
    return Table(key=key, title=str(title), columns=[], rows=[], note=str(reason))


_CHANNELS = dict(Channel.choices)


# --- front desk ------------------------------------------------------------------


@figure("front", "walk_ins_today")
def walk_ins_today(ctx: Ctx) -> Table:
    data = selectors.tickets_today(center_ids=ctx.center_ids, today=ctx.today)
    rows = [{"channel": str(_CHANNELS.get(c, c)), "tickets": n} for c, n in sorted(data["by_channel"].items())]
    return Table(
        key="walk_ins_today",
        title=str(_("Devices received today, by channel")),
        columns=[("channel", _("Channel")), ("tickets", _("Tickets"))],
        rows=rows,
        summary={_("Received today"): data["total"], _("Walk-ins"): data["by_channel"].get(Channel.WALK_IN, 0)},
    )


@figure("front", "queue")
def queue(ctx: Ctx) -> Table:
    rows = selectors.queue_by_stage(center_ids=ctx.center_ids)
    return Table(
        key="queue",
        title=str(_("Queue by stage")),
        columns=[("label", _("Stage")), ("count", _("Open tickets")), ("overdue", _("Overdue"))],
        rows=rows,
        summary={_("Open tickets"): sum(r["count"] for r in rows), _("Overdue"): sum(r["overdue"] for r in rows)},
    )


@figure("front", "overdue")
def overdue(ctx: Ctx) -> Table:
    rows, total = selectors.overdue_tickets(center_ids=ctx.center_ids, now=ctx.now, limit=None if ctx.full else 50)
    for row in rows:
        row["due"] = timezone.localtime(row["stage_due_at"]).strftime("%Y-%m-%d %H:%M")
        row["channel_label"] = str(_CHANNELS.get(row["channel"], row["channel"]))
    return Table(
        key="overdue",
        title=str(_("Overdue tickets (stage past its SLA)")),
        columns=[
            ("service_no", _("Service number")),
            ("center__code", _("Center")),
            ("status_label", _("Stage")),
            ("channel_label", _("Channel")),
            ("due", _("Due")),
            ("overdue_minutes", _("Minutes overdue")),
        ],
        rows=rows,
        summary={_("Overdue"): total},
        note=str(_("Showing the %(n)d most overdue of %(total)d.") % {"n": len(rows), "total": total})
        if total > len(rows)
        else "",
    )


@figure("front", "appointments_today")
def appointments_today(ctx: Ctx) -> Table:
    if not selectors.booking_installed():
        return unavailable("appointments_today", _("Today's appointments"), _("The booking app is not installed."))
    data = selectors.appointments_on(center_ids=ctx.center_ids, day=ctx.today)
    return Table(
        key="appointments_today",
        title=str(_("Today's appointments")),
        columns=[
            ("total", _("Appointments")),
            ("arrived", _("Arrived")),
            ("waiting", _("Not arrived yet")),
            ("cancelled", _("Cancelled")),
            ("no_show", _("No-show")),
        ],
        rows=[data],
        summary={_("Appointments today"): data["total"], _("Not arrived yet"): data["waiting"]},
    )


@figure("front", "loaners")
def loaners(ctx: Ctx) -> Table:
    rows = selectors.loaners_by_tier(center_ids=ctx.center_ids, now=ctx.now)
    return Table(
        key="loaners",
        title=str(_("Loaners by tier")),
        columns=[
            ("label", _("Tier")),
            ("available", _("Available")),
            ("out", _("Out")),
            ("overdue", _("Overdue")),
            ("unavailable", _("Wipe / maintenance / transfer")),
            ("pool", _("Pool")),
        ],
        rows=rows,
        summary={
            _("Loaners available"): sum(r["available"] for r in rows),
            _("Loans overdue"): sum(r["overdue"] for r in rows),
        },
    )


@figure("front", "deposits")
def deposits(ctx: Ctx) -> Table:
    data = selectors.deposits_held(center_ids=ctx.center_ids)
    return Table(
        key="deposits",
        title=str(_("Deposits held")),
        columns=[("held", _("Deposit money held (CNY)")), ("loans_with_deposit", _("Loans that took a deposit"))],
        rows=[data],
        summary={_("Deposits held (CNY)"): data["held"]},
    )


@figure("front", "cash_today")
def cash_today(ctx: Ctx) -> Table:
    from loaners.choices import PaymentMethod

    report = selectors.cash_today(center_ids=ctx.center_ids, day=ctx.today)
    methods = list(PaymentMethod.choices)
    rows = []
    for r in report:
        row = {"center": r["center"].code}
        for m, _label in methods:
            row[f"taken_{m}"] = r["taken"][m]
        row["taken_total"] = r["taken"]["total"]
        row["refunded_total"] = r["refunded"]["total"]
        row["deducted_total"] = r["deducted"]["total"]
        row["held"] = r["held"]
        rows.append(row)
    columns = [("center", _("Center"))]
    columns += [(f"taken_{m}", _("Taken: %(method)s") % {"method": label}) for m, label in methods]
    columns += [
        ("taken_total", _("Taken")),
        ("refunded_total", _("Refunded")),
        ("deducted_total", _("Deducted")),
        ("held", _("Held at end of day")),
    ]
    return Table(key="cash_today", title=str(_("Today's cash report (deposits)")), columns=columns, rows=rows)


@figure("front", "service_days")
def service_days(ctx: Ctx) -> Table:
    rows = selectors.service_days_month(center_ids=ctx.center_ids, year=ctx.today.year, month=ctx.today.month)
    for row in rows:
        row["date"] = row["date"].isoformat()
    return Table(
        key="service_days",
        title=str(_("This month's Service Days")),
        columns=[("date", _("Date")), ("centers", _("Centers holding one"))],
        rows=rows,
    )


@figure("front", "callbacks")
def callbacks(ctx: Ctx) -> Table:
    if not selectors.booking_installed():
        return unavailable("callbacks", _("Callback requests"), _("The booking app is not installed."))
    data = selectors.callbacks_summary(now=ctx.now)
    return Table(
        key="callbacks",
        title=str(_("Hotline callback requests (whole network)")),
        columns=[
            ("open", _("Waiting for a call")),
            ("oldest_open_minutes", _("Oldest waiting (min)")),
            ("requested_today", _("Requested today")),
            ("done_today", _("Called back today")),
        ],
        rows=[data],
        summary={_("Callbacks waiting"): data["open"]},
    )


# --- HQ ------------------------------------------------------------------------------


@figure("hq", "coverage")
def coverage(ctx: Ctx) -> Table:
    from .charts import bar_chart

    data = selectors.coverage_by_province()
    rows = data["provinces"]
    tot = data["total"]
    return Table(
        key="coverage",
        title=str(_("Coverage by province (cities and counties with an active official site)")),
        columns=[
            ("province", _("Province")),
            ("cities", _("Cities")),
            ("cities_covered", _("Cities covered")),
            ("cities_rate", _("Cities %")),
            ("counties", _("Counties")),
            ("counties_covered", _("Counties covered")),
            ("counties_rate", _("Counties %")),
        ],
        rows=rows,
        summary={_("Cities covered %"): tot["cities_rate"], _("Counties covered %"): tot["counties_rate"]},
        chart=bar_chart([(r["province"], r["counties_rate"]) for r in rows], title=str(_("Counties covered %"))),
    )


@figure("hq", "uncovered")
def uncovered(ctx: Ctx) -> Table:
    rows = selectors.uncovered_regions(limit=None if ctx.full else 200)
    return Table(
        key="uncovered",
        title=str(_("Uncovered cities and counties")),
        columns=[("adcode", _("Code")), ("name", _("Name")), ("level", _("Level")), ("parent__name", _("Parent"))],
        rows=rows,
        note=str(_("The page lists the first 200; the CSV has all.")),
    )


@figure("hq", "turnaround")
def turnaround(ctx: Ctx) -> Table:
    overall = selectors.turnaround_overall(center_ids=ctx.center_ids, period=ctx.period)
    rows = selectors.turnaround_by_center_channel(center_ids=ctx.center_ids, period=ctx.period)
    labels = {c: str(label) for c, label in _CHANNELS.items()}  # translate 5 labels, not 12,000 rows' worth
    for row in rows:
        row["channel_label"] = labels.get(row["channel"], row["channel"])
    # Slowest first: what a region manager acts on. (2,400 centers x 5 channels: the page shows 100.)
    rows.sort(key=lambda r: (-(r["p90_hours"] or 0), r["center_code"], r["channel"]))
    return Table(
        key="turnaround",
        title=str(_("Turnaround time (received to delivered), hours, slowest p90 first")),
        columns=[
            ("center_code", _("Center")),
            ("channel_label", _("Channel")),
            ("n", _("Delivered")),
            ("p50_hours", _("p50 (h)")),
            ("p90_hours", _("p90 (h)")),
        ],
        rows=rows,
        summary={
            _("Delivered"): overall["n"],
            _("p50 (h)"): overall["p50_hours"],
            _("p90 (h)"): overall["p90_hours"],
            _("Paused on the customer, total (business minutes)"): overall["paused_customer_minutes"],
            _("Paused on parts, total (business minutes)"): overall["paused_parts_minutes"],
        },
        page_limit=100,
    )


@figure("hq", "waits")
def waits(ctx: Ctx) -> Table:
    rows = selectors.waits_by_center(center_ids=ctx.center_ids, period=ctx.period)
    n = sum(r["n"] for r in rows)
    customer = sum(r["customer_avg"] * r["n"] for r in rows)
    parts = sum(r["parts_avg"] * r["n"] for r in rows)
    return Table(
        key="waits",
        title=str(_("Paused time of delivered repairs (business minutes), longest first")),
        columns=[
            ("center_code", _("Center")),
            ("n", _("Delivered")),
            ("customer_avg", _("Waited on the customer, avg (min)")),
            ("parts_avg", _("Waited on parts, avg (min)")),
        ],
        rows=rows,
        summary={
            _("Waited on the customer, avg (min)"): round(customer / n) if n else 0,
            _("Waited on parts, avg (min)"): round(parts / n) if n else 0,
        },
        page_limit=100,
    )


@figure("hq", "turnaround_trend")
def turnaround_trend(ctx: Ctx) -> Table:
    from .charts import line_chart

    rows = selectors.turnaround_trend(center_ids=ctx.center_ids, period=ctx.period)
    for row in rows:
        row["day"] = row["day"].isoformat()
    return Table(
        key="turnaround_trend",
        title=str(_("Daily deliveries and median turnaround")),
        columns=[("day", _("Day")), ("delivered", _("Delivered")), ("p50_hours", _("p50 (h)"))],
        rows=rows,
        chart=line_chart([(r["day"], r["p50_hours"]) for r in rows], title=str(_("Median turnaround (h)")), unit="h"),
    )


@figure("hq", "first_time_fix")
def first_time_fix(ctx: Ctx) -> Table:
    data = selectors.first_time_fix(center_ids=ctx.center_ids, period=ctx.period)
    return Table(
        key="first_time_fix",
        title=str(_("First-time-fix rate (no repeat of the same fault on the device within 90 days), lowest first")),
        columns=[
            ("center_code", _("Center")),
            ("delivered", _("Delivered")),
            ("repeated", _("Repeated")),
            ("first_time_fixed", _("Fixed first time")),
            ("rate", _("Rate %")),
        ],
        rows=sorted(data["by_center"], key=lambda r: (r["rate"] if r["rate"] is not None else 101, r["center_code"])),
        summary={_("First-time-fix %"): data["rate"], _("Delivered"): data["delivered"]},
        page_limit=100,
    )


@figure("hq", "qc_first_pass")
def qc_first_pass(ctx: Ctx) -> Table:
    data = selectors.qc_first_pass(center_ids=ctx.center_ids, period=ctx.period)
    return Table(
        key="qc_first_pass",
        title=str(_("QC first-pass rate")),
        columns=[("passes", _("QC passes")), ("first_pass", _("Passed first time")), ("rate", _("Rate %"))],
        rows=[data],
        summary={_("QC first-pass %"): data["rate"]},
    )


@figure("hq", "sla")
def sla(ctx: Ctx) -> Table:
    rows = selectors.sla_compliance_by_stage(center_ids=ctx.center_ids, period=ctx.period)
    visits = sum(r["visits"] for r in rows)
    within = sum(r["within"] for r in rows)
    return Table(
        key="sla",
        title=str(_("SLA compliance by stage (stage time in business hours)")),
        columns=[
            ("label", _("Stage")),
            ("target_minutes", _("Target (business minutes)")),
            ("visits", _("Stage visits ended")),
            ("within", _("Within target")),
            ("rate", _("Rate %")),
        ],
        rows=rows,
        summary={_("SLA met %"): selectors.rate(within, visits)},
    )


@figure("hq", "certified")
def certified(ctx: Ctx) -> Table:
    data = selectors.certified_engineers(center_ids=ctx.center_ids, today=ctx.today)
    return Table(
        key="certified",
        title=str(_("Certified engineers")),
        columns=[("engineers", _("Engineers")), ("certified", _("Certified")), ("rate", _("Share %"))],
        rows=[data],
        summary={_("Certified %"): data["rate"]},
    )


@figure("hq", "loaner_utilization")
def loaner_utilization(ctx: Ctx) -> Table:
    rows = selectors.loaner_utilization(center_ids=ctx.center_ids, period=ctx.period, now=ctx.now)
    return Table(
        key="loaner_utilization",
        title=str(_("Loaner utilization (loan-days / pool-days)")),
        columns=[
            ("label", _("Tier")),
            ("loaners", _("Loaners")),
            ("loan_days", _("Loan-days")),
            ("pool_days", _("Pool-days")),
            ("rate", _("Utilization %")),
        ],
        rows=rows,
    )


@figure("hq", "plan_attach")
def plan_attach(ctx: Ctx) -> Table:
    from warranty.choices import PlanKind

    if ctx.center_ids is not None:
        return unavailable("plan_attach", _("Plan attach rate"), _("Devices sold are counted network-wide: HQ only."))
    data = selectors.plan_attach_rate(period=ctx.period)
    kinds = dict(PlanKind.choices)
    rows = [
        {"kind": str(kinds.get(r["kind"], r["kind"])), "plans": r["plans"], "rate": r["rate"]} for r in data["by_kind"]
    ]
    rows.append({"kind": str(_("All plans")), "plans": data["plans_sold"], "rate": data["rate"]})
    return Table(
        key="plan_attach",
        title=str(_("Plan attach rate (plans sold per 100 devices sold)")),
        columns=[("kind", _("Plan")), ("plans", _("Plans sold")), ("rate", _("Per 100 devices"))],
        rows=rows,
        summary={_("Devices sold"): data["devices_sold"], _("Plan attach %"): data["rate"]},
    )


@figure("hq", "csat")
def csat(ctx: Ctx) -> Table:
    if not selectors.booking_installed():
        return unavailable("csat", _("Customer satisfaction"), _("The booking app is not installed."))
    data = selectors.csat(center_ids=ctx.center_ids, period=ctx.period)
    return Table(
        key="csat",
        title=str(_("Customer satisfaction (surveys)")),
        columns=[
            ("responses", _("Responses")),
            ("satisfied", _("Rated 4-5")),
            ("csat", _("CSAT %")),
            ("nps_answers", _("Answered 0-10")),
            ("promoters", _("Promoters (9-10)")),
            ("detractors", _("Detractors (0-6)")),
            ("nps", _("NPS")),
            ("avg_overall", _("Overall")),
            ("avg_staff", _("Staff")),
            ("avg_speed", _("Speed")),
            ("avg_quality", _("Quality")),
        ],
        rows=[data],
        summary={_("CSAT %"): data["csat"], _("NPS"): data["nps"]},
        note=str(_("NPS = % promoters − % detractors among the surveys that answered the 0-10 question.")),
    )


@figure("hq", "service_star")
def service_star(ctx: Ctx) -> Table:
    if not selectors.booking_installed():
        return unavailable("service_star", _("24℃ service star"), _("The booking app is not installed."))
    # The ranking is monthly: the month the period ends in.
    month = Period.month(ctx.period.end.year, ctx.period.end.month)
    rows = selectors.service_stars(center_ids=ctx.center_ids, period=month)
    return Table(
        key="service_star",
        title=str(_("24℃ service star of %(month)s") % {"month": month.start.strftime("%Y-%m")}),
        columns=[
            ("rank", _("Rank")),
            ("staff", _("Staff")),
            ("responses", _("Surveys")),
            ("score", _("Mean score (1-5)")),
            ("csat", _("CSAT %")),
        ],
        rows=rows,
        note=str(_("Staff with at least %(n)d surveys in the month.") % {"n": selectors.SERVICE_STAR_MIN_RESPONSES}),
    )


# --- parts (issue #20): stock-outs and parts waits -------------------------------------------------


@figure("front", "parts")
def parts_waits(ctx: Ctx) -> Table:
    from parts.selectors import parts_dashboard

    data = parts_dashboard(center_ids=ctx.center_ids, now=ctx.now)
    return Table(
        key="parts",
        title=str(_("Parts")),
        columns=[
            ("stock_outs", _("Stock-outs")),
            ("waiting", _("Tickets waiting for parts")),
            ("avg_wait_hours", _("Average parts wait (last 30 days)")),
        ],
        rows=[data],
        summary={_("Stock-outs"): data["stock_outs"], _("Tickets waiting for parts"): data["waiting"]},
    )


@figure("hq", "parts_regions")
def parts_regions(ctx: Ctx) -> Table:
    from parts.selectors import stock_by_region
    from servicehub.actors import Actor

    rows = stock_by_region(actor=Actor(center_ids=ctx.center_ids, is_system=ctx.center_ids is None), now=ctx.now)
    return Table(
        key="parts_regions",
        title=str(_("Parts stock and waits by region")),
        columns=[
            ("region", _("Province")),
            ("on_hand", _("On hand")),
            ("reserved", _("Reserved")),
            ("used", _("Used (30 days)")),
            ("stock_outs", _("Stock-outs")),
            ("waiting", _("Waiting tickets")),
            ("avg_wait_hours", _("Average wait")),
        ],
        rows=rows,
        summary={
            _("Stock-outs"): sum(r["stock_outs"] for r in rows),
            _("Tickets waiting for parts"): sum(r["waiting"] for r in rows),
        },
    )


# --- quick visits at the desk (outreach, issue #22) ------------------------------------------------


def _visit_service_name(row: dict) -> str:
    from django.utils.translation import get_language

    return row["name_zh"] if (get_language() or "").lower().startswith("zh") else row["name_en"]


@figure("hq", "service_day_reach")
def service_day_reach(ctx: Ctx) -> Table:
    from outreach.visit_selectors import service_day_reach as reach

    from .charts import bar_chart

    data = reach(center_ids=ctx.center_ids, start=ctx.period.start, end=ctx.period.end)
    rows = data["rows"]
    return Table(
        key="service_day_reach",
        title=str(_("Service-Day reach (quick visits)")),
        columns=[
            ("region", _("Province")),
            ("service_day", _("People on Service Days")),
            ("ordinary", _("People on ordinary days")),
            ("service_day_share", _("Service-Day share (%)")),
        ],
        rows=rows,
        summary={
            _("People on Service Days"): data["service_day"],
            _("People on ordinary days"): data["ordinary"],
            _("Per center and Service Day"): data["service_day_daily"],
            _("Per center and ordinary day"): data["ordinary_daily"],
        },
        note=str(_("Non-repair visits at the desk (any brand), people counted; undone taps are left out.")),
        chart=bar_chart(
            [(r["region"], r["service_day"]) for r in rows[:20]],
            title=str(_("People on Service Days by province")),
            unit="",
            max_value=None,
        )
        if rows
        else None,
        page_limit=50,
    )


@figure("hq", "visits_by_service")
def visits_by_service(ctx: Ctx) -> Table:
    from outreach.visit_selectors import visits_by_service as by_service

    from .charts import line_chart

    data = by_service(center_ids=ctx.center_ids, start=ctx.period.start, end=ctx.period.end)
    rows = [{"service": _visit_service_name(s), "visits": s["visits"], "perks": s["perks"]} for s in data["services"]]
    return Table(
        key="visits_by_service",
        title=str(_("Quick visits by service")),
        columns=[("service", _("Service")), ("visits", _("People")), ("perks", _("Of which free perks"))],
        rows=rows,
        summary={_("People"): sum(r["visits"] for r in rows)},
        chart=line_chart(
            [(d.strftime("%m-%d"), n) for d, n in data["days"]], title=str(_("Quick visits per day")), unit=""
        ),
    )


@figure("front", "visits_today")
def visits_today(ctx: Ctx) -> Table:
    from outreach.visit_selectors import visits_today as today

    rows = [
        {"service": _visit_service_name(r), "visits": r["n"]} for r in today(center_ids=ctx.center_ids, day=ctx.today)
    ]
    return Table(
        key="visits_today",
        title=str(_("Quick visits today")),
        columns=[("service", _("Service")), ("visits", _("People"))],
        rows=rows,
        summary={_("People"): sum(r["visits"] for r in rows)},
    )


# --- community events and classes (issue #22): events held, sign-ups, attendance --------------------------


@figure("hq", "outreach_events")
def outreach_events(ctx: Ctx) -> Table:
    from outreach.choices import EventKind
    from outreach.selectors import events_by_kind_and_month

    from .charts import bar_chart

    rows = events_by_kind_and_month(center_ids=ctx.center_ids, since=ctx.period.since, until=ctx.period.until)
    kinds = dict(EventKind.choices)
    for r in rows:
        r["kind_label"] = str(kinds.get(r["kind"], r["kind"]))
    attended = sum(r["attended"] for r in rows)
    held_sign_ups = sum(r["held_sign_ups"] for r in rows)
    rate = round(100 * attended / held_sign_ups, 1) if held_sign_ups else None
    return Table(
        key="outreach_events",
        title=str(_("Community events and classes: attendance")),
        columns=[
            ("month", _("Month")),
            ("kind_label", _("Kind")),
            ("events", _("Events")),
            ("held", _("Held")),
            ("sign_ups", _("Sign-ups")),
            ("attended", _("Attended")),
            ("rate", _("Attendance %")),
        ],
        rows=rows,
        summary={
            _("Events held"): sum(r["held"] for r in rows),
            _("Sign-ups"): sum(r["sign_ups"] for r in rows),
            _("Attendance %"): rate,
        },
        chart=bar_chart([(f"{r['month']} {r['kind_label']}", r["rate"]) for r in rows], title=str(_("Attendance %")))
        if rows
        else None,
        note=str(_("Attendance = attended / sign-ups of the events held (closed at the door).")),
    )


# --- accessibility, fake-store reports, hotline callbacks (issue #22 items 4, 6, 7) ---------------------------


@figure("hq", "accessibility_sessions")
def accessibility_sessions(ctx: Ctx) -> Table:
    """Sign-language video sessions by status, and the bookings with each accessibility need and how many of them
    were served (checked in), over the appointments of the period; two queries."""
    from booking.choices import Need
    from outreach.choices import SignSessionStatus
    from outreach.selectors import accessibility_summary

    from .charts import bar_chart

    data = accessibility_summary(center_ids=ctx.center_ids, since=ctx.period.since, until=ctx.period.until)
    needs = data["needs"]
    rows = []
    for value, label in SignSessionStatus.choices:
        rows.append(
            {"what": str(_("Sign-language sessions: %(status)s") % {"status": label}), "n": data["sessions"][value]}
        )
    for value, label in Need.choices:
        booked, served = needs[value], needs[f"{value}_served"]
        rows.append(
            {
                "what": str(label),
                "n": booked,
                "served": served,
                "rate": round(100 * served / booked, 1) if booked else None,
            }
        )
    need_rows = rows[len(SignSessionStatus.choices) :]
    return Table(
        key="accessibility_sessions",
        title=str(_("Accessibility: sign-language sessions and needs served")),
        columns=[("what", _("What")), ("n", _("Count")), ("served", _("Served")), ("rate", _("Served %"))],
        rows=rows,
        summary={
            _("Sign-language sessions held"): data["sessions"][SignSessionStatus.HELD],
            _("Bookings with a need"): sum(r["n"] for r in need_rows),
        },
        chart=bar_chart([(r["what"], r["rate"]) for r in need_rows], title=str(_("Served %")))
        if any(r["n"] for r in need_rows)
        else None,
        note=str(_("Appointments starting in the period; served = checked in (not cancelled, not a no-show).")),
    )


@figure("hq", "store_reports")
def store_reports(ctx: Ctx) -> Table:
    """Fake-store reports received in the period by triage status, with the median time to a decision (HQ only:
    reports belong to no center)."""
    from centers.choices import StoreReportStatus
    from centers.selectors import store_reports_handled

    from .charts import bar_chart

    title = _("Fake-store reports handled")
    if ctx.center_ids is not None:
        return unavailable("store_reports", title, _("Reports of unofficial stores are triaged by HQ only."))
    data = store_reports_handled(since=ctx.period.since, until=ctx.period.until)
    rows = [{"status": str(label), "n": data["by_status"][value]} for value, label in StoreReportStatus.choices]
    total = sum(r["n"] for r in rows)
    return Table(
        key="store_reports",
        title=str(title),
        columns=[("status", _("Status")), ("n", _("Reports"))],
        rows=rows,
        summary={
            _("Reports"): total,
            _("Decided"): data["decided"],
            _("Median hours to a decision"): data["median_hours"],
        },
        chart=bar_chart([(r["status"], r["n"]) for r in rows], title=str(_("Reports")), unit="", max_value=None)
        if total
        else None,
        note=str(
            _("Reports received in the period; a decision is confirmed unofficial, official after all or dismissed.")
        ),
    )


@figure("hq", "callbacks_by_outcome")
def callbacks_by_outcome(ctx: Ctx) -> Table:
    """Hotline callback requests of the period by outcome, the open ones, the calls without an answer (the hotline
    is network-wide: HQ only)."""
    from booking.choices import CallbackOutcome
    from booking.selectors import callbacks_by_outcome as summary

    from .charts import bar_chart

    title = _("Hotline callbacks by outcome")
    if ctx.center_ids is not None:
        return unavailable("callbacks_by_outcome", title, _("The 7x24 hotline is network-wide: HQ only."))
    data = summary(since=ctx.period.since, until=ctx.period.until)
    labels = dict(CallbackOutcome.choices)
    rows = [{"outcome": str(labels[k]), "n": n} for k, n in data["outcomes"].items()]
    rows.append({"outcome": str(_("Still open")), "n": data["open"]})
    total = sum(r["n"] for r in rows)
    return Table(
        key="callbacks_by_outcome",
        title=str(title),
        columns=[("outcome", _("Outcome")), ("n", _("Requests"))],
        rows=rows,
        summary={
            _("Requests"): total,
            _("Open after calls without an answer"): data["open_retried"],
            _("Calls without an answer"): data["no_answer_calls"],
        },
        chart=bar_chart([(r["outcome"], r["n"]) for r in rows], title=str(_("Requests")), unit="", max_value=None)
        if total
        else None,
    )


# --- amenities lent at the desk (issue #22): umbrellas, power banks... and the deposits held ------------------------


@figure("hq", "amenity_loans")
def amenity_loans(ctx: Ctx) -> Table:
    """This month's amenity loans by center and kind, and the deposit money held now for what is out (two queries)."""
    from loaners.choices import AmenityKind
    from loaners.selectors import amenity_figures

    from .charts import bar_chart

    month_start = ctx.today.replace(day=1)
    data = amenity_figures(center_ids=ctx.center_ids, since=month_start, until=ctx.today, now=ctx.now)
    kinds = dict(AmenityKind.choices)
    held = data["held"]
    rows = []
    for r in data["rows"]:
        rows.append({**r, "kind_label": str(kinds.get(r["kind"], r["kind"]))})
    # A center with deposits held but nothing lent this month still shows its money.
    lent_centers = {r["center"] for r in rows}
    for code in held:
        if code not in lent_centers:
            rows.append(
                {
                    "center": code,
                    "center_name": "",
                    "kind_label": "",
                    "lent": 0,
                    "returned": 0,
                    "returned_elsewhere": 0,
                    "lost": 0,
                    "out": 0,
                    "kept": 0,
                }
            )
    seen: set[str] = set()
    for r in rows:
        first = r["center"] not in seen
        seen.add(r["center"])
        h = held.get(r["center"], {})
        r["held"] = h.get("held", 0) if first else ""
        r["overdue"] = h.get("overdue", 0) if first else ""
    total_held = sum((h["held"] for h in held.values()), 0)
    by_kind: dict[str, int] = {}
    for r in rows:
        if r["kind_label"]:
            by_kind[r["kind_label"]] = by_kind.get(r["kind_label"], 0) + r["lent"]
    return Table(
        key="amenity_loans",
        title=str(_("Amenities lent this month (umbrellas, power banks…)")),
        columns=[
            ("center", _("Center")),
            ("kind_label", _("Kind")),
            ("lent", _("Lent")),
            ("returned", _("Returned")),
            ("returned_elsewhere", _("Of which at another center")),
            ("lost", _("Lost")),
            ("out", _("Still out")),
            ("kept", _("Deposits kept (lost)")),
            ("held", _("Deposits held now")),
            ("overdue", _("Overdue now")),
        ],
        rows=rows,
        summary={
            _("Lent"): sum(r["lent"] for r in rows),
            _("Deposits held now"): total_held,
            _("Out now"): sum(h["out"] for h in held.values()),
        },
        chart=bar_chart(sorted(by_kind.items()), title=str(_("Lent this month by kind")), unit="", max_value=None)
        if by_kind
        else None,
        note=str(
            _(
                "Loans lent since the 1st of this month (Asia/Shanghai), by the lending center; deposits held: the "
                "deposit money of everything still out, whenever it was lent."
            )
        ),
    )
