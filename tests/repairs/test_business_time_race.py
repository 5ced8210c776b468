"""Two express watches at once (PostgreSQL, threads): one breach and one escalation per promise.

Both runs find the late express ticket before either writes (a sleep holds the first inside its
transaction); the unique row (ticket, stage, due time) lets one insert and the other skip. The control
drops that constraint for the duration of the test and shows the harness catches the double escalation.
"""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from repairs import jobs
from repairs.models import RepairTicket, SlaBreach
from servicehub.models import OutboxEvent
from tests.concurrency import race_collect
from tests.factories.repairs import walk_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TZ = ZoneInfo("Asia/Shanghai")
LATE = dt.datetime(2025, 3, 3, 11, 30, tzinfo=TZ)  # a Monday, the center open around the clock (no hours)


@pytest.fixture
def late_express(center, people, ops, old_device, monkeypatch):
    t = walk_in(center, people["desk"], device=old_device, fault="battery")
    RepairTicket.objects.filter(pk=t.pk).update(express=True, promised_at=LATE - dt.timedelta(minutes=20))
    original = jobs.emit

    def slow_emit(*args, **kwargs):
        time.sleep(0.4)  # the other watch reads the ticket meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(jobs, "emit", slow_emit)
    return t


def _two_watches():
    return race_collect(lambda: jobs.express_breaches_record(now=LATE), 2)


def test_two_express_watches_escalate_a_late_promise_once(late_express):
    results, errors = _two_watches()
    assert errors == []
    assert sorted(results) == [0, 1]
    assert SlaBreach.objects.filter(ticket=late_express, status="express").count() == 1
    assert OutboxEvent.objects.filter(type="ticket.sla_breached").count() == 1


def test_control_without_the_unique_row_both_watches_escalate(late_express):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notifications_slabreach DROP CONSTRAINT slabreach_once_per_stage")
    try:
        results, errors = _two_watches()
        assert errors == []
        assert sorted(results) == [1, 1]
        assert SlaBreach.objects.filter(ticket=late_express, status="express").count() == 2
    finally:
        SlaBreach.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE notifications_slabreach ADD CONSTRAINT slabreach_once_per_stage "
                "UNIQUE (ticket_id, status, stage_due_at)"
            )
