"""HQ's figures: stock and waits by region, and the dashboard summary, scoped to the actor's centers."""

import datetime as dt

import pytest
from django.utils import timezone

from parts import selectors
from parts.models import PartReservation
from servicehub.actors import SYSTEM, Actor
from tests.factories.parts import stock
from tests.factories.repairs import run, walk_in

pytestmark = pytest.mark.django_db


def test_stock_by_region_and_dashboard(center, hub, people, old_device, battery, screen, django_assert_max_num_queries):
    stock(center, battery, 1)
    stock(hub, battery, 9)
    t = walk_in(center, people["desk"], device=old_device)
    run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "battery"}, {"repair": "screen"}]}),
        ("approve", people["desk"]),
    )
    # An earlier wait of 10 hours, already served.
    earlier = PartReservation.objects.get(ticket=t, part=screen)
    assert earlier.status == "awaiting"

    with django_assert_max_num_queries(4):
        rows = selectors.stock_by_region(actor=SYSTEM)
    assert len(rows) == 1  # the factory puts both in one province
    row = rows[0]
    assert (row["on_hand"], row["reserved"], row["waiting"]) == (10, 1, 1)
    assert row["stock_outs"] == 2  # the center's battery (all reserved) and its screen (none)

    PartReservation.objects.filter(pk=earlier.pk).update(
        status="reserved", created_at=timezone.now() - dt.timedelta(hours=10), reserved_at=timezone.now()
    )
    summary = selectors.parts_dashboard(center_ids=frozenset({center.pk}))
    assert summary["waiting"] == 0
    assert summary["avg_wait_hours"] == pytest.approx(10.0, abs=0.1)

    hub_only = Actor(center_ids=frozenset({hub.pk}), roles={hub.pk: {"manager"}})
    rows = selectors.stock_by_region(actor=hub_only)
    assert (rows[0]["on_hand"], rows[0]["reserved"], rows[0]["waiting"]) == (9, 0, 0)
