"""Parts services: the ledger's invariants, reservations as ticket effects, arrival, release, consumption,
returns to the maker, reorder points and counts -- every refusal by its code."""

import pytest
from django.db import IntegrityError, transaction

from parts import selectors, services
from parts.models import (
    MakerReturnBatch,
    MakerReturnLine,
    PartReservation,
    ReorderPoint,
    ReplenishmentRequest,
    StockLevel,
    StockMove,
    StockUnit,
)
from repairs.models import RepairTicket, TicketEvent
from servicehub.actors import SYSTEM, Actor
from servicehub.errors import DomainError
from servicehub.models import OutboxEvent
from tests.factories.parts import stock
from tests.factories.repairs import run, walk_in
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db


def quoted(center, people, device, repairs=("screen",), *, phone="13812345678"):
    """A walk-in diagnosed and quoted (waiting for the customer's approval)."""
    t = walk_in(center, people["desk"], device=device, phone=phone)
    return run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": r} for r in repairs]}),
    )


def approve(ticket, people):
    return run(ticket, ("approve", people["desk"]))


def level(center, part):
    return StockLevel.objects.get(location=center, part=part)


def codes(exc_info):
    return exc_info.value.code


# --- the ledger's invariants (the database refuses) --------------------------------------------------


def test_database_refuses_negative_on_hand_and_reserved_beyond_on_hand(center, battery):
    stock(center, battery, 2)
    row = level(center, battery)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=row.pk).update(on_hand=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=row.pk).update(reserved=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(pk=row.pk).update(reserved=-1)
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (2, 0)


def test_database_refuses_a_zero_move_and_an_adjustment_without_reason(center, battery):
    common = {"location": center, "part": battery, "on_hand_after": 0, "reserved_after": 0, "at": "2026-01-01T00:00Z"}
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(kind="receipt", quantity=0, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(kind="receipt", quantity=-1, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(kind="adjust", quantity=-1, reason="", **common)


def test_receipt_books_counter_and_ledger_row(center, screen):
    move = stock(center, screen, 2, serials=["S-1", "S-2"])
    assert (move.kind, move.quantity, move.on_hand_after, move.reserved_after) == ("receipt", 2, 2, 0)
    assert level(center, screen).on_hand == 2
    assert sorted(StockUnit.objects.filter(location=center).values_list("serial", flat=True)) == ["S-1", "S-2"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"quantity": 0}, "validation_error"),
        ({"quantity": 2, "serials": ["A"]}, "validation_error"),
        ({"quantity": 2, "serials": ["A", "A"]}, "validation_error"),
        ({"quantity": 1, "serials": ["S-1"]}, "serial_exists"),
    ],
)
def test_receipt_refusals(center, screen, kwargs, code):
    stock(center, screen, 1, serials=["S-1"])
    with pytest.raises(DomainError) as e:
        services.stock_receive(actor=SYSTEM, location_id=center.pk, part_id=screen.pk, **kwargs)
    assert codes(e) == code
    assert level(center, screen).on_hand == 1
    assert StockMove.objects.count() == 1


def test_receipt_of_a_counted_part_with_serials_and_by_a_stranger(center, hub, battery, people):
    with pytest.raises(DomainError) as e:
        services.stock_receive(actor=SYSTEM, location_id=center.pk, part_id=battery.pk, quantity=1, serials=["X"])
    assert codes(e) == "validation_error"
    with pytest.raises(DomainError) as e:
        services.stock_receive(actor=people["hub"], location_id=center.pk, part_id=battery.pk, quantity=1)
    assert codes(e) == "not_found"
    outsider = Actor(center_ids=frozenset({center.pk}), roles={})
    with pytest.raises(DomainError) as e:
        services.stock_receive(actor=outsider, location_id=center.pk, part_id=battery.pk, quantity=1)
    assert codes(e) == "forbidden"


