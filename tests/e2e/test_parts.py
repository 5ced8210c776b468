"""Parts in a real browser (staff at 1366 px, zh-Hans): the quote shows the stock, approval reserves the part,
the finish form takes the serials, the removed part lands in a return batch; and a stock-out: the ticket waits,
the hub ships a sealed transfer, the center receives it and the repair resumes. The counter's stock pages too:
receiving from the maker, an adjustment (and two refused ones), a reorder point and its suggested order, and
HQ's stock by region. Each step checks the database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from centers.choices import CenterKind
from parts.models import MakerReturnBatch, MakerReturnLine, PartReservation, StockLevel, StockTransfer
from repairs.models import RepairTicket, TicketEvent
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.parts import part_for, stock
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

from .conftest import docs_img_dir, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()


def doc_shot(page, name: str) -> None:
    page.screenshot(path=str(DOCS_IMG / f"parts-{name}.png"), full_page=False)


@pytest.fixture
def shop(db):
    hub = ServiceCenterFactory(code="HUB-E2E", name="上海寄修中心", kind=CenterKind.MAIL_IN_HUB)
    center = ServiceCenterFactory(code="SC-E2E", name="上海南京东路服务中心", hub=hub)
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    ops = catalog(model)
    screen = part_for(ops["screen"], serial_tracked=True, part_number="P60-SCREEN-N", name_zh="P60 屏幕总成")
    users = {
        "desk": staff(center, "front_desk", username="desk"),
        "eng": staff(center, "engineer", certified=True, username="eng"),
        "hub": staff(hub, "front_desk", username="hubdesk"),
    }
    actors = {k: actor_for_user(u) for k, u in users.items()}
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))
    ticket = walk_in(center, actors["desk"], device=device, phone="13812345678", name="王小明")
    ticket = run(ticket, ("start_diagnosis", actors["eng"]))
    return {"center": center, "hub": hub, "users": users, "actors": actors, "ticket": ticket, "screen": screen}


def open_ticket(page, ticket):
    page.goto(f"/admin/repairs/repairticket/{ticket.pk}/change/")
    page.locator("#ticket-actions").wait_for()


def click_action(page, code: str):
    with page.expect_navigation():
        page.locator(f"#action-{code} button[type=submit]").click()


def run_admin_action(page, url: str, action: str, number_field: str | None = None, number: str = ""):
    page.goto(url)
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option(action)
    if number_field:
        page.locator(f"input[name={number_field}]").fill(number)
    with page.expect_navigation():
        page.locator("button[name=index]").click()


def test_quote_shows_stock_approval_reserves_finish_consumes_and_boxes_the_removed_part(staff_page, shop):
    ticket, screen, center = shop["ticket"], shop["screen"], shop["center"]
    stock(center, screen, 1, serials=["SCR-0001"])

    eng = staff_page(shop["users"]["eng"])
    open_ticket(eng, ticket)
    assert "可用 1" in eng.locator("#stock-screen").inner_text()  # 1 available, 1 on hand, 0 reserved
    assert "无需配件" in eng.locator("#stock-camera").inner_text()  # no part mapped: nothing to reserve
    eng.locator("#repair-screen").check()
    eng.locator("#quote-preview-button").click()
    eng.locator("#quote-preview").wait_for()
    doc_shot(eng, "quote-stock")
    with eng.expect_navigation():
        eng.locator("#quote-send-button").click()
    assert RepairTicket.objects.get(pk=ticket.pk).status == "awaiting_approval"

    desk = staff_page(shop["users"]["desk"])
    open_ticket(desk, ticket)
    click_action(desk, "approve")
    reservation = PartReservation.objects.get(ticket=ticket)
    assert (reservation.status, reservation.unit.serial) == ("reserved", "SCR-0001")
    assert RepairTicket.objects.get(pk=ticket.pk).status == "repairing"
    level = StockLevel.objects.get(location=center, part=screen)
    assert (level.on_hand, level.reserved) == (1, 1)

    open_ticket(eng, ticket)
    assert "已预留" in eng.locator("#ticket-parts").inner_text()
    click_action(eng, "start_repair")
    # The finish form asks the serials: the reserved unit's is filled in, the removed one is typed.
    assert eng.locator(f"#fitted-{reservation.pk}").input_value() == "SCR-0001"
    eng.locator(f"#removed-{reservation.pk}").fill("OLD-SCR-7788")
    doc_shot(eng, "finish-serials")
    click_action(eng, "finish")

    ticket.refresh_from_db()
    assert ticket.status == "quality_check"
    reservation.refresh_from_db()
    assert (reservation.status, reservation.fitted_serial, reservation.removed_serial) == (
        "consumed",
        "SCR-0001",
        "OLD-SCR-7788",
    )
    level.refresh_from_db()
    assert (level.on_hand, level.reserved) == (0, 0)
    line = MakerReturnLine.objects.get()
    assert (line.serial, line.part_id, line.ticket_id, line.batch.status) == (
        "OLD-SCR-7788",
        screen.pk,
        ticket.pk,
        "open",
    )

    # The desk seals the return batch for the maker.
    run_admin_action(desk, "/admin/parts/makerreturnbatch/", "seal", "number", "RMA-SEAL-01")
    batch = MakerReturnBatch.objects.get()
    assert (batch.status, batch.seal_no) == ("sealed", "RMA-SEAL-01")
    doc_shot(desk, "return-batch")


def test_stock_out_waits_hub_ships_center_receives_and_the_repair_resumes(staff_page, shop):
    ticket, screen, center, hub = shop["ticket"], shop["screen"], shop["center"], shop["hub"]
    a = shop["actors"]
    stock(hub, screen, 2, serials=["HUB-SCR-1", "HUB-SCR-2"])
    ticket = run(ticket, ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}))

    desk = staff_page(shop["users"]["desk"])
    open_ticket(desk, ticket)
    click_action(desk, "approve")
    ticket.refresh_from_db()
    assert ticket.status == "awaiting_parts"
    assert PartReservation.objects.get(ticket=ticket).status == "awaiting"

    # The hub sees the request and ships one sealed unit.
    hub_page = staff_page(shop["users"]["hub"])
    run_admin_action(hub_page, "/admin/parts/replenishmentrequest/", "ship", "seal_no", "SEAL-20261201")
    transfer = StockTransfer.objects.get()
    assert (transfer.status, transfer.seal_no, transfer.from_location_id, transfer.to_location_id) == (
        "shipped",
        "SEAL-20261201",
        hub.pk,
        center.pk,
    )
    assert StockLevel.objects.get(location=hub, part=screen).on_hand == 1

    # The center receives it: the part is reserved for the ticket, the repair resumes.
    run_admin_action(desk, "/admin/parts/stocktransfer/", "receive")
    doc_shot(desk, "transfer-received")
    transfer.refresh_from_db()
    assert transfer.status == "received"
    ticket.refresh_from_db()
    assert ticket.status == "repairing"
    reservation = PartReservation.objects.get(ticket=ticket)
    assert reservation.status == "reserved"
    assert reservation.unit.serial in ("HUB-SCR-1", "HUB-SCR-2")
    event = TicketEvent.objects.filter(ticket=ticket).order_by("-at", "-pk").first()
    assert (event.action, event.actor) == ("parts_arrived", shop["users"]["desk"])

    # The engineer's bench page shows the ticket back in repair with the part's arrival on the timeline.
    eng = staff_page(shop["users"]["eng"])
    open_ticket(eng, ticket)
    assert "P60-SCREEN-N" in eng.locator("#ticket-timeline").inner_text()
    assert "已预留" in eng.locator("#ticket-parts").inner_text()


def test_manager_counts_the_shelf_and_the_variance_is_booked(staff_page, shop):
    """A manager opens a count, enters fewer batteries than the books say, closes it: an adjust move is booked."""
    from parts.models import StockCount, StockMove
    from repairs.models import RepairOperation

    center = shop["center"]
    battery = part_for(RepairOperation.objects.get(device_model__code="P60", code="battery"), part_number="P60-BAT")
    stock(center, battery, 5)
    manager = staff(center, "manager", username="mgr")
    page = staff_page(manager)
    page.goto("/admin/parts/stockcount/")
    page.locator("#count-open-link").click()
    page.locator("#id_location").select_option(str(center.pk))
    page.locator("#stock-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/parts/stockcount/\d+/change/$"))
    count = StockCount.objects.get(location=center)
    for line in count.lines.all():
        value = 3 if line.part_id == battery.pk else line.expected
        page.locator(f"#counted-{line.part_id}").fill(str(value))
    doc_shot(page, "stock-count")
    page.locator("#close-count").click()
    page.locator(".messagelist .success").wait_for()
    count.refresh_from_db()
    assert count.status == "closed"
    assert StockLevel.objects.get(location=center, part=battery).on_hand == 3
    move = StockMove.objects.get(location=center, part=battery, kind="adjust")
    assert move.quantity == -2 and move.on_hand_after == 3


def battery_of(center=None, quantity=0):
    """The P60 battery (a counted part), with ``quantity`` received at ``center``."""
    from repairs.models import RepairOperation

    battery = part_for(
        RepairOperation.objects.get(device_model__code="P60", code="battery"), part_number="P60-BAT", name_zh="P60 电池"
    )
    if quantity:
        stock(center, battery, quantity)
    return battery


def test_desk_receives_serial_tracked_screens_from_the_maker(staff_page, shop):
    """The stock list's "receive" form: two screens with their serials and the delivery note become a receipt."""
    from parts.models import StockMove, StockUnit

    center, screen = shop["center"], shop["screen"]
    stock(center, screen, 1, serials=["SCR-OLD-1"])
    page = staff_page(shop["users"]["desk"])
    page.goto("/admin/parts/stocklevel/")
    page.locator("#receive-link").click()
    page.wait_for_url(re.compile(r"/admin/parts/stocklevel/receive/$"))
    page.locator("#id_location").select_option(str(center.pk))
    page.locator("#id_part").select_option(str(screen.pk))
    page.locator("#id_quantity").fill("2")
    page.locator("#id_serials").fill("SCR-NEW-1\nSCR-NEW-2")
    page.locator("#id_reference").fill("DN-20261201-07")
    shot(page, "parts-receive")
    doc_shot(page, "receive")
    with page.expect_navigation():
        page.locator("#stock-form [type=submit]").click()
    assert "已入库" in page.locator(".messagelist .success").inner_text()
    assert page.url.endswith("/admin/parts/stocklevel/")

    assert StockLevel.objects.get(location=center, part=screen).on_hand == 3  # 1 before + 2 received
    move = StockMove.objects.filter(location=center, part=screen).order_by("-pk").first()
    assert (move.kind, move.quantity, move.on_hand_after, move.reason, move.actor) == (
        "receipt",
        2,
        3,
        "DN-20261201-07",
        shop["users"]["desk"],
    )
    units = StockUnit.objects.filter(part=screen, location=center, status="in_stock")
    assert sorted(units.values_list("serial", flat=True)) == ["SCR-NEW-1", "SCR-NEW-2", "SCR-OLD-1"]


