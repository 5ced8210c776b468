"""Every figure on a small known data set: exact numbers, and a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from centers.choices import RegionLevel
from centers.models import Certification
from ops import selectors
from ops.periods import Period
from tests.factories.centers import RegionFactory, ServiceCenterFactory
from tests.factories.ops import at, event, ticket
from tests.factories.repairs import staff
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def H(hours):
    return dt.timedelta(hours=hours)


@pytest.fixture
def two_centers():
    return ServiceCenterFactory(code="SHA01"), ServiceCenterFactory(code="SHB02")


def delivered(center, received, hours, channel="walk_in", **kw):
    return ticket(
        center, status="delivered", channel=channel, received_at=received, delivered_at=received + H(hours), **kw
    )


# --- turnaround --------------------------------------------------------------------------


@pytest.fixture
def turnaround_data(two_centers):
    a, b = two_centers
    base = at(2026, 3, 10, 9, 0)
    for hours in (2, 4, 10):
        delivered(a, base, hours)
    delivered(a, base, 48, channel="mail_in")
    delivered(b, base, 1)
    delivered(b, base, 3, paused_customer_minutes=30, paused_parts_minutes=45)
    # Outside the period (delivered 1 April 00:10 Shanghai = 31 March 16:10 UTC): not counted.
    delivered(a, at(2026, 3, 31, 20, 10), 4)
    # Delivered in the last minutes of 31 March local time: counted (1h).
    # (Replaces nothing above: the walk-in list at A becomes 1, 2, 4, 10.)
    delivered(a, at(2026, 3, 31, 22, 30), 1)
    # Still open: no delivered_at, not counted.
    ticket(a, status="repairing", received_at=base)
    return a, b


def test_turnaround_percentiles_by_center_and_channel(turnaround_data, django_assert_num_queries):
    # given A walk-in 1, 2, 4, 10 h; A mail-in 48 h; B walk-in 1, 3 h delivered in March
    # when
    with django_assert_num_queries(1):
        rows = selectors.turnaround_by_center_channel(center_ids=None, period=MARCH)
    # then percentile_cont interpolates: p50(1,2,4,10) = 3, p90 = 4 + 0.7*6 = 8.2
    assert [(r["center_code"], r["channel"], r["n"], r["p50_hours"], r["p90_hours"]) for r in rows] == [
        ("SHA01", "mail_in", 1, Decimal("48.00"), Decimal("48.00")),
        ("SHA01", "walk_in", 4, Decimal("3.00"), Decimal("8.20")),
        ("SHB02", "walk_in", 2, Decimal("2.00"), Decimal("2.80")),
    ]


def test_turnaround_overall_and_scope(turnaround_data, django_assert_num_queries):
    a, _b = turnaround_data
    with django_assert_num_queries(1):
        overall = selectors.turnaround_overall(center_ids=None, period=MARCH)
    # 1, 1, 2, 3, 4, 10, 48: p50 = 3; p90 rank 5.4 -> 10 + 0.4*38 = 25.2
    # the pause totals (business minutes) shown beside it: B's 3 h repair waited 30 on the customer, 45 on parts
    assert overall == {
        "n": 7,
        "p50_hours": Decimal("3.00"),
        "p90_hours": Decimal("25.20"),
        "paused_customer_minutes": 30,
        "paused_parts_minutes": 45,
    }
    only_a = selectors.turnaround_overall(center_ids=frozenset({a.pk}), period=MARCH)
    assert only_a == {
        "n": 5,
        "p50_hours": Decimal("4.00"),
        "p90_hours": Decimal("32.80"),
        "paused_customer_minutes": 0,
        "paused_parts_minutes": 0,
    }


def test_turnaround_trend_is_daily_by_local_date(turnaround_data, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = selectors.turnaround_trend(center_ids=None, period=MARCH)
    assert len(rows) == 31
    by_day = {r["day"]: r for r in rows}
    # 10 March: 1, 2, 3, 4, 10 h deliveries (the 48 h one lands on 12 March)
    assert by_day[dt.date(2026, 3, 10)] == {"day": dt.date(2026, 3, 10), "delivered": 5, "p50_hours": Decimal("3.00")}
    assert by_day[dt.date(2026, 3, 12)]["delivered"] == 1
    assert by_day[dt.date(2026, 3, 31)] == {"day": dt.date(2026, 3, 31), "delivered": 1, "p50_hours": Decimal("1.00")}
    assert by_day[dt.date(2026, 3, 1)] == {"day": dt.date(2026, 3, 1), "delivered": 0, "p50_hours": None}


def test_turnaround_of_nothing_is_none():
    assert selectors.turnaround_overall(center_ids=frozenset(), period=MARCH) == {
        "n": 0,
        "p50_hours": None,
        "p90_hours": None,
        "paused_customer_minutes": 0,
        "paused_parts_minutes": 0,
    }


# --- first-time fix ---------------------------------------------------------------------


def test_first_time_fix_counts_repeats_of_the_same_fault_within_90_days(two_centers, django_assert_num_queries):
    a, b = two_centers
    d1, d2, d3, d4, d5 = (DeviceFactory() for _ in range(5))
    r = at(2026, 3, 5, 10, 0)
    # d1: screen again 36 days after delivery -> repeat
    delivered(a, r, 2, device=d1, fault="screen")
    ticket(a, device=d1, fault="screen", created_at=at(2026, 4, 10, 10, 0))
    # d2: another fault (battery) -> not a repeat
    delivered(a, r, 2, device=d2, fault="screen")
    ticket(a, device=d2, fault="battery", created_at=at(2026, 3, 20, 10, 0))
    # d3: same fault but 118 days later -> not a repeat
    delivered(a, r, 2, device=d3, fault="screen")
    ticket(a, device=d3, fault="screen", created_at=at(2026, 7, 1, 10, 0))
    # d4: same fault, within 90 days, but cancelled -> not a repeat
    delivered(a, r, 2, device=d4, fault="screen")
    ticket(a, device=d4, fault="screen", status="cancelled", created_at=at(2026, 3, 20, 10, 0))
    # d5 at B: repeat at another center still counts against B's repair
    delivered(b, r, 2, device=d5, fault="battery")
    ticket(a, device=d5, fault="battery", created_at=at(2026, 5, 1, 10, 0))

    with django_assert_num_queries(2):  # deliveries per center, repeats per center
        data = selectors.first_time_fix(center_ids=None, period=MARCH)

    assert data["delivered"] == 5
    assert data["first_time_fixed"] == 3
    assert data["rate"] == Decimal("60.0")
    assert data["by_center"] == [
        {"center_code": "SHA01", "delivered": 4, "repeated": 1, "first_time_fixed": 3, "rate": Decimal("75.0")},
        {"center_code": "SHB02", "delivered": 1, "repeated": 1, "first_time_fixed": 0, "rate": Decimal("0.0")},
    ]


# --- QC first pass --------------------------------------------------------------------------


def test_qc_first_pass_ignores_fails_after_the_pass_and_other_periods(two_centers, django_assert_num_queries):
    a, b = two_centers
    t1, t2, t3, t4, t5 = (ticket(a, status="ready") for _ in range(5))
    event(t1, "quality_check", "ready", at(2026, 3, 10, 12))  # first pass
    event(t2, "quality_check", "repairing", at(2026, 3, 9, 12))  # failed first...
    event(t2, "quality_check", "ready", at(2026, 3, 10, 12))  # ... then passed: not a first pass
    event(t3, "quality_check", "ready", at(2026, 3, 10, 12))  # first pass (the fail comes later)
    event(t3, "quality_check", "repairing", at(2026, 3, 11, 12))
    event(t4, "quality_check", "ready", at(2026, 2, 27, 12))  # February: outside
    event(t5, "repairing", "quality_check", at(2026, 3, 10, 11))  # not a QC decision
    other = ticket(b, status="ready")
    event(other, "quality_check", "ready", at(2026, 3, 10, 12))

    with django_assert_num_queries(1):
        network = selectors.qc_first_pass(center_ids=None, period=MARCH)
    assert network == {"passes": 4, "first_pass": 3, "rate": Decimal("75.0")}
    assert selectors.qc_first_pass(center_ids=frozenset({a.pk}), period=MARCH) == {
        "passes": 3,
        "first_pass": 2,
        "rate": Decimal("66.7"),
    }


# --- SLA compliance ---------------------------------------------------------------------------


def test_sla_compliance_by_stage_counts_visits_ending_in_the_period(two_centers, django_assert_max_num_queries):
    a, _b = two_centers
    t1, t2 = ticket(a, status="awaiting_approval"), ticket(a, status="diagnosing")
    # t1: booked the day before, received 09:00, diagnosis 09:30 (30 min <= 60), quote 11:00 (90 min > 60)
    event(t1, "", "booked", at(2026, 3, 9, 15))
    event(t1, "booked", "received", at(2026, 3, 10, 9, 0), entered=at(2026, 3, 9, 15))
    event(t1, "received", "diagnosing", at(2026, 3, 10, 9, 30), entered=at(2026, 3, 10, 9, 0))
    event(t1, "diagnosing", "awaiting_approval", at(2026, 3, 10, 11, 0), entered=at(2026, 3, 10, 9, 30))
    # t2: diagnosis after exactly 60 min: within (the target is inclusive)
    event(t2, "", "received", at(2026, 3, 10, 9, 0))
    event(t2, "received", "diagnosing", at(2026, 3, 10, 10, 0), entered=at(2026, 3, 10, 9, 0))
    # t3: 1 March 07:00-07:30 local = 28 February 23:00-23:30 UTC: still March
    t3 = ticket(a, status="diagnosing")
    event(t3, "", "received", at(2026, 3, 1, 7, 0))
    event(t3, "received", "diagnosing", at(2026, 3, 1, 7, 30), entered=at(2026, 3, 1, 7, 0))
    # t4: ends 1 April 00:30 local: April, not counted
    t4 = ticket(a, status="diagnosing")
    event(t4, "", "received", at(2026, 3, 31, 23, 0))
    event(t4, "received", "diagnosing", at(2026, 4, 1, 0, 30), entered=at(2026, 3, 31, 23, 0))
    # t5: one second over the target: not within; t6: a visit of unknown length counts, but not as within
    t5, t6 = ticket(a, status="diagnosing"), ticket(a, status="diagnosing")
    event(t5, "received", "diagnosing", at(2026, 3, 12, 10, 0, 1), entered=at(2026, 3, 12, 9, 0))
    event(t6, "received", "diagnosing", at(2026, 3, 12, 10, 0))

    with django_assert_max_num_queries(2):  # targets + the grouped query
        rows = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=None, period=MARCH)}

    assert "booked" not in rows  # booked has no SLA target: its visits are not counted anywhere
    assert (rows["received"]["visits"], rows["received"]["within"], rows["received"]["rate"]) == (5, 3, Decimal("60.0"))
    assert (rows["diagnosing"]["visits"], rows["diagnosing"]["within"], rows["diagnosing"]["rate"]) == (
        1,
        0,
        Decimal("0.0"),
    )
    assert rows["repairing"]["visits"] == 0 and rows["repairing"]["rate"] is None
    assert rows["received"]["target_minutes"] == 60
    only_b = selectors.sla_compliance_by_stage(center_ids=frozenset({_b.pk}), period=MARCH)
    assert sum(r["visits"] for r in only_b) == 0
    only_a = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=frozenset({a.pk}), period=MARCH)}
    assert (only_a["received"]["visits"], only_a["received"]["within"]) == (5, 3)


def test_sla_targets_follow_stage_sla_rows(two_centers):
    from repairs.models import StageSLA

    a, _b = two_centers
    StageSLA.objects.create(status="received", target_minutes=20)
    StageSLA.objects.create(status="diagnosing", target_minutes=60, active=False)
    t = ticket(a, status="repairing")
    event(t, "", "received", at(2026, 3, 10, 9, 0))
    event(t, "received", "diagnosing", at(2026, 3, 10, 9, 30), entered=at(2026, 3, 10, 9, 0))
    event(t, "diagnosing", "repairing", at(2026, 3, 10, 9, 40), entered=at(2026, 3, 10, 9, 30))
    rows = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=None, period=MARCH)}
    assert (rows["received"]["target_minutes"], rows["received"]["visits"], rows["received"]["within"]) == (20, 1, 0)
    assert "diagnosing" not in rows  # an inactive target: the stage is not tracked


def test_sla_compliance_reads_what_the_state_machine_writes(two_centers, monkeypatch):
    """End to end: real transitions at known times, then the figure (no hand-made timeline)."""
    from django.utils import timezone as tz

    from repairs.services import ticket_transition
    from servicehub.actors import actor_for_user
    from tests.factories.repairs import walk_in

    a, _b = two_centers
    desk = actor_for_user(staff(a, "front_desk"))
    engineer = actor_for_user(staff(a, "engineer", certified=True))
    start = tz.now().replace(microsecond=0) - dt.timedelta(days=1)
    clock = {"now": start}
    monkeypatch.setattr(tz, "now", lambda: clock["now"])
    t = walk_in(a, desk)  # received at start
    clock["now"] = start + dt.timedelta(minutes=75)  # received for 75 min > 60: late
    ticket_transition(ticket_id=t.pk, action="start_diagnosis", actor=engineer)
    clock["now"] = start + dt.timedelta(minutes=105)  # diagnosing for 30 min: within
    ticket_transition(ticket_id=t.pk, action="cancel", actor=desk)

    assert list(t.events.order_by("at", "pk").values_list("from_status", "time_in_stage")) == [
        ("", None),
        ("booked", dt.timedelta(0)),  # the counter books and receives in one go
        ("received", dt.timedelta(minutes=75)),
        ("diagnosing", dt.timedelta(minutes=30)),
    ]
    day = tz.localtime(start).date()
    around = Period(day - dt.timedelta(days=1), day + dt.timedelta(days=1))
    rows = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=None, period=around)}
    assert (rows["received"]["visits"], rows["received"]["within"]) == (1, 0)
    assert (rows["diagnosing"]["visits"], rows["diagnosing"]["within"]) == (1, 1)


def test_sla_compliance_counts_business_minutes_and_falls_back_to_wall_clock_for_old_rows(
    two_centers, django_assert_max_num_queries
):
    a, _b = two_centers
    # A received-stage visit over a closed night: 17:30 to 09:30 next day is 16 h on the wall clock,
    # 60 business minutes (30 before closing + 30 after opening): within the 60-minute target.
    night = ticket(a, status="diagnosing")
    event(night, "received", "diagnosing", at(2026, 3, 11, 9, 30), entered=at(2026, 3, 10, 17, 30), business=60)
    # 61 open minutes, although only 50 on the wall clock would pass: business minutes decide.
    over = ticket(a, status="diagnosing")
    event(over, "received", "diagnosing", at(2026, 3, 12, 10, 0), entered=at(2026, 3, 12, 9, 10), business=61)
    # Old rows (no business minutes): the wall clock decides, 45 min within, 90 min not.
    old_ok, old_late = ticket(a, status="diagnosing"), ticket(a, status="diagnosing")
    event(old_ok, "received", "diagnosing", at(2026, 3, 13, 9, 45), entered=at(2026, 3, 13, 9, 0))
    event(old_late, "received", "diagnosing", at(2026, 3, 13, 10, 30), entered=at(2026, 3, 13, 9, 0))

    with django_assert_max_num_queries(2):  # targets + the grouped query: unchanged
        rows = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=None, period=MARCH)}

    # the night visit and old_ok are within; over and old_late are not (wall clock would count 1 of the 2 new)
    assert (rows["received"]["visits"], rows["received"]["within"]) == (4, 2)
    only_night = {
        r["stage"]: r
        for r in selectors.sla_compliance_by_stage(
            center_ids=None, period=Period(dt.date(2026, 3, 11), dt.date(2026, 3, 11))
        )
    }
    assert (only_night["received"]["visits"], only_night["received"]["within"]) == (1, 1)


def test_transitions_write_business_minutes_over_a_closed_night(two_centers, monkeypatch):
    """The state machine writes the open minutes of the visit (with the calendar the move already loaded)."""
    from django.utils import timezone as tz

    from repairs.services import ticket_transition
    from servicehub.actors import actor_for_user
    from tests.factories.centers import weekly_hours
    from tests.factories.repairs import walk_in

    a, _b = two_centers
    weekly_hours(a)  # every day 9:00-18:00
    desk = actor_for_user(staff(a, "front_desk"))
    engineer = actor_for_user(staff(a, "engineer", certified=True))
    clock = {"now": at(2026, 3, 10, 17, 30)}
    monkeypatch.setattr(tz, "now", lambda: clock["now"])
    t = walk_in(a, desk)  # received half an hour before closing
    clock["now"] = at(2026, 3, 11, 9, 30)  # diagnosis starts the next morning: 16 h wall, 60 business minutes
    with CaptureQueriesContext(connection) as moved:
        ticket_transition(ticket_id=t.pk, action="start_diagnosis", actor=engineer)
    # The calendar is loaded at most once per move (none when cached): _event reuses _enter_stage's.
    assert sum("openinghours" in q["sql"].lower() for q in moved.captured_queries) <= 1

    last = t.events.order_by("-at", "-pk").first()
    assert (last.from_status, last.time_in_stage, last.business_minutes_in_stage) == ("received", H(16), 60)
    rows = {r["stage"]: r for r in selectors.sla_compliance_by_stage(center_ids=None, period=MARCH)}
    assert (rows["received"]["visits"], rows["received"]["within"]) == (1, 1)  # wall clock would say late


# --- engineers -----------------------------------------------------------------------------------


def test_certified_engineer_share(two_centers, django_assert_num_queries):
    a, b = two_centers
    today = timezone.localdate()
    staff(a, "engineer", certified=True)  # e1 valid
    e2 = staff(a, "engineer")
    Certification.objects.create(
        user=e2,
        name="L1",
        number="EXP-1",
        issued_on=today - dt.timedelta(days=400),
        expires_on=today - dt.timedelta(days=1),
    )  # expired yesterday
    staff(a, "engineer")  # e3 none
    staff(a, "front_desk", certified=True)  # not an engineer
    e4 = staff(a, "engineer", certified=True)
    e4.memberships.update(active=False)  # left the center
    staff(b, "engineer", certified=True)  # e5 at B

    with django_assert_num_queries(1):
        network = selectors.certified_engineers(center_ids=None, today=today)
    assert network == {"engineers": 4, "certified": 2, "rate": Decimal("50.0")}
    assert selectors.certified_engineers(center_ids=frozenset({a.pk}), today=today) == {
        "engineers": 3,
        "certified": 1,
        "rate": Decimal("33.3"),
    }


# --- coverage --------------------------------------------------------------------------------------


def test_coverage_by_province_counts_active_official_sites(django_assert_max_num_queries):
    p = RegionFactory(adcode="440000000000", name="广东省", level=RegionLevel.PROVINCE)
    c1 = RegionFactory(adcode="440100000000", name="广州市", level=RegionLevel.CITY, parent=p)
    c2 = RegionFactory(adcode="440200000000", name="韶关市", level=RegionLevel.CITY, parent=p)
    k1 = RegionFactory(adcode="440103000000", name="荔湾区", level=RegionLevel.COUNTY, parent=c1)
    k2 = RegionFactory(adcode="440104000000", name="越秀区", level=RegionLevel.COUNTY, parent=c1)
    k3 = RegionFactory(adcode="440203000000", name="武江区", level=RegionLevel.COUNTY, parent=c2)
    ServiceCenterFactory(region=k1, city=c1, province=p)
    ServiceCenterFactory(region=k2, city=c1, province=p, official=False)  # not official: does not cover
    ServiceCenterFactory(region=k3, city=c2, province=p, active=False)  # closed: does not cover

    with django_assert_max_num_queries(3):
        data = selectors.coverage_by_province()
    assert data["provinces"] == [
        {
            "province": "广东省",
            "cities": 2,
            "cities_covered": 1,
            "cities_rate": Decimal("50.0"),
            "counties": 3,
            "counties_covered": 1,
            "counties_rate": Decimal("33.3"),
        }
    ]
    assert data["total"]["counties_rate"] == Decimal("33.3")
    assert [r["name"] for r in selectors.uncovered_regions()] == ["越秀区", "韶关市", "武江区"]  # by adcode


# --- front desk -----------------------------------------------------------------------------------


def test_queue_and_overdue_are_scoped_and_exact(two_centers, django_assert_num_queries):
    a, b = two_centers
    now = timezone.now()
    ticket(a, status="received", stage_due_at=now - H(1), service_no="SHLATE000001")
    ticket(a, status="received", stage_due_at=now + H(1))
    ticket(a, status="repairing", stage_due_at=now - H(3), service_no="SHLATE000002")
    ticket(a, status="delivered", stage_due_at=now - H(5))  # not open: never overdue
    ticket(b, status="received", stage_due_at=now - H(2), service_no="SHOTHER00001")

    with django_assert_num_queries(1):
        queue = {r["status"]: r for r in selectors.queue_by_stage(center_ids=frozenset({a.pk}))}
    assert (queue["received"]["count"], queue["received"]["overdue"]) == (2, 1)
    assert (queue["repairing"]["count"], queue["repairing"]["overdue"]) == (1, 1)
    assert sum(r["count"] for r in queue.values()) == 3

    with django_assert_num_queries(2):
        rows, total = selectors.overdue_tickets(center_ids=frozenset({a.pk}), now=now)
    assert total == 2
    assert [r["service_no"] for r in rows] == ["SHLATE000002", "SHLATE000001"]  # most overdue first
    assert [r["overdue_minutes"] for r in rows] == [180, 60]


def test_tickets_received_today_by_channel(two_centers):
    a, b = two_centers
    today = dt.date(2026, 3, 10)
    ticket(a, channel="walk_in", received_at=at(2026, 3, 10, 0, 5))
    ticket(a, channel="walk_in", received_at=at(2026, 3, 10, 23, 55))
    ticket(a, channel="appointment", received_at=at(2026, 3, 10, 12, 0))
    ticket(a, channel="walk_in", received_at=at(2026, 3, 9, 23, 59))  # yesterday
    ticket(b, channel="walk_in", received_at=at(2026, 3, 10, 12, 0))  # other center
    data = selectors.tickets_today(center_ids=frozenset({a.pk}), today=today)
    assert data == {"by_channel": {"walk_in": 2, "appointment": 1}, "total": 3}


def test_coverage_agrees_with_the_centers_coverage_summary():
    """Same network, same numbers as ``centers.selectors.coverage_summary`` (all sites official here)."""
    from centers.selectors import coverage_summary

    p = RegionFactory(adcode="320000000000", name="江苏省", level=RegionLevel.PROVINCE)
    cities = [
        RegionFactory(adcode=f"32{i:02d}00000000", name=f"C{i}", level=RegionLevel.CITY, parent=p) for i in range(1, 4)
    ]
    counties = [
        RegionFactory(adcode=f"32{i:02d}{j:02d}000000", name=f"K{i}{j}", level=RegionLevel.COUNTY, parent=c)
        for i, c in enumerate(cities, start=1)
        for j in range(1, 3)
    ]
    ServiceCenterFactory(region=counties[0], city=cities[0], province=p)
    ServiceCenterFactory(region=counties[3], city=cities[1], province=p, kind="collection_point")
    ServiceCenterFactory(region=counties[5], city=cities[2], province=p, active=False)

    mine = selectors.coverage_by_province()["total"]
    theirs = coverage_summary()
    assert (mine["cities"], mine["cities_covered"]) == (theirs.cities.total, theirs.cities.covered) == (3, 2)
    assert (mine["counties"], mine["counties_covered"]) == (theirs.counties.total, theirs.counties.covered) == (6, 2)


def test_waits_of_delivered_repairs_per_center_in_one_query(two_centers, django_assert_num_queries):
    # issue #21: the paused time (waiting on the customer / on parts, business minutes) shown apart
    a, b = two_centers
    base = at(2026, 3, 10, 9, 0)
    delivered(a, base, 5, paused_customer_minutes=90, paused_parts_minutes=0)
    delivered(a, base, 5, paused_customer_minutes=30, paused_parts_minutes=600)
    delivered(b, base, 5)
    delivered(a, at(2026, 4, 2, 9), 5, paused_customer_minutes=999)  # another period
    with django_assert_num_queries(1):
        rows = selectors.waits_by_center(center_ids=None, period=MARCH)
    assert rows == [
        {"center_code": "SHA01", "n": 2, "customer_avg": 60, "parts_avg": 300, "total_minutes": 720},
        {"center_code": "SHB02", "n": 1, "customer_avg": 0, "parts_avg": 0, "total_minutes": 0},
    ]
    assert [r["center_code"] for r in selectors.waits_by_center(center_ids=frozenset({b.pk}), period=MARCH)] == [
        "SHB02"
    ]
