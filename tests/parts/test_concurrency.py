"""Two tickets racing for the last unit, on real PostgreSQL row locks, with a control run.

Both customers approve at the same moment at a center with one battery left: exactly one ticket gets it
(``repairing``), the other goes to ``awaiting_parts`` with a request to the hub. The control replaces the
stock-level lock with a plain read (and a pause, so both read before either writes): the same race then
no longer ends with one reserved and one waiting -- the harness catches a missing lock.
"""

import time

import pytest

from parts import services
from parts.models import PartReservation, StockLevel
from repairs.models import RepairTicket
from servicehub.actors import actor_for_user
from tests.concurrency import race_collect
from tests.factories.centers import ServiceCenterFactory
from tests.factories.parts import part_for, stock
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _two_tickets_one_battery():
    StatutoryPolicyFactory(category="phone")
    hub = ServiceCenterFactory(code="RACEHUB", kind="mail_in_hub")
    center = ServiceCenterFactory(code="RACE1", hub=hub)
    model = DeviceModelFactory(code="R60")
    battery = part_for(catalog(model)["battery"])
    stock(center, battery, 1)
    desk = actor_for_user(staff(center, "front_desk"))
    eng = actor_for_user(staff(center, "engineer", certified=True))
    tickets = []
    for i in range(2):
        device = DeviceFactory(model=model, sold_at="2020-01-01T00:00Z")
        t = walk_in(center, desk, device=device, phone=f"1380000{i:04d}")
        tickets.append(run(t, ("start_diagnosis", eng), ("send_quote", eng, {"lines": [{"repair": "battery"}]})))
    return center, battery, desk, tickets


def _race(desk, tickets):
    queue = list(tickets)

    def approve():
        ticket = queue.pop()
        return run(ticket, ("approve", desk)).status

    return race_collect(approve, 2)


def test_two_tickets_racing_for_the_last_unit_one_reserved_one_awaiting():
    center, battery, desk, tickets = _two_tickets_one_battery()

    results, errors = _race(desk, tickets)

    assert errors == []
    assert sorted(results) == ["awaiting_parts", "repairing"]
    assert sorted(PartReservation.objects.values_list("status", flat=True)) == ["awaiting", "reserved"]
    level = StockLevel.objects.get(location=center, part=battery)
    assert (level.on_hand, level.reserved) == (1, 1)
    assert sorted(RepairTicket.objects.values_list("status", flat=True)) == ["awaiting_parts", "repairing"]


def test_control_without_the_level_lock_the_race_is_lost(monkeypatch):
    center, battery, desk, tickets = _two_tickets_one_battery()
    real = services._levels_lock

    def unlocked(pairs):
        # The bug the lock prevents: read the counters without holding the row, then act on them.
        real(pairs)  # creates rows as the real one does; its lock is what the control must not keep
        rows = {
            (lv.location_id, lv.part_id): lv
            for lv in StockLevel.objects.filter(
                location_id__in=[p[0] for p in pairs], part_id__in=[p[1] for p in pairs]
            )
        }
        time.sleep(0.5)
        return rows

    # ``real`` would lock: replace the locking helper underneath it with a no-op read.
    monkeypatch.setattr(
        services, "lock_many", lambda model, pks, **kw: {r.pk: r for r in model.objects.filter(pk__in=list(pks))}
    )
    monkeypatch.setattr(services, "_levels_lock", unlocked)

    results, errors = _race(desk, tickets)

    outcome = (sorted(results), [type(e).__name__ for e in errors])
    # With the lock: (["awaiting_parts", "repairing"], []). Without it both read "1 available": the second
    # write breaks the database's reserved <= on_hand check (or both would be reserved, were it not there).
    assert outcome != (["awaiting_parts", "repairing"], [])
    assert StockLevel.objects.get(location=center, part=battery).reserved <= 1  # the constraint held the line