def test_manager_adjusts_a_level_and_a_missing_reason_or_too_big_a_cut_changes_nothing(staff_page, shop):
    from parts.models import StockMove

    center = shop["center"]
    battery = battery_of(center, 5)
    level = StockLevel.objects.get(location=center, part=battery)
    manager = staff(center, "manager", username="mgr")
    page = staff_page(manager)
    page.goto("/admin/parts/stocklevel/")
    page.locator("#result_list tbody tr", has_text="P60-BAT").locator(".adjust-link").click()
    page.wait_for_url(re.compile(rf"/admin/parts/stocklevel/{level.pk}/adjust/$"))
    assert "调整 SC-E2E 的 P60-BAT（现有 5）" in page.locator("#content").inner_text()

    # No reason: the form says so next to the field; nothing is booked.
    page.locator("#id_delta").fill("-2")
    page.locator("#id_reason").fill("   ")
    with page.expect_navigation():
        page.locator("#stock-form [type=submit]").click()
    assert "必填" in page.locator("#stock-form .errorlist").inner_text()  # Django's "This field is required."
    level.refresh_from_db()
    assert level.on_hand == 5
    assert not StockMove.objects.filter(part=battery, kind="adjust").exists()

    # Taking off more than is on the shelf: the service's refusal is shown; nothing is booked.
    page.locator("#id_delta").fill("-9")
    page.locator("#id_reason").fill("盘亏")
    with page.expect_navigation():
        page.locator("#stock-form [type=submit]").click()
    assert "除已预留外，在库只有 5 件" in page.locator("#form-errors").inner_text()
    level.refresh_from_db()
    assert level.on_hand == 5
    assert not StockMove.objects.filter(part=battery, kind="adjust").exists()

    # Two batteries were dropped: -2 with the reason is booked.
    page.locator("#id_delta").fill("-2")
    page.locator("#id_reason").fill("跌落损坏两块")
    with page.expect_navigation():
        page.locator("#stock-form [type=submit]").click()
    assert "库存已调整" in page.locator(".messagelist .success").inner_text()
    level.refresh_from_db()
    assert level.on_hand == 3
    move = StockMove.objects.get(location=center, part=battery, kind="adjust")
    assert (move.quantity, move.on_hand_after, move.reason, move.actor) == (-2, 3, "跌落损坏两块", manager)


