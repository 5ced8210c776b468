"""The public repair board: masked, bounded, polled, and cheap in queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ops.selectors import BOARD_ROWS_PER_STAGE
from tests.cachecalls import record_cache_calls
from tests.factories.centers import ServiceCenterFactory
from tests.factories.ops import ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def center():
    return ServiceCenterFactory(code="SHBOARD1", name="上海南京东路服务中心")


def test_board_shows_stages_masked_names_and_last_four_only(client, center):
    # given tickets in every board stage, one delivered and one at another center
    now = timezone.now()
    ticket(
        center,
        status="received",
        name="王小明",
        phone="+8613812345678",
        service_no="SH2026031001A1",
        stage_started_at=now - dt.timedelta(minutes=75),
    )
    ticket(center, status="diagnosing", name="李雷", service_no="SH2026031001B2", stage_started_at=now)
    ticket(center, status="awaiting_parts", name="欧阳娜娜", service_no="SH2026031001C3", stage_started_at=now)
    ticket(center, status="ready", name="John Smith", service_no="SH2026031001D4", stage_started_at=now)
    ticket(center, status="delivered", name="赵六", service_no="SH2026031001E5")
    ticket(ServiceCenterFactory(code="SHOTHER1"), status="received", name="钱七", service_no="SH2026031001F6")

    # when an anonymous visitor opens the board
    response = client.get(f"/board/{center.code}/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for masked in ("王*明", "李*", "欧**娜", "J**n S***h"):
        assert masked in html
    for private in ("王小明", "李雷", "欧阳娜娜", "John Smith", "13812345678", "5678</", "+86"):
        assert private not in html
    for full_no in ("SH2026031001A1", "SH2026031001B2", "SH2026031001C3", "SH2026031001D4"):
        assert full_no not in html
    assert "…01A1" in html and "…01D4" in html
    assert "1 h 15 min" in html  # time in stage
    assert html.count("ticket-ready") == 1  # only the ready one is highlighted
    assert "01E5" not in html and "01F6" not in html  # delivered / other center: not on this board
    assert 'hx-get="/board/SHBOARD1/body/"' in html and 'hx-trigger="every 10s"' in html
    assert '<meta http-equiv="refresh"' in html  # no-JS fallback (inside <noscript>)
    assert "/static/ops/htmx.min.js" in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_board_body_is_only_the_swappable_part(client, center):
    ticket(center, status="repairing", name="王小明")
    response = client.get(f"/board/{center.code}/body/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<head" not in html and "hx-get" not in html
    assert "王*明" in html and "王小明" not in html


def test_board_rows_are_bounded_per_stage_with_a_more_count(client, center):
    now = timezone.now()
    for i in range(BOARD_ROWS_PER_STAGE + 4):
        ticket(center, status="received", stage_started_at=now - dt.timedelta(minutes=i))
    html = client.get(f"/board/{center.code}/body/").content.decode()
    section = html.split("column-received")[1].split("</section>")[0]
    assert section.count('<li class="ticket') == BOARD_ROWS_PER_STAGE
    assert "+4 more" in section
    # longest waiting first: 11 minutes is at the top
    assert section.index("11 min") < section.index("4 min")


def test_board_query_count_does_not_grow_with_the_queue(client, center, django_assert_num_queries):
    now = timezone.now()
    for status in ("received", "diagnosing", "repairing", "ready"):
        ticket(center, status=status, stage_started_at=now)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/board/{center.code}/body/")
    assert len(small.captured_queries) == 3  # center, counts per status, first rows per status
    for status in ("received", "diagnosing", "repairing", "awaiting_parts", "quality_check", "ready") * 5:
        ticket(center, status=status, stage_started_at=now)
    with django_assert_num_queries(2):  # center cached; counts changed -> rows again
        client.get(f"/board/{center.code}/body/")
    with django_assert_num_queries(1):  # nothing changed: the counts query alone, columns from the cache
        client.get(f"/board/{center.code}/body/")


def test_a_change_shows_on_the_next_poll_despite_the_cache(client, center):
    """The cached columns are keyed by the board's fingerprint: any ticket change invalidates them."""
    from repairs.models import RepairTicket

    t = ticket(center, status="received", name="李小红", stage_started_at=timezone.now())
    html = client.get(f"/board/{center.code}/body/").content.decode()
    assert "李*红" in html.split("column-received")[1].split("</section>")[0]
    assert client.get(f"/board/{center.code}/body/").content.decode() == html  # served from the cache
    # A transition saves the ticket (updated_at moves): same count per status would not hide it.
    t.status = "diagnosing"
    t.save()
    html = client.get(f"/board/{center.code}/body/").content.decode()
    assert "李*红" not in html.split("column-received")[1].split("</section>")[0]
    assert "李*红" in html.split("column-diagnosing")[1].split("</section>")[0]
    # Same status, new stage (e.g. a re-diagnosis): updated_at alone changes the fingerprint.
    RepairTicket.objects.filter(pk=t.pk).update(
        stage_started_at=timezone.now() - dt.timedelta(minutes=42), updated_at=timezone.now() + dt.timedelta(seconds=1)
    )
    assert "42 min" in client.get(f"/board/{center.code}/body/").content.decode()