def test_adjust_needs_a_reason_a_manager_and_keeps_reserved_units(center, battery, people, old_device):
    stock(center, battery, 1)
    with pytest.raises(DomainError) as e:
        services.stock_adjust(actor=people["manager"], location_id=center.pk, part_id=battery.pk, delta=-1, reason=" ")
    assert codes(e) == "validation_error"
    with pytest.raises(DomainError) as e:
        services.stock_adjust(actor=people["desk"], location_id=center.pk, part_id=battery.pk, delta=-1, reason="lost")
    assert codes(e) == "forbidden"
    approve(quoted(center, people, old_device, ("battery",)), people)  # the one battery is now reserved
    with pytest.raises(DomainError) as e:
        services.stock_adjust(
            actor=people["manager"], location_id=center.pk, part_id=battery.pk, delta=-1, reason="lost"
        )
    assert codes(e) == "insufficient_stock"
    move = services.stock_adjust(
        actor=people["manager"], location_id=center.pk, part_id=battery.pk, delta=3, reason="found"
    )
    assert (move.on_hand_after, move.reserved_after) == (4, 1)


def test_adjust_refuses_serial_tracked_parts(center, screen, people):
    with pytest.raises(DomainError) as e:
        services.stock_adjust(actor=people["manager"], location_id=center.pk, part_id=screen.pk, delta=1, reason="x")
    assert codes(e) == "validation_error"


# --- reservation on approval -------------------------------------------------------------------------


def test_approval_reserves_the_part_of_each_quote_line(center, people, old_device, screen, battery):
    stock(center, screen, 1, serials=["SCR-1"])
    stock(center, battery, 3)
    t = approve(quoted(center, people, old_device, ("screen", "battery")), people)

    assert t.status == "repairing"
    rows = {r.part_id: r for r in PartReservation.objects.filter(ticket=t)}
    assert {p: r.status for p, r in rows.items()} == {screen.pk: "reserved", battery.pk: "reserved"}
    assert rows[screen.pk].unit.serial == "SCR-1"
    assert StockUnit.objects.get(serial="SCR-1").status == "reserved"
    assert (level(center, screen).on_hand, level(center, screen).reserved) == (1, 1)
    assert (level(center, battery).on_hand, level(center, battery).reserved) == (3, 1)
    assert StockMove.objects.filter(kind="reserve", ticket=t).count() == 2
    assert ReplenishmentRequest.objects.count() == 0


def test_a_quote_waiting_for_approval_reserves_nothing(center, people, old_device, battery):
    stock(center, battery, 1)
    quoted(center, people, old_device, ("battery",))
    assert level(center, battery).reserved == 0
    assert PartReservation.objects.count() == 0


def test_a_line_without_a_mapped_part_needs_no_stock(center, people, old_device, ops):
    t = approve(quoted(center, people, old_device, ("camera",)), people)
    assert t.status == "repairing"
    assert PartReservation.objects.count() == 0


def test_a_free_quote_reserves_on_sending(center, people, model, battery):
    in_warranty = DeviceFactory(model=model)  # sold recently: statutory repair, quote of 0
    stock(center, battery, 1)
    t = walk_in(center, people["desk"], device=in_warranty, fault="battery")
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], {"lines": [{"repair": "battery"}]}))
    assert t.status == "repairing"
    assert PartReservation.objects.get(ticket=t).status == "reserved"


def test_no_stock_sends_the_ticket_to_awaiting_parts_and_asks_the_hub(center, hub, people, old_device, screen):
    t = approve(quoted(center, people, old_device), people)

    assert t.status == "awaiting_parts"
    r = PartReservation.objects.get(ticket=t)
    assert r.status == "awaiting"
    req = r.replenishment
    assert (req.center_id, req.hub_id, req.part_id, req.status) == (center.pk, hub.pk, screen.pk, "open")
    assert OutboxEvent.objects.filter(type="parts.awaiting", payload__ticket_id=t.pk).count() == 1
    assert StockMove.objects.filter(kind="reserve").count() == 0


