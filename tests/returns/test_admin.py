"""The 三包 box on the ticket workspace: the two posts, readable errors, fixed query counts."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from returns.models import Inspection, ReturnDecision
from tests.factories.warranty import make_imei, shanghai

pytestmark = pytest.mark.django_db

SOLD = shanghai(2026, 3, 1, 23, 59)


def login(user):
    c = Client()
    c.force_login(user)
    return c


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_box_posts_inspection_then_decision(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 6, 9, 0))
    eng, desk = login(shop["users"]["eng"]), login(shop["users"]["desk"])
    page = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
    body = desk.get(page).content.decode()
    assert 'id="returns-box"' in body and 'id="returns-decide"' not in body  # no inspection yet
    r = eng.post(
        reverse("admin:returns_returndecision_inspect", args=[ticket.pk]),
        {"finding": "performance_fault", "findings": "Reboots"},
    )
    assert r.status_code == 302 and Inspection.objects.get().performance_fault
    r = desk.post(
        reverse("admin:returns_returndecision_decide", args=[ticket.pk]),
        {"kind": "exchange", "reason": "wants a new one", "replacement_imei": "123"},
    )
    assert [str(m) for m in get_messages(r.wsgi_request)] == ["An IMEI has exactly 15 digits."]
    assert not ReturnDecision.objects.exists()
    imei = make_imei()
    desk.post(
        reverse("admin:returns_returndecision_decide", args=[ticket.pk]),
        {"kind": "exchange", "reason": "wants a new one", "replacement_imei": imei},
    )
    body = desk.get(page).content.decode()
    assert imei in body and "Day 5 of the 15-day exchange period" in body


def test_liquid_damage_is_recorded_and_the_decision_form_stays_closed(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 3, 9, 0))
    login(shop["users"]["eng"]).post(
        reverse("admin:returns_returndecision_inspect", args=[ticket.pk]),
        {"finding": "liquid_damage", "findings": "Corrosion"},
    )
    assert Inspection.objects.get().exclusion == "liquid_damage"
    body = login(shop["users"]["desk"]).get(reverse("admin:repairs_repairticket_change", args=[ticket.pk]))
    assert 'id="returns-decide"' not in body.content.decode()


def test_workspace_with_the_box_runs_fixed_queries(shop, claim):
    ticket = claim(sold=SOLD, raised=shanghai(2026, 3, 6, 9, 0))
    desk = login(shop["users"]["desk"])
    page = reverse("admin:repairs_repairticket_change", args=[ticket.pk])
    inspect = reverse("admin:returns_returndecision_inspect", args=[ticket.pk])
    eng = login(shop["users"]["eng"])
    eng.post(inspect, {"finding": "performance_fault", "findings": "1"})
    one = _count(lambda: desk.get(page))
    for n in range(4):
        eng.post(inspect, {"finding": "none", "findings": str(n)})
    assert _count(lambda: desk.get(page)) == one
