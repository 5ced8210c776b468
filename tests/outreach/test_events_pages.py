"""Public event pages (list, sign-up, confirmation), the staff door and close pages, and HQ's figure."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ops.figures import FIGURES, Ctx
from ops.periods import Period
from outreach import services
from outreach.models import Event, Registration

from .conftest import make_event

pytestmark = pytest.mark.django_db


def test_list_page_in_constant_queries_with_places_left(place, client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=5)
    services.event_register(event_id=event.pk, name="A", phone="13900000101")
    with django_assert_max_num_queries(3):
        one = client.get("/events/")
    assert one.status_code == 200 and "4 places left" in one.content.decode()
    for n in range(8):
        make_event(place["other"], days=4 + n, title_zh=f"进社区 {n}", title_en=f"Outreach {n}")
    with django_assert_max_num_queries(3):
        many = client.get("/events/?center=SC-OTH")
    html = many.content.decode()
    assert html.count('class="card event"') == 8 and "Outreach 7" in html and "Phone class" not in html


def test_list_page_defaults_to_chinese(place, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    make_event(place["center"])
    html = client.get("/events/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "长者手机课堂" in html and 'lang="zh-hans"' in html


def test_sign_up_on_the_page_shows_the_door_code_only_in_that_session(place, client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=2)
    with django_assert_max_num_queries(6):
        assert client.get(f"/events/{event.pk}/").status_code == 200
    answer = client.post(f"/events/{event.pk}/", {"name": "王阿姨", "phone": "139 0000 0101"})
    assert answer.status_code == 302
    reg = Registration.objects.get()
    page = client.get(answer["Location"]).content.decode()
    assert f'id="door-code">{reg.code}<' in page
    from django.test import Client

    assert Client().get(answer["Location"]).status_code == 404  # the code is not readable by URL alone
    again = client.post(f"/events/{event.pk}/", {"name": "王阿姨", "phone": "13900000101"})
    assert again.status_code == 409 and "already signed up" in again.content.decode()
    bad = client.post(f"/events/{event.pk}/", {"name": "", "phone": "1"})
    assert bad.status_code == 400 and Registration.objects.count() == 1


def test_full_event_page_says_so_without_the_form(place, client):
    event = make_event(place["center"], capacity=1)
    services.event_register(event_id=event.pk, name="A", phone="13900000101")
    html = client.get(f"/events/{event.pk}/").content.decode()
    assert "This event is full." in html and 'id="signup-form"' not in html
    training = make_event(place["center"], kind="staff_training")
    assert client.get(f"/events/{training.pk}/").status_code == 404


def test_page_sign_up_shares_the_api_throttle(place, client):
    event = make_event(place["center"], capacity=50)
    SimpleRateThrottle.THROTTLE_RATES = dict(api_settings.DEFAULT_THROTTLE_RATES, event_signup="1/min")
    assert client.post(f"/events/{event.pk}/", {"name": "A", "phone": "13900000101"}).status_code == 302
    assert client.post(f"/events/{event.pk}/", {"name": "B", "phone": "13900000102"}).status_code == 429
    assert Registration.objects.count() == 1


# --- staff -----------------------------------------------------------------------------------------------


def test_door_finds_by_code_or_last4_and_marks_attended(place, client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=30)
    reg = services.event_register(event_id=event.pk, name="王阿姨", phone="13900000101")
    client.force_login(place["users"]["desk"])
    url = f"/admin/outreach/event/{event.pk}/door/"
    with django_assert_max_num_queries(12) as one:
        page = client.get(url, {"q": reg.code}).content.decode()
    assert f'id="attend-{reg.pk}"' in page and "139****0101" in page
    for n in range(10):
        services.event_register(event_id=event.pk, name=f"P{n}", phone=f"1390000020{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url, {"q": "0101"}).content.decode()
    assert page.count('class="door-match"') == 1
    assert client.post(url, {"registration": reg.pk}).status_code == 302
    reg.refresh_from_db()
    assert reg.status == "attended" and reg.attended_at is not None
    # an id of another event's registration posted to this door marks nothing
    elsewhere = make_event(place["center"], days=6)
    stranger = services.event_register(event_id=elsewhere.pk, name="B", phone="13900000999")
    assert client.post(url, {"registration": stranger.pk}).status_code == 302
    stranger.refresh_from_db()
    assert stranger.status == "registered"
    # another center's desk cannot open the door page
    client.force_login(place["users"]["other_desk"])
    assert client.get(url).status_code == 404


def test_close_page_marks_the_rest_and_writes_results(place, client):
    start = timezone.now() - dt.timedelta(hours=1)
    event = make_event(place["center"], capacity=5)
    came = services.event_register(event_id=event.pk, name="A", phone="13900000101")
    services.event_register(event_id=event.pk, name="B", phone="13900000102")
    Event.objects.filter(pk=event.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))
    services.registration_mark_attended(registration_id=came.pk, actor=place["actors"]["desk"])
    client.force_login(place["users"]["desk"])
    url = f"/admin/outreach/event/{event.pk}/close/"
    assert client.post(url, {"results_note": ""}).status_code == 400
    assert (
        client.post(url, {"results_note": "检测手机 8 台，教会 5 位老人视频通话", "devices_checked": "8"}).status_code
        == 302
    )
    event.refresh_from_db()
    assert (event.status, event.devices_checked) == ("done", 8)
    assert Registration.objects.get(name="B").status == "no_show"


def test_manager_edits_events_desk_only_views(place, client):
    event = make_event(place["center"])
    client.force_login(place["users"]["desk"])
    assert client.get(f"/admin/outreach/event/{event.pk}/change/").status_code == 200  # view only
    assert client.get("/admin/outreach/event/add/").status_code == 403
    client.force_login(place["users"]["manager"])
    assert client.get("/admin/outreach/event/add/").status_code == 200
    client.force_login(place["users"]["other_desk"])
    listing = client.get("/admin/outreach/event/").content.decode()
    assert "长者手机课堂" not in listing


# --- HQ -------------------------------------------------------------------------------------------------


def test_hq_figure_events_sign_ups_and_attendance_by_kind_and_month(place, django_assert_max_num_queries):
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    first = today.replace(day=1)
    at = dt.datetime.combine(first, dt.time(9), tzinfo=tz)
    held = make_event(
        place["center"], starts_at=at + dt.timedelta(days=400), ends_at=at + dt.timedelta(days=400, hours=2)
    )
    regs = [services.event_register(event_id=held.pk, name=f"P{n}", phone=f"1390000030{n}") for n in range(4)]
    services.registration_mark_attended(registration_id=regs[0].pk, actor=place["actors"]["desk"])
    services.registration_mark_attended(registration_id=regs[1].pk, actor=place["actors"]["desk"])
    services.registration_mark_attended(registration_id=regs[2].pk, actor=place["actors"]["desk"])
    Event.objects.filter(pk=held.pk).update(starts_at=at, ends_at=at + dt.timedelta(hours=2), status="done")
    Registration.objects.filter(pk=regs[3].pk).update(status="no_show")
    make_event(
        place["center"],
        kind="community_outreach",
        starts_at=at + dt.timedelta(days=1),
        ends_at=at + dt.timedelta(days=1, hours=3),
    )
    make_event(
        place["center"], kind="community_outreach", status="cancelled", starts_at=at, ends_at=at + dt.timedelta(hours=1)
    )
    ctx = Ctx.build(center_ids=None, period=Period(first, first + dt.timedelta(days=27)))
    with django_assert_max_num_queries(2):
        table = FIGURES["hq"]["outreach_events"](ctx)
    month = first.strftime("%Y-%m")
    rows = {r["kind"]: r for r in table.rows}
    assert rows["customer_class"] | {} == {
        **rows["customer_class"],
        "month": month,
        "events": 1,
        "held": 1,
        "sign_ups": 4,
        "attended": 3,
        "rate": 75.0,
    }
    assert (rows["community_outreach"]["events"], rows["community_outreach"]["held"]) == (1, 0)
    assert rows["community_outreach"]["rate"] is None
    assert "<svg" in str(table.chart)
    scoped = FIGURES["hq"]["outreach_events"](Ctx.build(center_ids=frozenset({place["other"].pk}), period=ctx.period))
    assert scoped.rows == []


def test_staff_lists_and_close_page_in_constant_queries(place, client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=30)
    services.event_register(event_id=event.pk, name="A", phone="13900000101")
    client.force_login(place["users"]["manager"])
    pages = ["/admin/outreach/event/", "/admin/outreach/registration/", f"/admin/outreach/event/{event.pk}/close/"]
    counts = {}
    for url in pages:
        with django_assert_max_num_queries(20) as ctx:
            assert client.get(url).status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    for n in range(6):
        other = make_event(place["center"], days=5 + n)
        services.event_register(event_id=other.pk, name=f"P{n}", phone=f"1390000040{n}")
        services.event_register(event_id=event.pk, name=f"Q{n}", phone=f"1390000050{n}")
    for url in pages:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200, url


def test_confirmation_page_in_constant_queries(place, client, django_assert_max_num_queries):
    event = make_event(place["center"], capacity=30)
    answer = client.post(f"/events/{event.pk}/", {"name": "王阿姨", "phone": "13900000101"})
    with django_assert_max_num_queries(4):
        assert client.get(answer["Location"]).status_code == 200