def test_parts_arrived_by_hand_is_refused_while_the_part_is_awaited(center, people, old_device, screen):
    t = approve(quoted(center, people, old_device), people)
    with pytest.raises(DomainError) as e:
        run(t, ("parts_arrived", people["eng"]))
    assert codes(e) == "invalid_transition"
    assert RepairTicket.objects.get(pk=t.pk).status == "awaiting_parts"


# --- the hub ships, the center receives, the repair resumes ------------------------------------------


def test_transfer_received_reserves_for_the_waiting_ticket_and_resumes_it(center, hub, people, old_device, screen):
    t = approve(quoted(center, people, old_device), people)
    req = ReplenishmentRequest.objects.get()
    stock(hub, screen, 2, serials=["H-1", "H-2"])

    transfer = services.transfer_ship(
        actor=people["hub"],
        from_location_id=hub.pk,
        to_location_id=center.pk,
        part_id=screen.pk,
        quantity=1,
        seal_no="SEAL-1",
        serials=["H-2"],
        replenishment_id=req.pk,
    )
    assert (level(hub, screen).on_hand, StockUnit.objects.get(serial="H-2").status) == (1, "in_transit")
    req.refresh_from_db()
    assert req.status == "shipped"

    result = services.transfer_receive(actor=people["desk"], transfer_id=transfer.pk)

    assert result.resumed_ticket_ids == [t.pk]
    t.refresh_from_db()
    assert t.status == "repairing"
    r = PartReservation.objects.get(ticket=t)
    assert (r.status, r.unit.serial) == ("reserved", "H-2")
    assert (level(center, screen).on_hand, level(center, screen).reserved) == (1, 1)
    assert list(StockMove.objects.filter(location=center).order_by("pk").values_list("kind", flat=True)) == [
        "transfer_in",
        "reserve",
    ]
    arrived = TicketEvent.objects.filter(ticket=t, action="parts_arrived").get()
    assert screen.part_number in arrived.note
    assert OutboxEvent.objects.filter(type="parts.arrived", payload__ticket_id=t.pk).count() == 1
    req.refresh_from_db()
    assert req.status == "received"


def test_transfer_refusals(center, hub, people, screen, battery):
    stock(hub, battery, 1)
    base = {"from_location_id": hub.pk, "to_location_id": center.pk, "part_id": battery.pk, "quantity": 1}
    for kwargs, code in (
        ({**base, "seal_no": ""}, "validation_error"),
        ({**base, "seal_no": "S", "to_location_id": hub.pk}, "validation_error"),
        ({**base, "seal_no": "S", "quantity": 2}, "insufficient_stock"),
        ({**base, "seal_no": "S", "part_id": screen.pk}, "validation_error"),  # units need serials
    ):
        with pytest.raises(DomainError) as e:
            services.transfer_ship(actor=people["hub"], **kwargs)
        assert codes(e) == code, kwargs
    with pytest.raises(DomainError) as e:  # the center's staff cannot ship from the hub
        services.transfer_ship(actor=people["desk"], seal_no="S", **base)
    assert codes(e) == "not_found"
    stock(hub, screen, 1, serials=["H-1"])
    with pytest.raises(DomainError) as e:
        services.transfer_ship(actor=people["hub"], seal_no="S", **{**base, "part_id": screen.pk}, serials=["NOPE"])
    assert codes(e) == "unknown_serial"
    assert level(hub, screen).on_hand == 1

    transfer = services.transfer_ship(actor=people["hub"], seal_no="S", **base)
    with pytest.raises(DomainError) as e:  # the hub cannot book it in at the center
        services.transfer_receive(actor=people["hub"], transfer_id=transfer.pk)
    assert codes(e) == "not_found"
    services.transfer_receive(actor=people["desk"], transfer_id=transfer.pk)
    with pytest.raises(DomainError) as e:
        services.transfer_receive(actor=people["desk"], transfer_id=transfer.pk)
    assert codes(e) == "invalid_transition"
    assert level(center, battery).on_hand == 1


