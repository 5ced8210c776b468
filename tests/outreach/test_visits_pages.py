"""The desk page and the visits API (issue #22, visits): one tap records, refusals in words, undo, fixed query
counts whatever the number of visits, scopes and problem codes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach import visits
from outreach.models import PerkRedemption, Visit

from .visits_fixtures import PHONE, desk, hq_user  # noqa: F401

pytestmark = pytest.mark.django_db

DESK = "/admin/outreach/visit/desk/"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_desk_page_query_count_does_not_grow_with_visits(client, desk):  # noqa: F811
    login(client, desk["users"]["desk"])
    visits.visit_record(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, service="water")
    one = _queries(client, DESK)
    for i in range(25):
        visits.visit_record(
            actor=desk["actors"]["desk"], center_id=desk["sd"].pk, service="tea" if i % 2 else "charging", count=2
        )
    assert _queries(client, DESK) == one <= 12


def test_one_tap_records_a_visit_and_the_page_counts_it(client, desk):  # noqa: F811
    login(client, desk["users"]["desk"])
    assert 'href="/admin/outreach/visit/desk/"' in client.get("/admin/outreach/visit/").content.decode()
    page = client.get(DESK).content.decode()
    assert 'id="svc-uv_disinfection"' in page and 'id="desk-service-day"' in page
    response = client.post(DESK, {"center": "SC-SD", "service": "cool_rest", "count": "4"})
    assert response.status_code == 302
    v = Visit.objects.get()
    assert (v.service.code, v.count, v.center, v.during_service_day) == ("cool_rest", 4, desk["sd"], True)
    page = client.get(DESK).content.decode()
    assert 'id="count-cool_rest">4<' in page and 'id="desk-total">4<' in page
    assert f'name="undo" value="{v.pk}"' in page


def test_a_second_perk_is_refused_in_words_and_undo_voids(client, desk):  # noqa: F811
    login(client, desk["users"]["desk"])
    client.post(DESK, {"center": "SC-SD", "service": "free_screen_film", "phone": PHONE})
    response = client.post(DESK, {"center": "SC-SD", "service": "free_screen_film", "phone": PHONE}, follow=True)
    assert "already had the free Screen film during this Service Day" in response.content.decode()
    assert Visit.objects.count() == 1
    v = Visit.objects.get()
    client.post(DESK, {"center": "SC-SD", "undo": str(v.pk)})
    v.refresh_from_db()
    assert v.status == "voided" and PerkRedemption.objects.get().active is False


def test_hq_picks_a_center_and_an_engineer_has_no_desk(client, desk):  # noqa: F811
    login(client, hq_user())
    page = client.get(DESK).content.decode()
    assert 'id="desk-no-center"' in page and 'value="SC-PL"' in page and 'id="svc-water"' not in page
    assert 'id="svc-water"' in client.get(DESK + "?center=SC-PL").content.decode()
    login(client, desk["users"]["eng"])
    assert client.get(DESK).status_code == 403


# --- API ----------------------------------------------------------------------------------------------


def test_api_records_and_refuses_a_second_perk(staff_key_client, desk):  # noqa: F811
    api = staff_key_client(desk["users"]["desk"], scopes=["visits:write", "visits:read"])
    body = {"center": "SC-SD", "service": "free_screen_film", "phone": PHONE}
    first = api.post("/api/v1/visits/", body, format="json")
    assert first.status_code == 201, first.content
    assert (first.json()["perk"], first.json()["during_service_day"], first.json()["center"]) == (True, True, "SC-SD")
    second = api.post("/api/v1/visits/", body, format="json")
    assert (second.status_code, second.json()["code"]) == (409, "perk_already_used")
    group = api.post("/api/v1/visits/", {"center": "SC-SD", "service": "water", "count": 4}, format="json")
    assert group.status_code == 201 and group.json()["count"] == 4
    summary = api.get("/api/v1/visits/summary/", {"center": "SC-SD", "date": timezone.localdate().isoformat()})
    assert summary.status_code == 200
    data = summary.json()
    counts = {s["service"]: s["visits"] for s in data["services"]}
    assert (counts["free_screen_film"], counts["water"], data["total"], data["during_service_day"]) == (1, 4, 5, True)


def test_api_scopes_roles_and_centers(staff_key_client, key_client, desk):  # noqa: F811
    body = {"center": "SC-SD", "service": "water"}
    no_scope = staff_key_client(desk["users"]["desk"], scopes=["tickets:read"])
    assert no_scope.post("/api/v1/visits/", body, format="json").status_code == 403
    eng = staff_key_client(desk["users"]["eng"], scopes=["visits:write"])
    response = eng.post("/api/v1/visits/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    other = staff_key_client(desk["users"]["plain_desk"], scopes=["visits:write", "visits:read"])
    assert other.post("/api/v1/visits/", body, format="json").status_code == 404
    assert other.get("/api/v1/visits/summary/", {"center": "SC-SD"}).status_code == 404
    assert other.get("/api/v1/visits/summary/", {"center": "SC-PL", "date": "2026-13-01"}).status_code == 400
    bad = staff_key_client(desk["users"]["desk"], scopes=["visits:write"])
    response = bad.post("/api/v1/visits/", {"center": "SC-SD", "service": "water", "count": 0}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert Visit.objects.count() == 0


def test_api_summary_query_count_is_fixed(staff_key_client, desk):  # noqa: F811
    api = staff_key_client(desk["users"]["desk"], scopes=["visits:read"])
    visits.visit_record(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, service="water")

    def n():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/visits/summary/", {"center": "SC-SD"}).status_code == 200
        return len(ctx.captured_queries)

    n()  # the key's first use is recorded once
    one = n()
    for _i in range(15):
        visits.visit_record(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, service="tea")
    assert n() == one <= 12
