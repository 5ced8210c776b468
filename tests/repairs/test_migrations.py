"""The ``time_in_stage`` backfill of repairs 0005 on timelines written before the field existed."""

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from repairs.models import TicketEvent
from tests.factories.centers import ServiceCenterFactory
from tests.factories.ops import at, event, ticket

pytestmark = pytest.mark.django_db

migration = importlib.import_module("repairs.migrations.0005_backfill_time_in_stage")
# The backfill only uses the schema editor's connection; SQLite's real schema editor cannot be
# opened inside the test's transaction.
EDITOR = SimpleNamespace(connection=connection)


@pytest.mark.parametrize("batch", [1, 50_000])
def test_backfill_pairs_each_event_with_the_previous_one_of_its_ticket(monkeypatch, batch):
    # given two tickets' timelines without time_in_stage, one written out of order (pk != time order)
    monkeypatch.setattr(migration, "BATCH_TICKETS", batch)  # 1: every ticket in its own batch
    center = ServiceCenterFactory()
    t1, t2 = ticket(center), ticket(center)
    e1 = event(t1, "", "received", at(2026, 3, 10, 9, 0))
    e3 = event(t1, "diagnosing", "repairing", at(2026, 3, 10, 11, 0))
    e2 = event(t1, "received", "diagnosing", at(2026, 3, 10, 9, 45))
    f1 = event(t2, "booked", "received", at(2026, 3, 10, 8, 0))  # first event with a from_status: no start known
    f2 = event(t2, "received", "diagnosing", at(2026, 3, 10, 8, 0))  # same instant: zero, not unknown
    # one already filled by the service: left alone
    f3 = event(t2, "diagnosing", "repairing", at(2026, 3, 10, 12, 0), entered=at(2026, 3, 10, 7, 0))

    # when
    migration.backfill(apps, EDITOR)

    # then
    got = dict(TicketEvent.objects.values_list("pk", "time_in_stage"))
    assert got == {
        e1.pk: None,
        e2.pk: dt.timedelta(minutes=45),
        e3.pk: dt.timedelta(minutes=75),
        f1.pk: None,
        f2.pk: dt.timedelta(0),
        f3.pk: dt.timedelta(hours=5),
    }


def test_backfill_of_an_empty_timeline_does_nothing():
    migration.backfill(apps, EDITOR)
    assert not TicketEvent.objects.exists()