def test_a_replenishment_request_is_shipped_once(center, hub, people, old_device, battery):
    approve(quoted(center, people, old_device, ("battery",)), people)
    req = ReplenishmentRequest.objects.get()
    stock(hub, battery, 5)
    args = {"from_location_id": hub.pk, "to_location_id": center.pk, "part_id": battery.pk, "quantity": 1}
    services.transfer_ship(actor=people["hub"], seal_no="A", replenishment_id=req.pk, **args)
    with pytest.raises(DomainError) as e:
        services.transfer_ship(actor=people["hub"], seal_no="B", replenishment_id=req.pk, **args)
    assert codes(e) == "invalid_transition"
    assert level(hub, battery).on_hand == 4


def test_a_receipt_at_the_center_also_serves_the_waiting_ticket(center, people, old_device, battery):
    t = approve(quoted(center, people, old_device, ("battery",)), people)
    services.stock_receive(actor=people["desk"], location_id=center.pk, part_id=battery.pk, quantity=1)
    t.refresh_from_db()
    assert t.status == "repairing"
    assert PartReservation.objects.get(ticket=t).status == "reserved"


def test_a_system_receipt_reserves_but_leaves_the_move_to_staff(center, people, old_device, battery):
    t = approve(quoted(center, people, old_device, ("battery",)), people)
    stock(center, battery, 1)  # SYSTEM may not do parts_arrived
    t.refresh_from_db()
    assert t.status == "awaiting_parts"
    assert PartReservation.objects.get(ticket=t).status == "reserved"
    assert TicketEvent.objects.filter(ticket=t, action="parts_reserved").count() == 1
    assert run(t, ("parts_arrived", people["eng"])).status == "repairing"


def test_oldest_waiting_ticket_is_served_first(center, people, model, battery):
    first = approve(
        quoted(center, people, DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"), ("battery",)), people
    )
    second = approve(
        quoted(
            center, people, DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"), ("battery",), phone="13900000001"
        ),
        people,
    )
    services.stock_receive(actor=people["desk"], location_id=center.pk, part_id=battery.pk, quantity=1)
    statuses = dict(RepairTicket.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "status"))
    assert statuses == {first.pk: "repairing", second.pk: "awaiting_parts"}


# --- release -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cancel_awaiting", "decline"])
def test_cancel_and_decline_release(center, people, old_device, battery, how):
    stock(center, battery, 1)
    if how == "decline":
        t = quoted(center, people, old_device, ("battery",))
        # A revised quote while repairing would hold the part; a plain decline has nothing reserved yet.
        run(t, ("decline", people["desk"]))
        assert PartReservation.objects.count() == 0
        return
    other = approve(quoted(center, people, old_device, ("battery",)), people)  # takes the only battery
    waiting = approve(
        quoted(
            center,
            people,
            DeviceFactory(model=old_device.model, sold_at=old_device.sold_at),
            ("battery",),
            phone="13900000002",
        ),
        people,
    )
    assert waiting.status == "awaiting_parts"
    run(waiting, ("cancel", people["desk"]))
    assert PartReservation.objects.get(ticket=waiting).status == "released"
    assert PartReservation.objects.get(ticket=other).status == "reserved"
    assert level(center, battery).reserved == 1


def test_cancel_while_repairing_is_refused_but_a_revised_quote_releases(center, people, old_device, battery, screen):
    stock(center, battery, 1)
    stock(center, screen, 1, serials=["S-9"])
    t = approve(quoted(center, people, old_device, ("battery", "screen")), people)
    # The engineer finds the screen is fine: a revised quote without it, approved again.
    t = run(t, ("send_quote", people["eng"], {"lines": [{"repair": "battery"}]}), ("approve", people["desk"]))
    assert t.status == "repairing"
    rows = dict(PartReservation.objects.filter(ticket=t).values_list("part_id", "status"))
    assert rows == {battery.pk: "reserved", screen.pk: "released"}
    assert (level(center, screen).reserved, StockUnit.objects.get(serial="S-9").status) == (0, "in_stock")
    assert StockMove.objects.filter(kind="reserve", part=battery).count() == 1  # kept, not reserved twice