def test_deactivating_the_center_closes_its_board_at_once(client, center, django_capture_on_commit_callbacks):
    from centers.services import center_deactivate

    assert client.get(f"/board/{center.code}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the version bump runs after the commit
        center_deactivate(center_id=center.pk)
    assert client.get(f"/board/{center.code}/").status_code == 404


def test_unknown_or_closed_center_is_404(client, center):
    assert client.get("/board/NOPE/").status_code == 404
    center.active = False
    center.save()
    assert client.get(f"/board/{center.code}/").status_code == 404
    assert client.get(f"/board/{center.code}/body/").status_code == 404


def test_board_accepts_head_for_the_self_reload_probe(client, center):
    assert client.head(f"/board/{center.code}/").status_code == 200
    assert client.post(f"/board/{center.code}/").status_code == 405


def test_the_board_state_query_compiled_once_counts_each_center_by_its_own_id(center):
    """``board_state`` reuses one compiled SQL with the center's id put in: each center gets its own counts."""
    from ops import selectors

    other = ServiceCenterFactory(code="SHBOARD2")
    now = timezone.now()
    for status in ("received", "received", "ready"):
        ticket(center, status=status, stage_started_at=now)
    ticket(other, status="diagnosing", stage_started_at=now)
    ticket(other, status="delivered")  # not on a board

    first = selectors.board_state(center_id=center.pk)
    compiled = dict(selectors._BOARD_STATE_SQL)
    second = selectors.board_state(center_id=other.pk)

    assert [(status, n) for status, n, _last in first] == [("ready", 1), ("received", 2)]
    assert [(status, n) for status, n, _last in second] == [("diagnosing", 1)]
    assert selectors._BOARD_STATE_SQL == compiled  # the second center did not compile it again
    assert selectors.board_state(center_id=ServiceCenterFactory(code="SHBOARD3").pk) == []


def test_board_page_reuses_the_body_the_tvs_polled(client, center, django_assert_num_queries):
    """The page and its body share one cached HTML: after a poll, opening the page costs the counts query."""
    ticket(center, status="repairing", name="王小明", stage_started_at=timezone.now())
    body = client.get(f"/board/{center.code}/body/").content.decode()
    with django_assert_num_queries(1):
        page = client.get(f"/board/{center.code}/").content.decode()
    assert body.strip() in page  # the same body, not escaped
    assert "&lt;" not in page.split('id="board-body"')[1]


def test_the_cached_body_follows_the_language(client, center):
    ticket(center, status="ready", stage_started_at=timezone.now())
    zh = client.get(f"/board/{center.code}/body/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    en = client.get(f"/board/{center.code}/body/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Updated" in en and "Updated" not in zh


def test_the_boards_center_is_read_with_its_version_in_one_round_trip(client, center, monkeypatch):
    """A poll: the center's version and the cached center in one get_many, the body in one get; an entry cached
    under another version is read again from the database (the control: under the current one it is used)."""
    from django.core.cache import cache

    from centers.selectors import cache_code, center_cache_version
    from ops.selectors import board_center

    client.get(f"/board/{center.code}/body/")
    calls = record_cache_calls(monkeypatch, cache, ("get", "get_many", "set", "set_many", "add"))
    assert client.get(f"/board/{center.code}/body/").status_code == 200
    assert calls.names == ["get_many", "get"]
    key = f"ops:board-center:{cache_code(center.code)}"
    version = center_cache_version(code=center.code)
    cache.set(key, (version, center.pk, center.code, "Cached Name"), 60)
    assert board_center(code=center.code).name == "Cached Name"  # the control: the cache is what is read
    cache.set(key, ("another-version", center.pk, center.code, "Stale Name"), 60)
    assert board_center(code=center.code).name == "上海南京东路服务中心"
    assert cache.get(key)[0] == version  # and it is cached again under the current version