def test_manager_sets_a_reorder_point_and_the_suggested_order_is_the_selectors(staff_page, shop):
    """Usage over the last 30 days (8 fitted) outweighs the point plus order quantity (4 + 2), so the suggestion is
    usage - available - incoming; an older consumption and another center's do not count."""
    from parts import selectors, services
    from parts.models import ReorderPoint, StockMove
    from servicehub.actors import SYSTEM

    center, hub = shop["center"], shop["hub"]
    battery = battery_of(center, 2)
    stock(hub, battery, 3)
    services.transfer_ship(
        actor=SYSTEM,
        from_location_id=hub.pk,
        to_location_id=center.pk,
        part_id=battery.pk,
        quantity=1,
        seal_no="SEAL-BAT-1",
    )  # incoming: 1
    now = timezone.now()
    fitted = {"part": battery, "kind": "consume", "on_hand_after": 0, "reserved_after": 0}
    for days_ago, quantity, where in ((2, 3, center), (10, 5, center), (45, 7, center), (3, 4, hub)):
        StockMove.objects.create(location=where, quantity=quantity, at=now - dt.timedelta(days=days_ago), **fitted)

    manager = staff(center, "manager", username="mgr")
    page = staff_page(manager)
    page.goto("/admin/parts/reorderpoint/")
    page.locator("#reorder-set-link").click()
    page.wait_for_url(re.compile(r"/admin/parts/reorderpoint/set/$"))
    page.locator("#id_location").select_option(str(center.pk))
    page.locator("#id_part").select_option(str(battery.pk))
    page.locator("#id_min_available").fill("4")
    page.locator("#id_reorder_qty").fill("2")
    with page.expect_navigation():
        page.locator("#stock-form [type=submit]").click()
    assert "补货点已保存" in page.locator(".messagelist .success").inner_text()
    point = ReorderPoint.objects.get(location=center, part=battery)
    assert (point.min_available, point.reorder_qty) == (4, 2)

    page.locator("#suggested-link").click()
    page.wait_for_url(re.compile(r"/admin/parts/reorderpoint/suggested/$"))
    page.locator("#id_location").select_option(str(center.pk))
    with page.expect_navigation():
        page.locator("#location-form [type=submit]").click()
    row = page.locator("#suggested-orders tbody tr", has_text="P60-BAT")
    cells = row.locator("td").all_inner_texts()  # used, available, incoming, reorder point, suggested

    (expected,) = [r for r in selectors.reorder_suggestions(location_id=center.pk) if r["part_id"] == battery.pk]
    assert (expected["used"], expected["available"], expected["incoming"]) == (8, 2, 1)
    assert expected["suggested"] == 8 - 2 - 1  # max(4 + 2, 8) - available - incoming
    assert cells == [
        str(expected["used"]),
        str(expected["available"]),
        str(expected["incoming"]),
        str(expected["reorder_point"]),
        str(expected["suggested"]),
    ]
    assert row.locator(".suggested").inner_text() == "5"