def test_declining_a_revised_quote_releases_what_was_reserved(center, people, old_device, battery):
    stock(center, battery, 1)
    t = approve(quoted(center, people, old_device, ("battery",)), people)
    t = run(t, ("send_quote", people["eng"], {"lines": [{"repair": "battery"}, {"repair": "camera"}]}))
    assert t.status == "awaiting_approval"
    assert level(center, battery).reserved == 1  # held while the customer decides
    run(t, ("decline", people["desk"]))
    assert level(center, battery).reserved == 0
    assert PartReservation.objects.get(ticket=t).status == "released"


# --- consumption at finish -----------------------------------------------------------------------------


def _repairing(center, people, device, repairs):
    return run(approve(quoted(center, people, device, repairs), people), ("start_repair", people["eng"]))


def test_finish_consumes_with_serials_and_boxes_the_removed_part(center, people, old_device, screen, battery):
    stock(center, screen, 1, serials=["NEW-1"])
    stock(center, battery, 1)
    t = _repairing(center, people, old_device, ("screen", "battery"))
    rs = {r.part_id: r for r in PartReservation.objects.filter(ticket=t)}
    serials = {str(rs[screen.pk].pk): {"fitted": "NEW-1", "removed": "OLD-1"}, str(rs[battery.pk].pk): {}}

    t = run(t, ("finish", people["eng"], {"part_serials": serials}))

    assert t.status == "quality_check"
    r = PartReservation.objects.get(pk=rs[screen.pk].pk)
    assert (r.status, r.fitted_serial, r.removed_serial) == ("consumed", "NEW-1", "OLD-1")
    assert StockUnit.objects.get(serial="NEW-1").status == "consumed"
    assert (level(center, screen).on_hand, level(center, screen).reserved) == (0, 0)
    assert (level(center, battery).on_hand, level(center, battery).reserved) == (0, 0)
    line = MakerReturnLine.objects.get()
    assert (line.part_id, line.serial, line.ticket_id, line.batch.status) == (screen.pk, "OLD-1", t.pk, "open")
    assert StockMove.objects.filter(kind="consume", ticket=t).count() == 2


def test_finish_needs_serials_of_tracked_parts(center, people, old_device, screen):
    stock(center, screen, 1, serials=["NEW-1"])
    t = _repairing(center, people, old_device, ("screen",))
    r = PartReservation.objects.get(ticket=t)
    for given, code in (
        ({}, "serial_required"),
        ({str(r.pk): {"fitted": "NEW-1"}}, "serial_required"),
        ({str(r.pk): {"fitted": "WRONG", "removed": "OLD"}}, "unknown_serial"),
    ):
        with pytest.raises(DomainError) as e:
            run(t, ("finish", people["eng"], {"part_serials": given}))
        assert codes(e) == code
    assert RepairTicket.objects.get(pk=t.pk).status == "repairing"
    assert PartReservation.objects.get(pk=r.pk).status == "reserved"
    assert level(center, screen).reserved == 1
    assert MakerReturnLine.objects.count() == 0


def test_finish_with_another_free_unit_swaps_the_reservation(center, people, old_device, screen):
    stock(center, screen, 2, serials=["A-1", "A-2"])
    t = _repairing(center, people, old_device, ("screen",))
    r = PartReservation.objects.get(ticket=t)
    other = "A-2" if r.unit.serial == "A-1" else "A-1"
    run(t, ("finish", people["eng"], {"part_serials": {str(r.pk): {"fitted": other, "removed": "OLD"}}}))
    assert dict(StockUnit.objects.values_list("serial", "status")) == {other: "consumed", r.unit.serial: "in_stock"}
    assert (level(center, screen).on_hand, level(center, screen).reserved) == (1, 0)


# --- return batches -----------------------------------------------------------------------------------


