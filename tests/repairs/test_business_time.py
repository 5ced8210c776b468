"""Issue #21: stage targets in business minutes, pauses, the promised completion time, slips, express repairs,
escalations held while the center is closed (docs/repairs.md, "How time is counted").

The clock is frozen by patching ``django.utils.timezone.now`` (every service reads it from there).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from centers.selectors import center_calendars
from centers.services import opening_exception_set, opening_hours_set
from notifications.models import Notification
from repairs import jobs
from repairs.models import RepairTicket, SlaBreach
from servicehub.models import OutboxEvent
from tests.factories.centers import ServiceCenterFactory, weekly_hours
from tests.factories.repairs import run, staff, walk_in
from tests.factories.warranty import DeviceFactory

TZ = ZoneInfo("Asia/Shanghai")
PAID = {"lines": [{"repair": "screen"}]}  # the old device is out of warranty: a quote to approve


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


class Clock:
    def __init__(self, monkeypatch, start: dt.datetime):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, *args) -> None:
        self.now = at(*args)


@pytest.fixture
def hours(center):
    """The repairs center works Monday to Friday, 9:00-18:00."""
    return weekly_hours(center, days=range(5))


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, at(2025, 3, 3, 10))  # a Monday


def test_a_stage_target_counts_only_business_minutes(hours, clock, people, ops, old_device):
    clock.set(2025, 3, 3, 17, 30)  # Monday, half an hour before closing
    t = walk_in(hours, people["desk"], device=old_device)
    # received: 60 minutes = 30 today + 30 on Tuesday morning
    assert t.stage_due_at == at(2025, 3, 4, 9, 30)
    clock.set(2025, 3, 7, 17, 45)  # Friday: the diagnosis target (60 min) runs into Monday
    t = run(t, ("start_diagnosis", people["eng"]))
    assert t.stage_due_at == at(2025, 3, 10, 9, 45)


def test_national_holidays_pause_a_repair_center(hours, clock, people, ops, old_device):
    clock.set(2026, 9, 30, 17, 30)  # the eve of National Day (1-7 Oct 2026 off)
    t = walk_in(hours, people["desk"], device=old_device)
    assert t.stage_due_at == at(2026, 10, 8, 9, 30)


def test_waits_are_paused_and_counted_separately(hours, clock, people, ops, old_device):
    t = walk_in(hours, people["desk"], device=old_device)
    clock.set(2025, 3, 3, 10, 30)
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], PAID))
    assert t.status == "awaiting_approval"
    promised = t.promised_at
    clock.set(2025, 3, 4, 9, 45)  # approved the next morning: 90 + 45 business minutes waited
    t = run(t, ("approve", people["desk"]))
    assert (t.paused_customer_minutes, t.paused_parts_minutes) == (7 * 60 + 30 + 45, 0)
    # the repair clock was paused: the promise moved by the business minutes waited (at least)
    assert t.promised_at > promised
    clock.set(2025, 3, 4, 10)
    t = run(t, ("start_repair", people["eng"]), ("await_parts", people["eng"]))
    clock.set(2025, 3, 5, 9, 30)  # parts the next morning: 8 h Tuesday + 30 min
    t = run(t, ("parts_arrived", people["desk"]))
    assert t.paused_parts_minutes == 8 * 60 + 30
    assert t.paused_customer_minutes == 7 * 60 + 30 + 45


def test_the_promise_is_set_at_check_in_from_bench_time_and_queue(hours, clock, people, ops, old_device, model):
    # 9:00 Monday, nobody ahead: screen bench time 60 (the kind's default) + handling 30 -> 10:30
    clock.set(2025, 3, 3, 9)
    first = walk_in(hours, people["desk"], device=old_device)
    assert first.promised_at == at(2025, 3, 3, 10, 30) and first.express is False
    # three engineers on duty, three tickets ahead: one round of the queue (30 min) more
    for i in range(2):
        walk_in(hours, people["desk"], device=DeviceFactory(model=model), phone=f"1390000000{i}")
    clock.set(2025, 3, 3, 9, 5)
    fourth = walk_in(hours, people["desk"], device=DeviceFactory(model=model), phone="13900000009")
    assert fourth.promised_at == at(2025, 3, 3, 11, 15)  # 9:05 + 30 + 60 + 30 = 11:05, rounded up to 11:15
    # the catalog's typical duration of the operation wins over the kind's default
    ops["screen"].typical_minutes = 150
    ops["screen"].save()
    fifth = walk_in(hours, people["desk"], device=DeviceFactory(model=model), phone="13900000008")
    assert fifth.promised_at == at(2025, 3, 3, 12, 45)  # 9:05 + 30 (3 ahead / 3) + 150 + 30 = 12:35 -> 12:45


def test_a_slip_emits_one_event_and_one_sms(
    hours, clock, people, ops, old_device, sms_outbox, django_capture_on_commit_callbacks
):
    clock.set(2025, 3, 3, 9)
    t = walk_in(hours, people["desk"], device=old_device)
    assert t.promised_at == at(2025, 3, 3, 10, 30)
    clock.set(2025, 3, 3, 10)  # diagnosis starts late: 10:00 + 60 + 30 is past the promise
    sms_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        t = run(t, ("start_diagnosis", people["eng"]))
    assert t.promised_at == at(2025, 3, 3, 11, 30)
    (event,) = OutboxEvent.objects.filter(type="ticket.promise_slipped")
    assert event.payload["previous_promised_at"] == "2025-03-03T10:30:00+08:00"
    assert event.payload["promised_at"] == "2025-03-03T11:30:00+08:00"
    assert event.payload["action"] == "start_diagnosis" and event.center_id == t.center_id
    slips = Notification.objects.filter(ticket=t, kind="promise_slipped", channel="sms")
    assert slips.count() == 1
    assert [m for m in sms_outbox if "2025-03-03 11:30" in m["text"]]
    # the event dispatched again writes nothing twice
    from notifications.promise import promise_slipped

    promise_slipped(event)
    assert slips.count() == 1
    # a move that keeps within the promise: no slip, no message
    with django_capture_on_commit_callbacks(execute=True):
        t = run(t, ("send_quote", people["eng"], PAID))
    assert OutboxEvent.objects.filter(type="ticket.promise_slipped").count() == 1


def test_a_slip_at_the_customers_own_approval_is_not_texted(
    hours, clock, people, ops, old_device, django_capture_on_commit_callbacks
):
    t = walk_in(hours, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], PAID))
    clock.set(2025, 3, 4, 15)
    with django_capture_on_commit_callbacks(execute=True):
        t = run(t, ("approve", people["desk"]))
    assert OutboxEvent.objects.filter(type="ticket.promise_slipped", payload__action="approve").count() == 1
    assert not Notification.objects.filter(ticket=t, kind="promise_slipped").exists()


def test_express_repair_is_promised_to_the_minute_and_watched(hours, clock, people, ops, old_device):
    manager = staff(hours, "manager")
    manager.email = "boss@example.com"
    manager.save()
    clock.set(2025, 3, 3, 10, 7, 20)
    t = walk_in(hours, people["desk"], device=old_device, fault="battery")  # bench time 40: express
    assert t.express is True
    assert t.promised_at == at(2025, 3, 3, 11, 7, 20)
    assert jobs.express_breaches_record(now=at(2025, 3, 3, 11, 7)) == 0
    assert jobs.express_breaches_record(now=at(2025, 3, 3, 11, 8)) == 1
    assert jobs.express_breaches_record(now=at(2025, 3, 3, 11, 9)) == 0  # once per promise
    (breach,) = SlaBreach.objects.filter(ticket=t)
    assert (breach.status, breach.stage_due_at) == ("express", t.promised_at)
    # the desk's "today" lists it
    from repairs.selectors import desk_today

    assert [x.pk for x in desk_today(actor=people["desk"], now=clock.now)["express"]] == [t.pk]


def test_no_express_promise_the_center_cannot_keep_before_closing(hours, clock, people, ops, old_device):
    clock.set(2025, 3, 3, 17, 30)
    t = walk_in(hours, people["desk"], device=old_device, fault="battery")
    assert t.express is False
    assert t.promised_at == at(2025, 3, 4, 9, 45)  # 17:30 + 40 bench + 30 handling = Tue 9:40 -> 9:45


def test_escalations_are_held_while_the_center_is_closed_and_sent_at_opening(
    hours, clock, people, ops, old_device, django_capture_on_commit_callbacks
):
    manager = people["manager"].user
    manager.email = "boss@example.com"
    manager.save()
    t = walk_in(hours, people["desk"], device=old_device)
    RepairTicket.objects.filter(pk=t.pk).update(stage_due_at=at(2025, 3, 3, 17, 58))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sla_breaches_record(now=at(2025, 3, 3, 21), with_counts=True) == {"new_breaches": 0, "held": 1}
    assert not SlaBreach.objects.exists()
    assert not Notification.objects.filter(kind="sla_breached").exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sla_breaches_record(now=at(2025, 3, 4, 9, 5), with_counts=True) == {"new_breaches": 1, "held": 0}
    assert list(Notification.objects.filter(kind="sla_breached").values_list("recipient", flat=True)) == [
        "boss@example.com"
    ]
    # recorded once: the next night it is neither held again nor re-sent
    assert jobs.sla_breaches_record(now=at(2025, 3, 4, 22), with_counts=True) == {"new_breaches": 0, "held": 0}


def test_calendars_load_in_two_queries_for_any_number_of_centers_and_follow_hours_changes(
    db, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from centers.calendar import is_open

    day = dt.date(2025, 3, 1)
    centers = [weekly_hours(ServiceCenterFactory(), days=range(5)) for _ in range(5)]
    with django_assert_num_queries(2):
        center_calendars(centers=centers[:1], today=day)
    with django_assert_num_queries(2):
        center_calendars(centers=centers, today=day)
    with django_assert_num_queries(0):
        cals = center_calendars(centers=centers, today=day)
    assert is_open(cals[centers[0].pk], at(2025, 3, 3, 10))
    with django_capture_on_commit_callbacks(execute=True):  # the cache versions move after commit
        opening_exception_set(center_id=centers[0].pk, day=dt.date(2025, 3, 3), closed=True)
        opening_hours_set(center_id=centers[1].pk, weekday=5, intervals=[(dt.time(10), dt.time(2))])  # overnight
    with django_assert_num_queries(2):  # the two changed centers only
        cals = center_calendars(centers=centers, today=day)
    assert not is_open(cals[centers[0].pk], at(2025, 3, 3, 10))
    assert is_open(cals[centers[1].pk], at(2025, 3, 9, 1, 30))  # Saturday's hours run to Sunday 02:00
    assert not is_open(cals[centers[1].pk], at(2025, 3, 9, 2))


def test_the_promise_costs_a_fixed_number_of_queries_whatever_the_queue(hours, clock, people, ops, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def check_in_queries():
        device = DeviceFactory(model=model)
        with CaptureQueriesContext(connection) as ctx:
            walk_in(hours, people["desk"], device=device, phone=f"1390000{RepairTicket.objects.count():04d}")
        return len(ctx.captured_queries)

    check_in_queries()  # warms the center's calendar in the cache
    clock.set(2025, 3, 3, 10, 1)
    one = check_in_queries()
    for i in range(8):
        clock.set(2025, 3, 3, 10, 2 + i)
        check_in_queries()
    clock.set(2025, 3, 3, 10, 30)
    assert check_in_queries() == one  # 10 tickets ahead cost what 1 did: a COUNT, not a list


def test_the_public_week_hours_follow_the_national_calendar(hours):
    from centers.selectors import center_hours_on, center_week_hours

    week = center_week_hours(center=hours, start=dt.date(2026, 9, 30), days=11)
    by_day = {row["day"]: row["hours"] for row in week}
    assert by_day[dt.date(2026, 9, 30)] == [(dt.time(9), dt.time(18))]
    assert by_day[dt.date(2026, 10, 1)] == [] and by_day[dt.date(2026, 10, 7)] == []  # National Day
    assert by_day[dt.date(2026, 10, 10)] == [(dt.time(9), dt.time(18))]  # the make-up Saturday
    assert center_hours_on(center=hours, day=dt.date(2026, 10, 10)) == [(dt.time(9), dt.time(18))]
    assert center_hours_on(center=hours, day=dt.date(2026, 10, 2)) == []
    hours.opens_on_public_holidays = True  # a store: its weekly hours stand
    assert center_hours_on(center=hours, day=dt.date(2026, 10, 2)) == [(dt.time(9), dt.time(18))]