def test_hq_opens_stock_by_region_from_the_stock_list_and_sees_each_provinces_figures(staff_page, shop):
    from centers.choices import RegionLevel
    from centers.models import StaffMembership
    from parts import selectors
    from parts.models import StockMove
    from tests.factories.centers import RegionFactory
    from tests.factories.users import StaffUserFactory

    center, hub = shop["center"], shop["hub"]
    gd = RegionFactory(adcode="440000000000", name="广东省", level=RegionLevel.PROVINCE)
    gz = RegionFactory(adcode="440100000000", name="广州市", level=RegionLevel.CITY, parent=gd)
    tianhe = RegionFactory(adcode="440106000000", name="天河区", level=RegionLevel.COUNTY, parent=gz)
    canton = ServiceCenterFactory(code="SC-GZ", name="广州天河服务中心", region=tianhe)
    battery = battery_of(center, 4)
    stock(hub, battery, 6)
    stock(canton, battery, 3)
    StockMove.objects.create(
        location=canton, part=battery, kind="consume", quantity=2, on_hand_after=1, reserved_after=0, at=timezone.now()
    )
    # The Shanghai ticket waits for a screen (none at the center): one ticket waiting, one stock-out row.
    a = shop["actors"]
    run(shop["ticket"], ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}), ("approve", a["desk"]))
    assert PartReservation.objects.get(ticket=shop["ticket"]).status == "awaiting"

    hq = StaffUserFactory(username="hq")
    hq.save()
    StaffMembership.objects.create(user=hq, center=None, role="hq")
    page = staff_page(hq)
    page.locator('#content-main a[href="/admin/parts/stocklevel/"]').first.click()
    page.wait_for_url(re.compile(r"/admin/parts/stocklevel/$"))
    page.locator("#stock-by-region-link").click()
    page.wait_for_url(re.compile(r"/admin/parts/stocklevel/by-region/$"))
    assert "各地区配件库存与等待" in page.locator("#content").inner_text()

    rows = {r["region"]: r for r in selectors.stock_by_region(actor=actor_for_user(hq))}
    assert set(rows) == {"上海市", "广东省"}
    assert (rows["上海市"]["on_hand"], rows["上海市"]["waiting"]) == (10, 1)
    assert (rows["广东省"]["on_hand"], rows["广东省"]["used"]) == (3, 2)
    for region, r in rows.items():
        tr = page.locator("#stock-by-region tbody tr", has=page.locator("th", has_text=region))
        wait = "—" if r["avg_wait_hours"] is None else f"{r['avg_wait_hours']} h"
        assert tr.locator("td").all_inner_texts() == [
            str(r["on_hand"]),
            str(r["reserved"]),
            str(r["used"]),
            str(r["stock_outs"]),
            str(r["waiting"]),
            wait,
        ]
    summary = selectors.parts_dashboard(center_ids=None)
    assert page.locator("#summary-waiting").inner_text() == str(summary["waiting"]) == "1"
    assert page.locator("#summary-stock-outs").inner_text() == str(summary["stock_outs"])
