"""The ticket workspace (the staff page of one ticket) with the test client: staff words, actions at the
top, masking by role, network history without another center's personal data, the confirmation step,
the quote preview, the query count, and the readable 403 page of the staff site.

The browser journeys (clicking these forms for real) are in tests/e2e/test_staff_ticket.py.
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from repairs.models import Quote, RepairTicket, TicketEvent
from repairs.workspace import format_duration
from servicehub.actors import SYSTEM, actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.loaners import DepositRuleFactory, LoanerFactory
from tests.factories.repairs import run, staff, walk_in

pytestmark = pytest.mark.django_db


def login(user):
    c = Client()
    c.force_login(user)
    return c


def page_of(client, ticket):
    r = client.get(reverse("admin:repairs_repairticket_change", args=[ticket.pk]))
    assert r.status_code == 200
    return r.content.decode()


class _FormDepth(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = self.max_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def max_form_depth(html: str) -> int:
    parser = _FormDepth()
    parser.feed(html)
    return parser.max_depth


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "< 1 min"), (12, "12 min"), (125, "2 h 05 min"), (60 * 24 * 3 + 4 * 60 + 7, "3 d 4 h")],
)
def test_durations_read_as_hours_and_minutes(minutes, text):
    assert format_duration(dt.timedelta(minutes=minutes, seconds=0.03)) == text
    assert format_duration(None) == ""


def test_workspace_speaks_staff_words_with_actions_at_the_top_and_no_nested_form(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device, accessories=["充电器", "手机壳"])
    t = run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], {"lines": [{"repair": "screen"}]}))
    html = page_of(login(people["desk"].user), t)

    assert "Waiting for the customer&#x27;s approval" in html  # staff words, not "waiting for your approval"
    assert "Waiting for your approval" not in html
    assert "充电器, 手机壳" in html and "[&quot;" not in html  # accessories as words, not a JSON list
    assert ">Checked in<" in html and ">Quote sent<" in html  # timeline labels, not codes
    assert ">check_in<" not in html and ">book<" not in html
    assert "Django administration" not in html and "ServiceHub staff" in html
    # the desk records the customer's answer; the approve form carries the quote version it saw
    quote = Quote.objects.get(ticket=t)
    assert 'id="action-approve"' in html and f'name="quote_id" value="{quote.pk}"' in html
    # actions come before the quote and the timeline
    assert html.index('id="ticket-actions"') < html.index('id="ticket-quote"') < html.index('id="ticket-timeline"')
    assert max_form_depth(html) == 1


def test_engineer_sees_the_customer_masked_and_the_desk_in_full(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device, phone="13812345678", name="王小明")
    eng = page_of(login(people["eng"].user), t)
    assert "王*明" in eng and "138****5678" in eng
    assert "王小明" not in eng and "13812345678" not in eng
    desk = page_of(login(people["desk"].user), t)
    assert "王小明" in desk and "+8613812345678" in desk


def test_network_history_shows_another_centers_repair_without_its_customer(center, people, ops, old_device, model):
    other = ServiceCenterFactory(name="北京中心")
    their_desk = actor_for_user(staff(other))
    theirs = walk_in(other, their_desk, device=old_device, phone="13900009999", name="赵六", fault="battery")
    run(theirs, ("cancel", their_desk))
    mine = walk_in(center, people["desk"], device=old_device, phone="13812345678", name="王小明")
    html = page_of(login(people["desk"].user), mine)

    history = html[html.index('id="device-history"') : html.index('id="ticket-customer"')]
    assert "北京中心" in history and "Battery" in history and "Cancelled" in history
    assert theirs.service_no not in html
    assert "赵六" not in html and "赵*" not in html and "9999" not in html


def test_cancel_asks_for_confirmation_first_and_only_the_confirmation_cancels(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    c = login(people["desk"].user)
    url = reverse("admin:repairs_repairticket_transition", args=[t.pk])

    r = c.post(url, {"action": "cancel", "note": "customer changed mind"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="confirm-yes"' in html and 'name="confirmed" value="yes"' in html
    assert 'value="customer changed mind"' in html
    assert max_form_depth(html) == 1
    t.refresh_from_db()
    assert t.status == "received"
    assert TicketEvent.objects.filter(ticket=t, action="cancel").count() == 0

    r = c.post(url, {"action": "cancel", "note": "customer changed mind", "confirmed": "yes"})
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.status == "cancelled"
    event = TicketEvent.objects.get(ticket=t, action="cancel")
    assert (event.actor, event.note) == (people["desk"].user, "customer changed mind")


def test_quote_preview_prices_without_saving_then_send_saves(center, people, ops, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    t = run(t, ("start_diagnosis", people["eng"]))
    c = login(people["eng"].user)
    url = reverse("admin:repairs_repairticket_quote", args=[t.pk])

    r = c.post(url, {"repairs": ["screen", "mainboard"], "refurbished": ["mainboard"], "preview": "1"})
    assert r.status_code == 200
    html = r.content.decode()
    preview = html[html.index('id="quote-preview"') :]
    assert "¥659.00" in preview  # the screen's one-price offer
    assert "¥719.70" in preview and "Refurbished original part with a 90-day warranty." in preview
    assert 'id="preview-total">¥1528.70<' in preview  # 659.00 + 719.70 + 150.00 labor
    assert 'id="quote-send-button"' in html
    assert Quote.objects.filter(ticket=t).count() == 0
    t.refresh_from_db()
    assert t.status == "diagnosing"

    r = c.post(url, {"repairs": ["screen", "mainboard"], "refurbished": ["mainboard"], "send": "1"})
    assert r.status_code == 302
    quote = Quote.objects.get(ticket=t)
    assert (str(quote.total), quote.status) == ("1528.70", "pending")
    t.refresh_from_db()
    assert t.status == "awaiting_approval"


def test_quote_without_a_repair_says_so_and_saves_nothing(center, people, ops, old_device):
    t = run(walk_in(center, people["desk"], device=old_device), ("start_diagnosis", people["eng"]))
    r = login(people["eng"].user).post(reverse("admin:repairs_repairticket_quote", args=[t.pk]), {"preview": "1"})
    assert r.status_code == 400
    assert "Choose at least one repair." in r.content.decode()
    assert Quote.objects.count() == 0


def test_workspace_query_count_with_timeline_quote_and_loan(
    center, people, ops, old_device, django_assert_max_num_queries
):
    DepositRuleFactory()
    LoanerFactory(home_center=center)
    t = walk_in(center, people["desk"], device=old_device)
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": "screen"}]}),
        ("approve", people["desk"]),
    )
    from loaners.services import loan_checkout

    loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=SYSTEM)
    c = login(people["manager"].user)
    c.get(reverse("admin:repairs_repairticket_change", args=[t.pk]))  # warm the session and caches
    # session, user, memberships, ticket, certification, quote lines, statutory policy, plans, loan,
    # timeline, related tickets, catalog, parts per operation, reservations, payments, ledger sums, the
    # two permission reads of the admin, the 三包 inspection and decision, the fapiao box: a query a section.
    with django_assert_max_num_queries(21):
        html = page_of(c, t)
    assert 'id="loan-return"' in html and 'id="ticket-quote"' in html and 'id="hq-dashboard-link"' in html
    assert html.count("<tr><td>") >= 5  # book, check_in, start_diagnosis, send_quote, approve


def test_another_centers_ticket_is_not_found(center, people, old_device):
    other = ServiceCenterFactory()
    theirs = walk_in(other, actor_for_user(staff(other)), device=old_device)
    c = login(people["desk"].user)
    assert c.get(reverse("admin:repairs_repairticket_change", args=[theirs.pk])).status_code == 404
    assert (
        c.post(reverse("admin:repairs_repairticket_quote", args=[theirs.pk]), {"repairs": ["screen"]}).status_code
        == 404
    )
    assert RepairTicket.objects.get(pk=theirs.pk).status == "received"


def test_front_desk_opening_an_hq_page_gets_the_readable_page(center, people):
    c = login(people["desk"].user)
    r = c.get("/admin/ops/hq/", HTTP_REFERER="http://testserver/admin/")
    assert r.status_code == 403
    html = r.content.decode()
    assert "This page is not for your role" in html
    assert '<a href="http://testserver/admin/" id="go-back">' in html
    assert 'href="/admin/"' in html and "ServiceHub staff" in html
    assert "Traceback" not in html and "PermissionDenied" not in html


def test_403_outside_the_staff_site_stays_djangos(rf):
    from django.core.exceptions import PermissionDenied

    from servicehub.admin_site import permission_denied

    r = permission_denied(rf.get("/track/"), PermissionDenied())
    assert r.status_code == 403
    assert b"not for your role" not in r.content


def test_an_expired_form_in_the_staff_site_gets_a_readable_page(center, people, old_device):
    t = walk_in(center, people["desk"], device=old_device)
    c = Client(enforce_csrf_checks=True)
    c.force_login(people["desk"].user)
    r = c.post(reverse("admin:repairs_repairticket_transition", args=[t.pk]), {"action": "start_diagnosis"})
    assert r.status_code == 403
    html = r.content.decode()
    assert "This form has expired" in html and "ServiceHub staff" in html
    assert "CSRF verification failed" not in html
    t.refresh_from_db()
    assert t.status == "received"