def test_return_batch_lines_and_lifecycle(center, people, battery):
    line = services.return_batch_line_add(
        actor=people["desk"], location_id=center.pk, imei="860000000000001", reason="DOA"
    )
    services.return_batch_line_add(actor=people["desk"], location_id=center.pk, part_id=battery.pk, serial="B-1")
    batch = line.batch
    assert batch.lines.count() == 2
    for kwargs, code in (
        ({}, "validation_error"),
        ({"imei": "123"}, "validation_error"),
        ({"imei": "860000000000001", "part_id": battery.pk}, "validation_error"),
    ):
        with pytest.raises(DomainError) as e:
            services.return_batch_line_add(actor=people["desk"], location_id=center.pk, **kwargs)
        assert codes(e) == code
    with pytest.raises(DomainError) as e:
        services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="shipped", tracking_no="X")
    assert codes(e) == "invalid_transition"
    with pytest.raises(DomainError) as e:
        services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="sealed")
    assert codes(e) == "validation_error"
    services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="sealed", seal_no="RMA-SEAL-1")
    services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="shipped", tracking_no="SF123")
    done = services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="received")
    assert (done.status, done.seal_no, done.tracking_no) == ("received", "RMA-SEAL-1", "SF123")
    # The next line opens a new batch.
    nxt = services.return_batch_line_add(actor=people["desk"], location_id=center.pk, imei="860000000000002")
    assert nxt.batch_id != batch.pk
    assert MakerReturnBatch.objects.filter(status="open").count() == 1


def test_return_defective_takes_a_unit_out_of_stock_into_the_batch(center, people, battery):
    stock(center, battery, 1)
    line = services.stock_return_defective(
        actor=people["desk"], location_id=center.pk, part_id=battery.pk, reason="swollen"
    )
    assert level(center, battery).on_hand == 0
    assert StockMove.objects.filter(kind="return_defective").count() == 1
    assert (line.part_id, line.batch.status, line.reason) == (battery.pk, "open", "swollen")
    with pytest.raises(DomainError) as e:  # nothing left to take out
        services.stock_return_defective(actor=people["desk"], location_id=center.pk, part_id=battery.pk, reason="x")
    assert codes(e) == "insufficient_stock"


