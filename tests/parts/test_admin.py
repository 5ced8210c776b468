"""Staff pages of parts: scoped to the staff member's locations, actions through the services, and query
counts that do not grow with the rows shown."""

import io

import pytest
from django.test import Client

from parts import demo
from parts.models import (
    MakerReturnBatch,
    OperationPart,
    Part,
    ReplenishmentRequest,
    StockLevel,
    StockMove,
    StockTransfer,
)
from tests.factories.parts import PartFactory, stock
from tests.factories.repairs import run, walk_in

pytestmark = pytest.mark.django_db


def login(user):
    c = Client()
    c.force_login(user)
    return c


def _parts(center, model, n, start=0):
    for i in range(start, start + n):
        part = PartFactory(part_number=f"ADM-{i:03d}")
        part.device_models.add(model)
        stock(center, part, 2)


PAGES = [
    "/admin/parts/stocklevel/",
    "/admin/parts/stockmove/",
    "/admin/parts/stocklevel/by-region/",
    "/admin/parts/replenishmentrequest/",
    "/admin/parts/stocktransfer/",
    "/admin/parts/makerreturnbatch/",
    "/admin/parts/part/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_cost_the_same_with_more_rows(center, people, model, url, django_assert_max_num_queries):
    c = login(people["manager"].user)
    _parts(center, model, 2)
    with django_assert_max_num_queries(30) as small:
        assert c.get(url).status_code == 200
    _parts(center, model, 15, start=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get(url).status_code == 200


def test_stock_pages_show_only_the_staff_members_locations(center, hub, people, battery):
    stock(center, battery, 2)
    stock(hub, battery, 7)
    body = login(people["desk"].user).get("/admin/parts/stocklevel/").content.decode()
    assert center.code in body or center.name in body
    assert hub.name not in body
    assert StockLevel.objects.count() == 2


def test_ledger_is_read_only_in_the_admin(center, people, battery):
    stock(center, battery, 1)
    move = StockMove.objects.get()
    c = login(people["manager"].user)
    assert c.post(f"/admin/parts/stockmove/{move.pk}/delete/", {"post": "yes"}).status_code == 403
    assert c.get("/admin/parts/stockmove/add/").status_code == 403
    assert StockMove.objects.count() == 1


def test_ship_action_needs_a_seal_and_then_ships(center, hub, people, old_device, battery):
    stock(hub, battery, 2)
    t = walk_in(center, people["desk"], device=old_device)
    run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "battery"}]}),
        ("approve", people["desk"]),
    )
    req = ReplenishmentRequest.objects.get()
    c = login(people["hub"].user)
    data = {"action": "ship", "_selected_action": [req.pk], "seal_no": "", "index": 0}
    r = c.post("/admin/parts/replenishmentrequest/", data, follow=True)
    assert "Enter the seal number of the parcel." in r.content.decode()
    assert StockTransfer.objects.count() == 0
    c.post("/admin/parts/replenishmentrequest/", {**data, "seal_no": "S-1"})
    assert StockTransfer.objects.get().seal_no == "S-1"
    # The center's desk receives it; the ticket resumes.
    c = login(people["desk"].user)
    transfer = StockTransfer.objects.get()
    r = c.post(
        "/admin/parts/stocktransfer/", {"action": "receive", "_selected_action": [transfer.pk], "index": 0}, follow=True
    )
    assert "1 repair(s) resumed" in r.content.decode()
    t.refresh_from_db()
    assert t.status == "repairing"


def test_batch_actions(center, people, battery):
    stock(center, battery, 1)
    from parts import services

    services.stock_return_defective(actor=people["desk"], location_id=center.pk, part_id=battery.pk, reason="swollen")
    batch = MakerReturnBatch.objects.get()
    c = login(people["desk"].user)
    c.post(
        "/admin/parts/makerreturnbatch/", {"action": "ship", "_selected_action": [batch.pk], "number": "X", "index": 0}
    )
    batch.refresh_from_db()
    assert batch.status == "open"  # not sealed yet: refused
    c.post(
        "/admin/parts/makerreturnbatch/",
        {"action": "seal", "_selected_action": [batch.pk], "number": "SEAL", "index": 0},
    )
    batch.refresh_from_db()
    assert (batch.status, batch.seal_no) == ("sealed", "SEAL")


def test_demo_seed_is_idempotent(center, hub, ops):
    out = io.StringIO()
    demo.seed(out=out, options={})
    parts, levels, moves = Part.objects.count(), StockLevel.objects.count(), StockMove.objects.count()
    assert parts == 5  # screen, battery, mainboard (new + refurbished), camera
    assert OperationPart.objects.count() == 5
    camera = Part.objects.get(kind="camera")
    assert StockLevel.objects.get(location=center, part=camera).on_hand == 0  # the demo stock-out
    assert StockLevel.objects.get(location=hub, part=camera).on_hand == 20
    demo.seed(out=out, options={})
    assert (Part.objects.count(), StockLevel.objects.count(), StockMove.objects.count()) == (parts, levels, moves)
