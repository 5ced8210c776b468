"""Staff pages for stock at the counter: receive, adjust, reorder points and suggested orders, stock counts.

Each page costs a fixed number of queries, each POST does what its service does (checked in the database),
bad input shows readable words and writes nothing, and another center's staff cannot reach the rows."""

import pytest
from django.test import Client

from parts.choices import CountStatus
from parts.models import ReorderPoint, StockCount, StockLevel, StockMove
from tests.factories.centers import ServiceCenterFactory
from tests.factories.parts import stock
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


def login(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def other(db):
    """A manager of another center."""
    return staff(ServiceCenterFactory(code="SC999"), "manager")


def _level(center, part):
    return StockLevel.objects.get(location=center, part=part)


def test_receive_page_and_post(center, people, battery, screen, django_assert_num_queries):
    c = login(people["desk"].user)
    with django_assert_num_queries(RECEIVE_GET):
        r = c.get("/admin/parts/stocklevel/receive/")
    assert r.status_code == 200
    assert 'id="receive-link"' in c.get("/admin/parts/stocklevel/").content.decode()
    r = c.post(
        "/admin/parts/stocklevel/receive/",
        {"location": center.pk, "part": battery.pk, "quantity": "3", "reference": "DN-1"},
    )
    assert r.status_code == 302
    assert _level(center, battery).on_hand == 3
    move = StockMove.objects.get(part=battery, location=center)
    assert (move.kind, move.quantity, move.reason) == ("receipt", 3, "DN-1")
    # a serial-tracked part needs one serial per unit: readable words, nothing written
    r = c.post(
        "/admin/parts/stocklevel/receive/",
        {"location": center.pk, "part": screen.pk, "quantity": "2", "serials": "S-1"},
    )
    assert r.status_code == 200
    assert "Enter one serial per unit of this part." in r.content.decode()
    assert not StockMove.objects.filter(part=screen).exists()
    r = c.post(
        "/admin/parts/stocklevel/receive/",
        {"location": center.pk, "part": screen.pk, "quantity": "2", "serials": "S-1\nS-2"},
    )
    assert r.status_code == 302
    assert _level(center, screen).on_hand == 2


def test_receive_page_names_the_parts_in_the_staff_language(people, battery):
    c = login(people["desk"].user)
    c.cookies["django_language"] = "zh-hans"
    page = c.get("/admin/parts/stocklevel/receive/").content.decode()
    assert f'<option value="{battery.pk}">{battery.part_number} P60 电池</option>' in page
    c.cookies["django_language"] = "en"
    page = c.get("/admin/parts/stocklevel/receive/").content.decode()
    assert f'<option value="{battery.pk}">{battery.part_number} P60 battery</option>' in page


def test_receive_refuses_another_centers_location(center, battery, other):
    r = login(other).post(
        "/admin/parts/stocklevel/receive/", {"location": center.pk, "part": battery.pk, "quantity": "1"}
    )
    assert r.status_code == 200
    assert "Select a valid choice" in r.content.decode()
    assert not StockMove.objects.exists()


def test_adjust_page_and_post(center, people, battery, other, django_assert_num_queries):
    stock(center, battery, 5)
    level = _level(center, battery)
    url = f"/admin/parts/stocklevel/{level.pk}/adjust/"
    c = login(people["manager"].user)
    with django_assert_num_queries(ADJUST_GET):
        assert c.get(url).status_code == 200
    r = c.post(url, {"delta": "-2", "reason": ""})
    assert r.status_code == 200 and "This field is required." in r.content.decode()
    r = c.post(url, {"delta": "-9", "reason": "broken"})
    assert "Only 5 are on hand beyond the reserved ones." in r.content.decode()
    assert _level(center, battery).on_hand == 5
    r = c.post(url, {"delta": "-2", "reason": "dropped"})
    assert r.status_code == 302
    assert _level(center, battery).on_hand == 3
    assert StockMove.objects.filter(kind="adjust", quantity=-2, reason="dropped").count() == 1
    # front desk may see but not change the books; another center does not see the row
    r = login(people["desk"].user).post(url, {"delta": "-1", "reason": "x"})
    assert "Your role may not change the stock of this location." in r.content.decode()
    assert login(other).get(url).status_code == 404
    assert _level(center, battery).on_hand == 3


def test_reorder_point_set_and_suggestions(center, people, battery, other, django_assert_num_queries):
    stock(center, battery, 1)
    c = login(people["manager"].user)
    with django_assert_num_queries(SET_GET):
        assert c.get("/admin/parts/reorderpoint/set/").status_code == 200
    data = {"location": center.pk, "part": battery.pk, "min_available": "3", "reorder_qty": "0"}
    r = c.post("/admin/parts/reorderpoint/set/", data)
    assert r.status_code == 200 and not ReorderPoint.objects.exists()
    r = c.post("/admin/parts/reorderpoint/set/", {**data, "reorder_qty": "4"})
    assert r.status_code == 302
    point = ReorderPoint.objects.get(location=center, part=battery)
    assert (point.min_available, point.reorder_qty) == (3, 4)
    edit = f"/admin/parts/reorderpoint/set/?location={center.pk}&part={battery.pk}"
    assert 'value="4"' in c.get(edit).content.decode()
    assert login(other).get(edit).status_code == 404
    r = c.post("/admin/parts/reorderpoint/set/", {**data, "reorder_qty": "6"})
    assert ReorderPoint.objects.get().reorder_qty == 6
    url = f"/admin/parts/reorderpoint/suggested/?location={center.pk}"
    with django_assert_num_queries(SUGGEST_GET):
        r = c.get(url)
    html = r.content.decode()
    assert battery.part_number in html and '<td class="suggested">8</td>' in html  # 3 + 6 - 1 available
    assert "Select a valid choice" in login(other).get(url).content.decode()


def test_stock_count_open_record_close(center, people, battery, other, django_assert_num_queries):
    stock(center, battery, 5)
    c = login(people["manager"].user)
    with django_assert_num_queries(OPEN_GET):
        assert c.get("/admin/parts/stockcount/open/").status_code == 200
    r = c.post("/admin/parts/stockcount/open/", {"location": center.pk})
    assert r.status_code == 302
    count = StockCount.objects.get(location=center)
    url = f"/admin/parts/stockcount/{count.pk}/change/"
    r = c.post("/admin/parts/stockcount/open/", {"location": center.pk})
    assert "A count of this location is already open." in r.content.decode()
    with django_assert_num_queries(COUNT_GET):
        assert c.get(url).status_code == 200
    field = f"counted-{battery.pk}"
    r = c.post(url, {field: "-1", "save": "1"})
    assert r.status_code == 400 and "enter a whole number, zero or more" in r.content.decode()
    r = c.post(url, {field: "", "close": "1"})
    assert "Count every line before closing." in r.content.decode()
    assert c.post(url, {field: "4", "save": "1"}).status_code == 302
    assert count.lines.get().counted == 4
    assert login(other).get(url).status_code == 404
    assert c.post(url, {field: "3", "close": "1"}).status_code == 302
    count.refresh_from_db()
    assert count.status == CountStatus.CLOSED
    assert _level(center, battery).on_hand == 3
    assert StockMove.objects.filter(kind="adjust", quantity=-2).count() == 1


def test_a_refused_close_keeps_nothing(center, people, battery):
    stock(center, battery, 5)
    c = login(people["manager"].user)
    c.post("/admin/parts/stockcount/open/", {"location": center.pk})
    count = StockCount.objects.get()
    desk = login(people["desk"].user)
    r = desk.post(f"/admin/parts/stockcount/{count.pk}/change/", {f"counted-{battery.pk}": "2", "close": "1"})
    assert "Your role may not change the stock of this location." in r.content.decode()
    assert count.lines.get().counted is None
    assert count.status == CountStatus.OPEN and _level(center, battery).on_hand == 5


RECEIVE_GET = 7
ADJUST_GET = 6
SET_GET = 7
OPEN_GET = 6
SUGGEST_GET = 11
COUNT_GET = 7
