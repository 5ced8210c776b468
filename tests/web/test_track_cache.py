"""The tracking answer is cached per ticket version (web.tracking): every change that shows, shows at once.

Each test warms the cache (API and page), makes one change the way the code makes it, and asserts
the very next request shows it. A control proves the cache is really used (a warm request is one
query, and a write that bypasses every versioned column is NOT seen: the test would catch a cache
that is ignored as well as one that is stale). The cached API answer equals the uncached one.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loaners.selectors import loan_public_summary
from repairs.api.serializers import TrackSerializer
from repairs.models import Quote, RepairTicket, TicketEvent
from repairs.tracking import track_payload
from servicehub.actors import SYSTEM, actor_for_user
from tests.cachecalls import record_cache_calls
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.loaners import LoanerFactory
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

pytestmark = pytest.mark.django_db
SCREEN = {"lines": [{"repair": "screen"}]}


@pytest.fixture
def net(db):
    return network()


def network() -> dict:
    """A center, its desk and a certified engineer, a phone model with its catalog (also tests/web/test_track_warm)."""
    center = open_center(name="Huangpu Center", lat=31.231, lng=121.471)
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    return {
        "center": center,
        "model": model,
        "desk": actor_for_user(staff(center, "front_desk")),
        "eng": actor_for_user(staff(center, "engineer", certified=True)),
    }


def _device(model):
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))


def _api(client, t, last4="5678"):
    r = client.get(f"/api/v1/track/{t.service_no}/", {"phone_last4": last4})
    assert r.status_code == 200
    return r.json()


def _page(client, t, last4="5678"):
    r = client.get(f"/track/{t.service_no}/", {"phone_last4": last4})
    assert r.status_code == 200
    return r.content.decode()


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _warm(client, t, last4="5678"):
    _api(client, t, last4), _page(client, t, last4)
    assert _queries(lambda: _api(client, t, last4)) == 1
    assert _queries(lambda: _page(client, t, last4)) == 1


def test_cached_api_answer_equals_the_uncached_serializer(client, net):
    t = run(
        walk_in(net["center"], net["desk"], device=_device(net["model"])),
        ("start_diagnosis", net["eng"]),
        ("send_quote", net["eng"], SCREEN),
    )
    first = _api(client, t)  # miss: built and stored
    second = _api(client, t)  # hit
    ticket = RepairTicket.objects.get(pk=t.pk)
    payload = track_payload(ticket, loan=loan_public_summary(ticket_id=t.pk))
    payload.pop("quote_awaiting")
    # What the view composes beside repairs' payload (interfaces compose lower apps: docs/architecture.md).
    from logistics.selectors import ticket_shipments
    from payments.selectors import ticket_money

    payload["shipments"] = ticket_shipments(ticket_id=t.pk, customer_legs_only=True)
    payload["amount_due"] = ticket_money(ticket).amount_due
    expected = TrackSerializer(payload).data
    import json

    from rest_framework.renderers import JSONRenderer

    assert first == second == json.loads(JSONRenderer().render(expected))
    assert list(second) == list(TrackSerializer().fields)  # same keys, same order


def test_control_a_write_outside_every_version_is_not_seen(client, net):
    """The control: proves the answer really comes from the cache (so the tests below would fail if
    a change did not move the version). A timeline note edited in place by raw SQL is not versioned."""
    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    _warm(client, t)
    TicketEvent.objects.filter(ticket=t).update(to_status="cancelled")  # no service does this
    assert all(step["status"] != "cancelled" for step in _api(client, t)["timeline"])
    assert RepairTicket.objects.get(pk=t.pk).events.filter(to_status="cancelled").exists()


def test_a_transition_shows_at_once(client, net):
    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    _warm(client, t)
    run(t, ("start_diagnosis", net["eng"]))
    data = _api(client, t)
    assert data["status"] == "diagnosing" and data["timeline"][-1]["status"] == "diagnosing"
    assert "An engineer is finding out what is wrong." in _page(client, t)


def test_a_status_written_without_updated_at_shows_at_once(client, net):
    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    _warm(client, t)
    RepairTicket.objects.filter(pk=t.pk).update(status="delivered")  # the ticket row is never cached
    assert _api(client, t)["status"] == "delivered"
    assert "Rate this repair" in _page(client, t)


def test_quote_sent_approved_revised_and_cancelled_show_at_once(client, net):
    t = run(walk_in(net["center"], net["desk"], device=_device(net["model"])), ("start_diagnosis", net["eng"]))
    _warm(client, t)
    run(t, ("send_quote", net["eng"], SCREEN))
    assert _api(client, t)["quote"]["status"] == "pending"
    assert "Send me a code" in _page(client, t)
    # A status changed by UPDATE without a timestamp (as revisions and cancellations do).
    Quote.objects.filter(ticket=t, status="pending").update(status="declined")
    assert _api(client, t)["quote"]["status"] == "declined"
    assert "Send me a code" not in _page(client, t)
    Quote.objects.filter(ticket=t).update(status="cancelled")
    assert _api(client, t)["quote"] is None


def test_a_loan_checkout_and_its_changes_show_at_once(client, net):
    from loaners import services as loan_services
    from loaners.models import Loan

    LoanerFactory(home_center=net["center"])
    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    _warm(client, t)
    loan = loan_services.loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="card", actor=SYSTEM)
    assert _api(client, t)["loan"]["status"] == "out"
    assert "Loaner phone" in _page(client, t)
    due = timezone.now() + dt.timedelta(days=9)
    Loan.objects.filter(pk=loan.pk).update(due_at=due, updated_at=timezone.now())  # the services' in-place write
    assert _api(client, t)["loan"]["due_at"].startswith(timezone.localtime(due).strftime("%Y-%m-%dT%H:%M"))
    loan_services.loan_return(loan_id=loan.pk, condition="ok", deductions=[], actor=SYSTEM)
    assert _api(client, t)["loan"]["status"] == "returned"
    assert "Returned" in _page(client, t)


def test_an_appointment_change_and_its_center_rename_show_at_once(client, net):
    from booking import services as booking_services
    from booking.models import Appointment
    from tests.factories.booking import SlotRuleFactory

    SlotRuleFactory(center=net["center"], weekday=tomorrow().weekday())
    t = booking_services.appointment_book(
        center=net["center"], start=local(tomorrow(), 10), **booking_input(model=net["model"])
    ).ticket
    last4 = t.customer.phone[-4:]
    _warm(client, t, last4)
    appointment = Appointment.objects.get(ticket=t)
    appointment.status = "cancelled"
    appointment.save()
    assert "Book again" in _page(client, t, last4)
    center = appointment.center
    center.name = "Renamed Center"
    center.save()
    assert "Renamed Center" in _page(client, t, last4)


def test_a_survey_shows_at_once(client, net):
    from booking.models import Survey

    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    RepairTicket.objects.filter(pk=t.pk).update(status="delivered")
    _warm(client, t)
    assert "Rate this repair" in _page(client, t)
    Survey.objects.create(ticket=t, center=net["center"], overall=5, staff=5, speed=5, quality=5)
    assert "Rate this repair" not in _page(client, t)


def test_a_shipment_shows_at_once(client, net):
    from logistics.models import Shipment

    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    RepairTicket.objects.filter(pk=t.pk).update(channel="mail_in")
    _warm(client, t)
    html = _page(client, t)
    assert 'id="leg-customer_to_hub"' in html and "assigned soon" not in html
    shipment = Shipment.objects.create(ticket=t, leg="customer_to_hub")
    assert "assigned soon" in _page(client, t)
    shipment.tracking_no = "SF1234567890"
    shipment.save()
    assert "SF1234567890" in _page(client, t)


def _timeline_items(html: str) -> list[str]:
    return html.split('<ol class="parcel">')[1].split("</ol>")[0].count("<li>")


def test_the_quote_table_and_timeline_html_follow_the_ticket_and_the_language(client, net):
    """The page's quote table and timeline are HTML cached with the parts (per ticket version and language)."""
    t = run(walk_in(net["center"], net["desk"], device=_device(net["model"])), ("start_diagnosis", net["eng"]))
    _warm(client, t)
    steps = _timeline_items(_page(client, t))
    run(t, ("send_quote", net["eng"], SCREEN))
    en = _page(client, t)
    assert _timeline_items(en) == steps + 1 and "Quote (version 1)" in en
    zh = client.get(f"/track/{t.service_no}/", {"phone_last4": "5678"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    zh_html = zh.content.decode()
    assert "报价（版本 1）" in zh_html and "Quote (version 1)" not in zh_html
    assert _timeline_items(zh_html) == steps + 1
    assert "Quote (version 1)" in _page(client, t)  # the English copy was not replaced by the Chinese one
    Quote.objects.filter(ticket=t, status="pending").update(status="declined")
    assert "Declined" in _page(client, t).split('class="quote-box"')[1].split("</caption>")[0]


def test_a_warm_page_reads_the_cache_in_three_round_trips(client, net, monkeypatch):
    """The throttle's history with the number's lock; the parts with the center's cache version; the hours table."""
    from django.core.cache import cache

    t = walk_in(net["center"], net["desk"], device=_device(net["model"]))
    _warm(client, t)
    calls = record_cache_calls(monkeypatch, cache, ("get", "get_many", "set", "set_many", "add"))
    assert "Opening hours, next 7 days" in _page(client, t)
    assert calls.names == ["get_many", "set_many", "get_many", "get_many"], calls