def test_database_keeps_one_open_batch_per_location(center):
    MakerReturnBatch.objects.create(code="B1", location=center, created_at="2026-01-01T00:00Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        MakerReturnBatch.objects.create(code="B2", location=center, created_at="2026-01-01T00:00Z")


def test_sealing_an_empty_batch_is_refused(center, people, hub):
    batch = MakerReturnBatch.objects.create(code="E1", location=center, created_at="2026-01-01T00:00Z")
    with pytest.raises(DomainError) as e:
        services.return_batch_advance(actor=people["desk"], batch_id=batch.pk, to_status="sealed", seal_no="S")
    assert codes(e) == "batch_empty"


def test_return_defective_refusals(center, people, screen):
    stock(center, screen, 1, serials=["D-1"])
    for kwargs, code in (
        ({"serial": "D-1", "reason": ""}, "validation_error"),
        ({"reason": "x"}, "validation_error"),
        ({"serial": "NOPE", "reason": "x"}, "unknown_serial"),
    ):
        with pytest.raises(DomainError) as e:
            services.stock_return_defective(actor=people["desk"], location_id=center.pk, part_id=screen.pk, **kwargs)
        assert codes(e) == code
    services.stock_return_defective(
        actor=people["desk"], location_id=center.pk, part_id=screen.pk, serial="D-1", reason="dead pixels"
    )
    assert StockUnit.objects.get(serial="D-1").status == "defective"


# --- reorder points, low stock, counts ------------------------------------------------------------------


def test_low_stock_is_announced_once_when_available_falls_below_the_point(center, people, model, battery):
    stock(center, battery, 3)
    services.reorder_point_set(
        actor=people["manager"], location_id=center.pk, part_id=battery.pk, min_available=2, reorder_qty=5
    )
    approve(quoted(center, people, DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"), ("battery",)), people)
    assert OutboxEvent.objects.filter(type="parts.low_stock").count() == 0  # 2 available: not below 2
    approve(
        quoted(
            center, people, DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"), ("battery",), phone="13900000003"
        ),
        people,
    )
    approve(
        quoted(
            center, people, DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"), ("battery",), phone="13900000004"
        ),
        people,
    )
    events = OutboxEvent.objects.filter(type="parts.low_stock")
    assert events.count() == 1
    assert {k: events[0].payload[k] for k in ("center", "part", "available", "reorder_point")} == {
        "center": center.code,
        "part": battery.part_number,
        "available": 1,
        "reorder_point": 2,
    }


def test_reorder_point_refusals(center, people, battery):
    with pytest.raises(DomainError) as e:
        services.reorder_point_set(
            actor=people["desk"], location_id=center.pk, part_id=battery.pk, min_available=1, reorder_qty=1
        )
    assert codes(e) == "forbidden"
    with pytest.raises(DomainError) as e:
        services.reorder_point_set(
            actor=people["manager"], location_id=center.pk, part_id=battery.pk, min_available=-1, reorder_qty=1
        )
    assert codes(e) == "validation_error"
    with pytest.raises(DomainError) as e:
        services.reorder_point_set(
            actor=people["manager"], location_id=center.pk, part_id=battery.pk, min_available=1, reorder_qty=0
        )
    assert codes(e) == "validation_error"
    assert ReorderPoint.objects.count() == 0


def test_suggested_orders_from_usage(center, people, model, battery):
    stock(center, battery, 4)
    services.reorder_point_set(
        actor=people["manager"], location_id=center.pk, part_id=battery.pk, min_available=3, reorder_qty=5
    )
    for i in range(2):
        t = approve(
            quoted(
                center,
                people,
                DeviceFactory(model=model, sold_at="2020-01-01T00:00Z"),
                ("battery",),
                phone=f"1390000001{i}",
            ),
            people,
        )
        run(t, ("start_repair", people["eng"]), ("finish", people["eng"]))
    rows = selectors.reorder_suggestions(location_id=center.pk, days=30)
    assert len(rows) == 1
    row = rows[0]
    assert (row["part"], row["available"], row["used"], row["reorder_point"]) == (battery.part_number, 2, 2, 3)
    assert row["suggested"] == 6  # up to point + order quantity (3 + 5) from 2 available


def test_stock_count_books_the_variance(center, people, battery, screen):
    stock(center, battery, 5)
    stock(center, screen, 1, serials=["C-1"])
    count = services.stock_count_open(actor=people["manager"], location_id=center.pk)
    with pytest.raises(DomainError) as e:
        services.stock_count_open(actor=people["manager"], location_id=center.pk)
    assert codes(e) == "count_open"
    with pytest.raises(DomainError) as e:
        services.stock_count_close(actor=people["manager"], count_id=count.pk)
    assert codes(e) == "count_incomplete"
    with pytest.raises(DomainError) as e:
        services.stock_count_record(actor=people["desk"], count_id=count.pk, counts={battery.pk: -1})
    assert codes(e) == "validation_error"
    services.stock_count_record(actor=people["desk"], count_id=count.pk, counts={battery.pk: 4, screen.pk: 1})
    with pytest.raises(DomainError) as e:
        services.stock_count_close(actor=people["desk"], count_id=count.pk)
    assert codes(e) == "forbidden"
    moves = services.stock_count_close(actor=people["manager"], count_id=count.pk)
    assert [(m.kind, m.quantity, m.on_hand_after, m.reason) for m in moves] == [
        ("adjust", -1, 4, f"Stock count C{count.pk}")
    ]
    with pytest.raises(DomainError) as e:
        services.stock_count_close(actor=people["manager"], count_id=count.pk)
    assert codes(e) == "invalid_transition"


def test_services_refuse_without_an_actor(center, battery):
    with pytest.raises(TypeError):
        services.stock_receive(actor=None, location_id=center.pk, part_id=battery.pk, quantity=1)
