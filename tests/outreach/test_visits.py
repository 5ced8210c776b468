"""Quick visits at the desk (issue #22, visits): recording, the Service-Day / new-store-month stamps and perks,
one free perk per phone per period, undo within two minutes, the guest book, the selectors and HQ figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from centers.models import ServiceDay
from centers.selectors import center_promotion_on
from ops.figures import FIGURES, Ctx
from ops.periods import Period
from outreach import visit_selectors as sel
from outreach import visits
from outreach.models import GuestBookEntry, PerkRedemption, Visit, VisitService, VisitStatus
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

from .visits_fixtures import PHONE, desk  # noqa: F401

pytestmark = pytest.mark.django_db


def record(d, who="desk", center="sd", **kw):
    return visits.visit_record(actor=d["actors"][who], center_id=d[center].pk, **kw)


def code_of(call) -> str:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.code


# --- recording and the stamps -----------------------------------------------------------------------


def test_an_ordinary_day_visit_is_any_brand_with_no_device_and_no_perk(desk):  # noqa: F811
    v = record(desk, "plain_desk", "plain", service="uv_disinfection", any_brand=True, brand="Apple")
    assert (v.during_service_day, v.during_new_store_month, v.perk, v.imei) == (False, False, False, "")
    assert (v.any_brand, v.brand, v.count, v.staff, v.status) == (
        True,
        "Apple",
        1,
        desk["users"]["plain_desk"],
        "recorded",
    )
    # A perk service on an ordinary day is just a visit: no phone asked, nothing consumed.
    film = record(desk, "plain_desk", "plain", service="free_screen_film")
    assert film.perk is False and PerkRedemption.objects.count() == 0


def test_a_service_day_visit_is_stamped_from_the_one_selector(desk):  # noqa: F811
    v = record(desk, service="water", count=4)
    assert v.during_service_day is True and v.count == 4 and v.perk is False
    assert center_promotion_on(center=desk["sd"], day=v.day).service_day is not None
    ServiceDay.objects.filter(center=desk["sd"]).update(active=False)  # the center opted out of today
    assert record(desk, service="water").during_service_day is False


def test_a_brand_alone_marks_the_device_as_another_brand(desk):  # noqa: F811
    assert record(desk, service="uv_disinfection", brand="OPPO").any_brand is True


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"service": "nope"}, "service"),
        ({"service": "water", "count": 0}, "count"),
        ({"service": "water", "count": 501}, "count"),
        ({"service": "water", "count": "x"}, "count"),
        ({"service": "uv_disinfection", "imei": "12ab"}, "imei"),
        ({"service": "free_screen_film"}, "phone"),  # a free perk needs the phone
        ({"service": "free_screen_film", "phone": "123"}, "phone"),
        ({"service": "free_screen_film", "phone": PHONE, "count": 2}, "count"),  # one person per perk
    ],
)
def test_malformed_visits_are_refused_on_their_field(desk, kw, field):  # noqa: F811
    with pytest.raises(DomainError) as exc:
        record(desk, **kw)
    assert (exc.value.code, exc.value.field) == ("validation_error", field)
    assert Visit.objects.count() == 0


def test_only_the_centers_desk_and_managers_record(desk):  # noqa: F811
    assert code_of(lambda: record(desk, "eng", service="water")) == "permission_denied"
    assert code_of(lambda: record(desk, "plain_desk", "sd", service="water")) == "not_found"
    assert record(desk, "manager", service="water").pk


# --- perks --------------------------------------------------------------------------------------------


def test_one_free_screen_film_per_phone_per_service_day(desk):  # noqa: F811
    first = record(desk, service="free_screen_film", phone=PHONE)
    assert first.perk is True
    r = PerkRedemption.objects.get()
    today = timezone.localdate()
    assert (r.visit, r.phone_last4, r.period, r.active) == (first, "5678", f"sd:{today:%Y-%m}", True)
    assert PHONE not in r.phone_hash and len(r.phone_hash) == 64  # the number itself is not stored
    # the same phone written differently, at another desk: refused, readable
    with pytest.raises(DomainError) as exc:
        record(desk, "desk2", service="free_screen_film", phone="+86 138 1234 5678")
    assert (exc.value.code, exc.value.status) == ("perk_already_used", 409)
    assert "Service Day" in exc.value.message
    assert Visit.objects.count() == 1
    # another phone, or another perk for the same phone: free
    assert record(desk, service="free_screen_film", phone="13912345678").perk is True
    assert record(desk, service="cleaning", phone=PHONE).perk is True


def test_a_perk_the_service_day_does_not_list_is_not_free(desk):  # noqa: F811
    ServiceDay.objects.filter(center=desk["sd"]).update(perks=["labor_waived", "free_screen_film"])
    v = record(desk, service="cleaning")
    assert v.during_service_day is True and v.perk is False


def test_the_new_store_month_gives_the_perks_once_per_phone_at_that_store(desk):  # noqa: F811
    today = timezone.localdate()
    new = ServiceCenterFactory(code="SC-NEW", opened_on=today - dt.timedelta(days=3))
    other = ServiceCenterFactory(code="SC-NEW2", opened_on=today - dt.timedelta(days=29))
    old = ServiceCenterFactory(code="SC-OLD", opened_on=today - dt.timedelta(days=30))
    users = {c.code: actor_for_user(staff(c, "front_desk")) for c in (new, other, old)}
    v = visits.visit_record(actor=users["SC-NEW"], center_id=new.pk, service="free_screen_film", phone=PHONE)
    assert (v.during_new_store_month, v.during_service_day, v.perk) == (True, False, True)
    assert PerkRedemption.objects.get().period == f"ns:{new.pk}"
    again = lambda: visits.visit_record(  # noqa: E731
        actor=users["SC-NEW"], center_id=new.pk, service="free_screen_film", phone=PHONE
    )
    with pytest.raises(DomainError) as exc:
        again()
    assert exc.value.code == "perk_already_used" and "new-store month" in exc.value.message
    # another new store's month is its own; a store past its 30 days gives nothing
    assert visits.visit_record(actor=users["SC-NEW2"], center_id=other.pk, service="free_screen_film", phone=PHONE).perk
    late = visits.visit_record(actor=users["SC-OLD"], center_id=old.pk, service="free_screen_film")
    assert (late.during_new_store_month, late.perk) == (False, False)


# --- undo ---------------------------------------------------------------------------------------------


def test_undo_within_two_minutes_voids_and_frees_the_perk(desk):  # noqa: F811
    v = record(desk, service="free_screen_film", phone=PHONE)
    done = visits.visit_void(actor=desk["actors"]["desk"], visit_id=v.pk, now=v.at + dt.timedelta(seconds=119))
    assert done.status == VisitStatus.VOIDED and done.voided_at is not None
    assert Visit.objects.filter(pk=v.pk).exists()  # never deleted
    assert PerkRedemption.objects.get().active is False
    assert record(desk, service="free_screen_film", phone=PHONE).perk is True  # the perk is free again
    assert code_of(lambda: visits.visit_void(actor=desk["actors"]["desk"], visit_id=v.pk)) == "already_voided"


def test_undo_is_refused_late_or_by_someone_else(desk):  # noqa: F811
    v = record(desk, service="water")
    late = v.at + dt.timedelta(seconds=121)
    assert code_of(lambda: visits.visit_void(actor=desk["actors"]["desk"], visit_id=v.pk, now=late)) == "void_too_late"
    assert code_of(lambda: visits.visit_void(actor=desk["actors"]["desk2"], visit_id=v.pk)) == "permission_denied"
    assert code_of(lambda: visits.visit_void(actor=desk["actors"]["plain_desk"], visit_id=v.pk)) == "not_found"
    assert visits.visit_void(actor=desk["actors"]["manager"], visit_id=v.pk).status == "voided"


# --- guest book -------------------------------------------------------------------------------------


def test_the_guest_book_keeps_the_message_and_counts_a_visit(desk):  # noqa: F811
    entry = visits.guest_book_write(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, message="服务很好，谢谢！")
    assert (entry.name, entry.message, entry.center) == ("", "服务很好，谢谢！", desk["sd"])
    assert Visit.objects.get().service.code == "guest_book"
    assert (
        code_of(lambda: visits.guest_book_write(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, message=" "))
        == "validation_error"
    )
    assert GuestBookEntry.objects.count() == 1


# --- selectors and figures ----------------------------------------------------------------------------


def test_todays_counts_are_people_and_leave_voided_taps_out(desk, django_assert_num_queries):  # noqa: F811
    record(desk, service="water", count=4)
    record(desk, service="water")
    v = record(desk, service="charging")
    visits.visit_void(actor=desk["actors"]["desk"], visit_id=v.pk)
    record(desk, "plain_desk", "plain", service="water", count=7)  # another center
    with django_assert_num_queries(1):
        summary = sel.visits_summary(center_id=desk["sd"].pk, day=timezone.localdate())
    counts = {s["service"]: s["visits"] for s in summary["services"]}
    assert (counts["water"], counts["charging"], counts["tea"], summary["total"]) == (5, 0, 0, 5)
    assert len(counts) == len(visits.CATALOG)


def _ctx(center_ids=None):
    today = timezone.localdate()
    return Ctx.build(center_ids=center_ids, period=Period(today - dt.timedelta(days=29), today))


def test_hq_reach_compares_service_days_with_ordinary_days(desk, django_assert_max_num_queries):  # noqa: F811
    record(desk, service="water", count=4)
    record(desk, service="free_screen_film", phone=PHONE)
    record(desk, "plain_desk", "plain", service="tea", count=2)
    yesterday = timezone.now() - dt.timedelta(days=1)
    visits.visit_record(actor=desk["actors"]["desk"], center_id=desk["sd"].pk, service="tea", now=yesterday)
    with django_assert_max_num_queries(2):
        table = FIGURES["hq"]["service_day_reach"](_ctx())
    rows = {r["region"]: r for r in table.rows}
    province = desk["sd"].province.name
    assert desk["plain"].province.name == province  # one province in the factories: both centers in one row
    assert (rows[province]["service_day"], rows[province]["ordinary"]) == (5, 3)
    assert rows[province]["service_day_share"] == 62.5
    summary = {str(k): v for k, v in table.summary.items()}
    # Service-Day: 5 people on 1 center-day; ordinary: 3 people on 2 center-days (the plain center today, sd yesterday)
    assert summary["Per center and Service Day"] == 5.0 and summary["Per center and ordinary day"] == 1.5
    assert "<svg" in str(table.chart)
    # a manager's view holds their centers only
    mine = FIGURES["hq"]["service_day_reach"](_ctx(frozenset({desk["plain"].pk})))
    assert [(r["service_day"], r["ordinary"]) for r in mine.rows] == [(0, 2)]


def test_visits_by_service_and_day_and_the_center_dashboard(desk):  # noqa: F811
    record(desk, service="water", count=4)
    record(desk, service="free_screen_film", phone=PHONE)
    record(desk, service="free_screen_film", phone="13912345678")
    table = FIGURES["hq"]["visits_by_service"](_ctx())
    rows = {r["service"]: r for r in table.rows}
    assert (rows["Drinking water"]["visits"], rows["Drinking water"]["perks"]) == (4, 0)
    assert (rows["Screen film"]["visits"], rows["Screen film"]["perks"]) == (2, 2)
    chart = str(table.chart)
    assert "<svg" in chart and ("polyline" in chart or "circle" in chart)
    front = FIGURES["front"]["visits_today"](_ctx(frozenset({desk["sd"].pk})))
    assert {r["service"]: r["visits"] for r in front.rows} == {"Screen film": 2, "Drinking water": 4}


def test_figure_queries_do_not_grow_with_visits(desk, django_assert_num_queries):  # noqa: F811
    record(desk, service="water")

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as q:
            for board, key in (("hq", "service_day_reach"), ("hq", "visits_by_service"), ("front", "visits_today")):
                FIGURES[board][key](_ctx())
        return len(q.captured_queries)

    small = count()
    for i in range(20):
        record(desk, "plain_desk", "plain", service="tea" if i % 2 else "cool_rest", count=1 + i % 3)
    assert count() == small <= 5


def test_demo_seeds_the_catalog_and_visits_once(desk):  # noqa: F811
    import io
    import random

    from outreach import demo

    for _ in range(2):
        demo.seed(out=io.StringIO(), options={"rng": random.Random(1)})
    demo_visits = Visit.objects.filter(note=demo.DEMO_NOTE)
    assert demo_visits.exists() and demo_visits.filter(during_service_day=True).exists()
    first = demo_visits.count()
    demo.seed(out=io.StringIO(), options={"rng": random.Random(2)})
    assert demo_visits.count() == first
    assert set(VisitService.objects.values_list("name_zh", flat=True)) >= {"贴膜", "紫外线消毒（任何品牌）", "留言簿"}
