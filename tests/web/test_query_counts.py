"""Every public page runs a fixed number of SQL queries, whatever the data (issue #17).

Each page is measured twice: on a small network and after adding many more centers, hours,
exceptions and tickets, and the counts must be the same exact number both times. The counts
include the cache-miss work: each test starts with an empty cache (``tests/conftest.py``);
where a page caches something, the warm count is asserted as well.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking import services as booking_services
from centers.models import OpeningException
from tests.factories.booking import SlotRuleFactory, booking_input, local, open_center, tomorrow
from tests.factories.centers import region_chain
from tests.factories.ops import ticket as board_ticket
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

pytestmark = pytest.mark.django_db

SCREEN = {"lines": [{"repair": "screen"}]}


def _count(client, url, **kwargs):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _grow(center, n=25):
    """More of everything around ``center``: centers nearby with hours, exceptions, open tickets."""
    today = timezone.localdate()
    for i in range(n):
        other = open_center(name=f"Extra center {i}", lat=31.2 + i / 1000, lng=121.4 + i / 1000)
        OpeningException.objects.create(center=other, date=today + dt.timedelta(days=i % 5), closed=True)
    for i in range(5):
        OpeningException.objects.create(
            center=center, date=today + dt.timedelta(days=i + 1), closed=False, opens=dt.time(10), closes=dt.time(16)
        )
    for status in ("received", "diagnosing", "repairing", "quality_check", "ready") * (n // 5):
        board_ticket(center, status=status, stage_started_at=timezone.now())


@pytest.fixture
def net(db):
    _province, _city, county = region_chain()
    county.lat, county.lng = 31.23, 121.47
    county.save()
    center = open_center(name="Huangpu Center", lat=31.231, lng=121.471, region=county)
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    board_ticket(center, status="received", stage_started_at=timezone.now())
    return {"center": center, "model": model}


PAGES = {
    "home": lambda c: "/",
    "centers form": lambda c: "/centers/",
    "centers near me": lambda c: "/centers/?lat=31.2300&lng=121.4700",
    "centers by place name": lambda c: "/centers/?q=上海市黄浦区",
    "centers by county name": lambda c: "/centers/?q=黄浦区",
    "centers by name": lambda c: "/centers/?q=Huangpu",
    "center detail": lambda c: f"/centers/{c.code}/",
    "book: choose a center": lambda c: "/book/",
    "book: choose a time": lambda c: f"/book/?center={c.code}",
    "book: another day": lambda c: f"/book/?center={c.code}&date={(tomorrow() + dt.timedelta(days=1)).isoformat()}",
    "mail-in": lambda c: "/mail-in/",
    "on-site": lambda c: "/on-site/",
    "warranty": lambda c: "/warranty/",
    "track form": lambda c: "/track/",
    "board": lambda c: f"/board/{c.code}/",
    "board body": lambda c: f"/board/{c.code}/body/",
}

# Exact counts on a cold cache (and, after the arrow, on a warm one where the page caches).
EXPECTED = {
    "home": 0,
    "centers form": 0,
    "centers near me": 3,  # centers by distance, their hours, their dated exceptions (next opening)
    "centers by place name": 5,  # region by exact name, cpca's region, centers, hours, exceptions
    "centers by county name": 4,  # region by exact name, centers, hours, exceptions; 0 when cached
    "centers by name": 4,  # region by exact name (none), centers by name, hours, exceptions
    "center detail": 4,  # center + hours + exceptions + Service Days; 0 when cached
    "book: choose a center": 0,  # a search box: no list of centers until the customer searches
    "book: choose a time": 7,
    "book: another day": 7,
    "mail-in": 1,
    "on-site": 2,
    "warranty": 0,
    "track form": 0,
    "board": 3,  # center, counts per status, rows; then 1 (counts) when unchanged
    "board body": 3,
}
WARM = {
    "center detail": 0,
    "board": 1,
    "board body": 1,
    "centers by county name": 0,  # web.find: the page of places under the directory version
    "centers by place name": 2,  # cpca's reading of an address is not cached: the two region look-ups
}


@pytest.mark.parametrize("name", list(PAGES))
def test_public_page_query_count_is_fixed(client, net, name):
    center = net["center"]
    SlotRuleFactory(center=center, weekday=tomorrow().weekday())
    url = PAGES[name](center)
    small = _count(client, url)
    _grow(center)
    from django.core.cache import cache

    cache.clear()
    large = _count(client, url)
    assert (small, large) == (EXPECTED[name], EXPECTED[name])
    assert _count(client, url) == WARM.get(name, EXPECTED[name])


# --- the tracking page: at most 5 queries whatever it shows -----------------------------------


@pytest.fixture
def people(net):
    from servicehub.actors import actor_for_user

    center = net["center"]
    return {
        "desk": actor_for_user(staff(center, "front_desk")),
        "eng": actor_for_user(staff(center, "engineer", certified=True)),
    }


def _old_device(model):
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))


def _track(client, t, last4):
    return _count(client, f"/track/{t.service_no}/", data={"phone_last4": last4})


def _states(net, people):
    """Tickets in the states the page shows differently: booked (appointment), quoted, delivered."""
    center, model = net["center"], net["model"]
    day = tomorrow()
    data = booking_input(model=model)
    booked = booking_services.appointment_book(center=center, start=local(day, 10), **data).ticket
    quoted = run(
        walk_in(center, people["desk"], device=_old_device(model), phone="13812345678"),
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], SCREEN),
    )
    received = walk_in(center, people["desk"], device=_old_device(model), phone="13812340000")
    return [(booked, booked.customer.phone[-4:]), (quoted, "5678"), (received, "0000")]


def test_tracking_page_is_at_most_5_queries_whatever_it_shows(client, net, people):
    from django.core.cache import cache

    SlotRuleFactory(center=net["center"], weekday=tomorrow().weekday())
    states = _states(net, people)
    cold_small, warm_small = [], []
    for t, last4 in states:
        cache.clear()
        cold_small.append(_track(client, t, last4))
        warm_small.append(_track(client, t, last4))
    # Cold: the ticket with its version columns, the timeline, then only the parts the ticket has
    # (booked: the appointment row; quoted: the quote lines) and the week's hours (cached per center
    # version). Warm (web.tracking: the parts cached per ticket version): the ticket query alone.
    assert cold_small == [4, 4, 3]
    assert warm_small == [1, 1, 1]
    _grow(net["center"])
    cache.clear()  # the same counts at the larger size; the center's hours are read once for all three
    assert [_track(client, t, last4) for t, last4 in states] == [4, 3, 2]
    assert [_track(client, t, last4) for t, last4 in states] == [1, 1, 1]


def test_tracking_page_of_a_delivered_repair_with_the_survey_open_is_5_queries(client, net, people):
    from repairs.models import RepairTicket

    t = walk_in(net["center"], people["desk"], device=_old_device(net["model"]), phone="13812345678")
    RepairTicket.objects.filter(pk=t.pk).update(status="delivered")
    assert _track(client, t, "5678") == 3  # ticket (+ versions), timeline, the week's hours
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(f"/track/{t.service_no}/", {"phone_last4": "5678"}).content.decode()
    assert len(ctx.captured_queries) == 1
    assert "Rate this repair" in html
