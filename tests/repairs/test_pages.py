"""Public tracking pages: form, repair page, signed quote decision link."""

import pytest
from django.test import Client

from repairs.models import Quote
from repairs.tracking import quote_decision_token
from tests.factories.repairs import run, walk_in

pytestmark = pytest.mark.django_db

SCREEN = {"lines": [{"repair": "screen"}]}


@pytest.fixture
def quoted_ticket(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device, phone="13812345678", name="王小明")
    return run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], SCREEN))


def test_track_form_redirects_to_the_repair_page(client):
    assert client.get("/track/").status_code == 200
    r = client.get("/track/", {"service_no": "abcd-efgh23", "phone_last4": "5678"})
    assert r.status_code == 302
    assert r["Location"] == "/track/ABCDEFGH23/?phone_last4=5678"


def test_repair_page_shows_status_timeline_quote_and_buttons(client, quoted_ticket):
    r = client.get(f"/track/{quoted_ticket.service_no}/", {"phone_last4": "5678"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "We need your OK for the quote before we repair." in html
    assert "王*明" in html and "138****5678" in html
    assert "13812345678" not in html
    assert "659.00" in html
    # A digits lookup shows the quote; deciding asks for an SMS code first (no approval token here).
    assert 'name="decision" value="approve"' not in html
    assert 'name="t"' not in html
    assert r.context["token"] is None
    assert "Send me a code" in html
    assert quoted_ticket.center.name in html
    assert "repairs/_track_extras.html" not in html  # included, not printed
    names = [t.name for t in r.templates]
    assert "repairs/track_detail.html" in names and "repairs/_track_extras.html" in names
    # The quote's table and the timeline are rendered with the cached parts, before the page, on a first view.
    assert names.index("repairs/_timeline.html") < names.index("repairs/track_detail.html")
    assert "659.00" in html.split('class="quote-box"')[1] and '<ol class="parcel">' in html


def test_wrong_phone_and_unknown_number_look_the_same(client, quoted_ticket):
    wrong = client.get(f"/track/{quoted_ticket.service_no}/", {"phone_last4": "0000"})
    unknown = client.get("/track/ZZZZZZZZZZ/", {"phone_last4": "5678"})
    assert wrong.status_code == unknown.status_code == 404
    assert "We found no repair with this number and phone digits." in wrong.content.decode()
    assert "We found no repair with this number and phone digits." in unknown.content.decode()


def test_customer_approves_through_the_signed_link(quoted_ticket):
    c = Client(enforce_csrf_checks=False)
    # The link of the quote_ready SMS (sent to the customer's own phone).
    token = quote_decision_token(ticket=quoted_ticket, quote=Quote.objects.get(ticket=quoted_ticket))
    page = c.get(f"/track/{quoted_ticket.service_no}/quote/", {"t": token})
    assert page.status_code == 200
    assert page.context["token"] == token
    r = c.post(f"/track/{quoted_ticket.service_no}/quote/", {"t": token, "decision": "approve"})
    assert r.status_code == 200
    assert "the repair will start now" in r.content.decode()
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "repairing"
    ev = quoted_ticket.events.get(action="approve")
    assert ev.actor_label == "customer" and ev.actor is None


def test_customer_declines(client, quoted_ticket):
    token = quote_decision_token(ticket=quoted_ticket, quote=Quote.objects.get(ticket=quoted_ticket))
    client.post(f"/track/{quoted_ticket.service_no}/quote/", {"t": token, "decision": "decline"})
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "returning"


def test_forged_expired_or_foreign_token_is_refused(client, quoted_ticket, settings, center, people, old_device):
    quote = Quote.objects.get(ticket=quoted_ticket)
    other = walk_in(center, people["desk"], device=old_device, phone="13900001111")
    foreign = quote_decision_token(ticket=other, quote=quote)
    for token in ("garbage", foreign):
        r = client.post(f"/track/{quoted_ticket.service_no}/quote/", {"t": token, "decision": "approve"})
        assert r.status_code == 404
    settings.SERVICEHUB = {**settings.SERVICEHUB, "SIGNED_LINK_MAX_AGE": -1}
    token = quote_decision_token(ticket=quoted_ticket, quote=quote)
    assert (
        client.post(f"/track/{quoted_ticket.service_no}/quote/", {"t": token, "decision": "approve"}).status_code == 404
    )
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "awaiting_approval"


def test_link_to_a_superseded_quote_cannot_approve_the_new_one(client, quoted_ticket, people):
    old_token = quote_decision_token(ticket=quoted_ticket, quote=Quote.objects.get(ticket=quoted_ticket))
    run(quoted_ticket, ("send_quote", people["eng"], {"lines": [{"repair": "screen"}, {"repair": "camera"}]}))
    r = client.post(f"/track/{quoted_ticket.service_no}/quote/", {"t": old_token, "decision": "approve"})
    assert r.status_code == 410
    assert "replaced by a newer version" in r.content.decode()
    quoted_ticket.refresh_from_db()
    assert quoted_ticket.status == "awaiting_approval"
    assert Quote.objects.get(ticket=quoted_ticket, version=2).status == "pending"


def test_page_lookups_are_throttled(client, quoted_ticket):
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "tracking": "2/min"}
    try:
        codes = [client.get("/track/ZZZZZZZZZZ/", {"phone_last4": "1111"}).status_code for _i in range(3)]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [404, 404, 429]
