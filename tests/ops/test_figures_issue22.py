"""HQ figures of issue #22 items 4, 6, 7: accessibility sessions and needs served, fake-store reports handled
(by status, median time to a decision), hotline callbacks by outcome; each in a fixed number of queries, with a
chart, HQ-only where the data belongs to no center."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services as booking_services
from booking.models import CallbackRequest
from centers.models import StoreReport
from ops.figures import FIGURES, Ctx
from ops.periods import Period
from outreach.models import SignLanguageSession
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


def _period():
    today = timezone.localdate()
    return Period(today - dt.timedelta(days=5), today + dt.timedelta(days=5))


def test_accessibility_figure_counts_sessions_by_status_and_needs_served(django_assert_max_num_queries):
    center = open_center(code="SC-ACC")
    other = open_center(code="SC-ACC2")
    a = booking_services.appointment_book(
        center=center, start=local(tomorrow(), 10), needs={"sign_language": True}, **booking_input()
    )
    booking_services.appointment_book(
        center=center, start=local(tomorrow(), 11), needs={"sign_language": True, "wheelchair": True}, **booking_input()
    )
    booking_services.appointment_book(
        center=other, start=local(tomorrow(), 11), needs={"elderly_assistance": True}, **booking_input()
    )
    booking_services.appointment_cancel(appointment_id=a.pk)
    ctx = Ctx.build(center_ids=None, period=_period())
    with django_assert_max_num_queries(2):
        table = FIGURES["hq"]["accessibility_sessions"](ctx)
    rows = {r["what"]: r for r in table.rows}
    assert rows["Sign-language sessions: Scheduled"]["n"] == 1
    assert rows["Sign-language sessions: Cancelled"]["n"] == 1
    assert (rows["Sign-language video service"]["n"], rows["Wheelchair access"]["n"]) == (2, 1)
    assert rows["Elderly assistance"]["n"] == 1
    assert rows["Wheelchair access"]["served"] == 0  # booked, not checked in yet
    assert "<svg" in str(table.chart)
    scoped = FIGURES["hq"]["accessibility_sessions"](Ctx.build(center_ids=frozenset({other.pk}), period=ctx.period))
    scoped_rows = {r["what"]: r for r in scoped.rows}
    assert scoped_rows["Sign-language video service"]["n"] == 0 and scoped_rows["Elderly assistance"]["n"] == 1
    assert SignLanguageSession.objects.count() == 2


def test_store_reports_figure_by_status_with_the_median_time_to_decide(django_assert_max_num_queries):
    now = timezone.now()

    def report(status, hours):
        r = StoreReport.objects.create(name="假店", address="上海市黄浦区南京东路1号", note="卖翻新机", status=status)
        handled = now if hours is not None else None
        StoreReport.objects.filter(pk=r.pk).update(created_at=now - dt.timedelta(hours=hours or 1), handled_at=handled)

    report("new", None)
    report("investigating", 2)
    report("confirmed_unofficial", 10)
    report("dismissed", 20)
    report("official_after_all", 30)
    ctx = Ctx.build(center_ids=None, period=_period())
    with django_assert_max_num_queries(1):
        table = FIGURES["hq"]["store_reports"](ctx)
    counts = {r["status"]: r["n"] for r in table.rows}
    assert counts == {
        "New": 1,
        "Investigating": 1,
        "Confirmed unofficial": 1,
        "Official after all": 1,
        "Dismissed": 1,
    }
    summary = {str(k): v for k, v in table.summary.items()}
    assert summary["Decided"] == 3 and summary["Median hours to a decision"] == 20.0
    assert "<svg" in str(table.chart)
    scoped = FIGURES["hq"]["store_reports"](Ctx.build(center_ids=frozenset({1}), period=ctx.period))
    assert scoped.rows == [] and "HQ" in scoped.note


def test_callbacks_figure_by_outcome(django_assert_max_num_queries):
    center = open_center(code="SC-CBF")
    desk = staff(center, "front_desk", username="cbfdesk")
    from servicehub.actors import actor_for_user

    actor = actor_for_user(desk)
    made = [
        booking_services.callback_request_create(
            name=f"客户{i}", phone=f"1390001{i:04d}", topic="repair", preferred_window="morning"
        )
        for i in range(4)
    ]
    booking_services.callback_outcome_log(callback_id=made[0].pk, outcome="resolved", actor=actor)
    booking_services.callback_outcome_log(callback_id=made[1].pk, outcome="no_answer", actor=actor)
    booking_services.callback_outcome_log(callback_id=made[1].pk, outcome="no_answer", actor=actor)
    booking_services.callback_outcome_log(callback_id=made[2].pk, outcome="wrong_number", note="空号", actor=actor)
    ctx = Ctx.build(center_ids=None, period=_period())
    with django_assert_max_num_queries(1):
        table = FIGURES["hq"]["callbacks_by_outcome"](ctx)
    counts = {r["outcome"]: r["n"] for r in table.rows}
    assert counts["Resolved on the phone"] == 1 and counts["Wrong number"] == 1
    assert counts["Still open"] == 2 and counts["Follow-up booked"] == 0
    summary = {str(k): v for k, v in table.summary.items()}
    assert (summary["Calls without an answer"], summary["Open after calls without an answer"]) == (2, 1)
    assert CallbackRequest.objects.filter(status="open").count() == 2
    assert "<svg" in str(table.chart)
