"""Sign-language video sessions of bookings (issue #22 item 4): created once from the booking's event, the
customer's confirmation with the join link, the center's alert, preparation, cancellation, the roster's signers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services as booking_services
from centers.models import StaffMembership, StaffShift
from centers.selectors import signers_on_shift
from notifications.models import Notification
from outreach import signlang
from outreach.choices import SignSessionStatus
from outreach.models import SignLanguageSession
from outreach.video import MeetingRequest, video_provider
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from servicehub.events import outbox_dispatch
from servicehub.models import OutboxEvent
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


def _signs(user, center):
    StaffMembership.objects.filter(user=user, center=center).update(skills=["sign_language"])


def _shift(user, center, start, hours=8):
    return StaffShift.objects.create(
        center=center, user=user, starts_at=start, ends_at=start + dt.timedelta(hours=hours)
    )


@pytest.fixture
def place():
    center = open_center(code="SC-SIGN", name="上海静安服务中心")
    users = {
        "signer": staff(center, "front_desk", username="signer"),
        "other_signer": staff(center, "front_desk", username="signer_off"),
        "desk": staff(center, "front_desk", username="plaindesk"),
        "manager": staff(center, "manager", username="signmgr"),
    }
    for key in ("signer", "other_signer"):
        _signs(users[key], center)
    for u in users.values():
        u.email = f"{u.username}@example.com"
        u.save()
    return {"center": center, "users": users}


def _book(center, *, hour=10, sign=True):
    return booking_services.appointment_book(
        center=center, start=local(tomorrow(), hour), needs={"sign_language": sign}, **booking_input()
    )


# --- the provider -------------------------------------------------------------------------------------------


def test_sandbox_provider_gives_stable_links_and_a_host_link_not_derivable_from_the_join_link(settings):
    settings.OUTREACH_VIDEO = {"default": "sandbox", "sandbox": {"base_url": "https://meet.example.test"}}
    req = MeetingRequest(reference="appointment:7", starts_at=timezone.now(), minutes=30, topic="t")
    first, again = video_provider().meeting_create(req), video_provider().meeting_create(req)
    assert first == again
    assert first.join_url.startswith("https://meet.example.test/j/" + first.meeting_id)
    assert first.host_url.startswith("https://meet.example.test/h/" + first.meeting_id)
    join_token, host_token = first.join_url.split("pwd=")[1], first.host_url.split("key=")[1]
    assert join_token not in host_token and len(host_token) == 24
    other = video_provider().meeting_create(MeetingRequest("appointment:8", timezone.now(), 30, "t"))
    assert other.meeting_id != first.meeting_id


def test_unknown_provider_is_refused(settings):
    settings.OUTREACH_VIDEO = {"default": "zoomish"}
    with pytest.raises(LookupError):
        video_provider()


# --- creation -----------------------------------------------------------------------------------------------


def test_booking_with_the_need_creates_one_session_with_the_signer_on_shift_at_the_slot(place):
    center, users = place["center"], place["users"]
    _shift(users["signer"], center, local(tomorrow(), 9))  # covers 10:00 tomorrow
    _shift(users["other_signer"], center, local(tomorrow(), 14))  # not at 10:00
    appointment = _book(center)
    session = SignLanguageSession.objects.get()
    assert session.appointment_id == appointment.pk
    assert (session.center_id, session.scheduled_start) == (center.pk, appointment.start)
    assert session.status == SignSessionStatus.SCHEDULED and session.prepared_at is None
    assert session.signer_id == users["signer"].pk
    assert session.join_url.startswith("https://") and session.host_url != session.join_url


def test_session_created_once_even_if_the_event_is_delivered_twice(place):
    appointment = _book(place["center"])
    event = OutboxEvent.objects.get(type="appointment.booked", payload__appointment_id=appointment.pk)
    # the dispatcher's claim is gone (a replay by a second worker / the sweep after a lost ack)
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    assert outbox_dispatch(event_id=event.pk) is True
    signlang.sign_session_on_appointment_booked(OutboxEvent.objects.get(pk=event.pk))
    assert SignLanguageSession.objects.count() == 1
    assert OutboxEvent.objects.filter(type="sign_session.scheduled").count() == 1
    confirmations = Notification.objects.filter(kind="appointment_booked", channel="sms")
    assert confirmations.count() == 1


def test_no_session_without_the_need(place):
    _book(place["center"], sign=False)
    assert not SignLanguageSession.objects.exists()
    assert not OutboxEvent.objects.filter(type="sign_session.scheduled").exists()
    # the ordinary confirmation still goes out on the booking event, without a video link
    sms = Notification.objects.get(kind="appointment_booked", channel="sms")
    assert "meet.sandbox" not in sms.body


def test_confirmation_sms_carries_the_join_link_and_not_the_host_link(place):
    _book(place["center"])
    session = SignLanguageSession.objects.get()
    sms = Notification.objects.get(kind="appointment_booked", channel="sms")
    assert session.join_url in sms.body
    assert session.host_url not in sms.body


# --- the center's alert -------------------------------------------------------------------------------------


def test_alert_goes_to_the_signers_on_shift_now(place):
    center, users = place["center"], place["users"]
    _shift(users["signer"], center, timezone.now() - dt.timedelta(hours=1))
    _book(center)
    alerted = set(Notification.objects.filter(kind="sign_session_alert").values_list("recipient", flat=True))
    assert alerted == {"signer@example.com"}


def test_alert_goes_to_the_managers_when_nobody_who_signs_is_on_shift(place):
    center, users = place["center"], place["users"]
    _shift(users["desk"], center, timezone.now() - dt.timedelta(hours=1))  # on shift, but does not sign
    _book(center)
    alerted = set(Notification.objects.filter(kind="sign_session_alert").values_list("recipient", flat=True))
    assert alerted == {"signmgr@example.com"}
    assert SignLanguageSession.objects.get().signer_id is None


def test_signers_on_shift_skips_inactive_memberships_and_other_centers(place):
    center, users = place["center"], place["users"]
    other = open_center(code="SC-ELSE")
    at = timezone.now()
    _shift(users["signer"], center, at - dt.timedelta(hours=1))
    _shift(users["other_signer"], center, at - dt.timedelta(hours=1))
    StaffMembership.objects.filter(user=users["other_signer"]).update(active=False)
    assert [u.pk for u in signers_on_shift(center_id=center.pk, at=at)] == [users["signer"].pk]
    assert signers_on_shift(center_id=other.pk, at=at) == []


# --- preparation, cancellation, rescheduling ----------------------------------------------------------------


def test_prepare_marks_once_and_refuses_other_centers_staff(place):
    center, users = place["center"], place["users"]
    _book(center)
    session = SignLanguageSession.objects.get()
    outsider = staff(open_center(code="SC-OUT"), "front_desk", username="outsider")
    with pytest.raises(DomainError) as err:
        signlang.sign_session_prepare(session_id=session.pk, actor=actor_for_user(outsider))
    assert err.value.code == "not_found"
    first = signlang.sign_session_prepare(session_id=session.pk, actor=actor_for_user(users["desk"]))
    again = signlang.sign_session_prepare(session_id=session.pk, actor=actor_for_user(users["manager"]))
    assert first.prepared_at == again.prepared_at and again.prepared_by_id == users["desk"].pk


def test_cancelling_the_appointment_cancels_the_session_and_it_cannot_be_prepared(place):
    center, users = place["center"], place["users"]
    appointment = _book(center)
    booking_services.appointment_cancel(appointment_id=appointment.pk)
    session = SignLanguageSession.objects.get()
    assert session.status == SignSessionStatus.CANCELLED
    with pytest.raises(DomainError) as err:
        signlang.sign_session_prepare(session_id=session.pk, actor=actor_for_user(users["desk"]))
    assert err.value.code == "session_closed"
    assert SignLanguageSession.objects.get().prepared_at is None


def test_rescheduling_moves_the_session_and_asks_for_preparation_again(place):
    center, users = place["center"], place["users"]
    _shift(users["other_signer"], center, local(tomorrow(), 14))
    appointment = _book(center, hour=10)
    session = SignLanguageSession.objects.get()
    signlang.sign_session_prepare(session_id=session.pk, actor=actor_for_user(users["desk"]))
    booking_services.appointment_reschedule(appointment_id=appointment.pk, start=local(tomorrow(), 15))
    session.refresh_from_db()
    assert session.scheduled_start == local(tomorrow(), 15)
    assert session.signer_id == users["other_signer"].pk
    assert session.prepared_at is None
    assert session.join_url == SignLanguageSession.objects.get().join_url


def test_mark_held_only_from_scheduled(place):
    center, users = place["center"], place["users"]
    _book(center)
    session = SignLanguageSession.objects.get()
    signlang.sign_session_mark(session_id=session.pk, status="held", actor=actor_for_user(users["desk"]))
    with pytest.raises(DomainError) as err:
        signlang.sign_session_mark(session_id=session.pk, status="no_show", actor=actor_for_user(users["desk"]))
    assert err.value.code == "session_closed"
    with pytest.raises(DomainError) as err:
        signlang.sign_session_mark(session_id=session.pk, status="cancelled", actor=actor_for_user(users["desk"]))
    assert err.value.code == "validation_error"
    assert SignLanguageSession.objects.get().status == "held"


def test_demo_marks_one_signer_per_demo_center_once():
    import io

    from outreach import demo

    center = open_center(code="SC-DEMO-SIGN", kind="service_center")
    desk = staff(center, "front_desk", username="demo_sign_desk")
    staff(center, "front_desk", username="demo_sign_desk2")
    demo._seed_signers(out=io.StringIO())
    demo._seed_signers(out=io.StringIO())
    signers = [m.user_id for m in StaffMembership.objects.filter(center=center) if "sign_language" in m.skills]
    assert signers == [desk.pk]


# --- the close job (sessions staff left scheduled) -------------------------------------------------------------


def _checked_in(appointment):
    # The desk's check-in moves the ticket out of ``booked`` (repairs.services.ticket_check_in); only that fact
    # is what the job reads, so the test sets it directly.
    from repairs.models import RepairTicket

    RepairTicket.objects.filter(pk=appointment.ticket_id).update(status="received")


def test_close_job_marks_held_when_the_customer_checked_in_and_no_show_when_still_booked(place, settings):
    from outreach import jobs

    settings.OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES = 120
    came = _book(place["center"], hour=10)
    stayed_away = _book(place["center"], hour=11)
    _checked_in(came)
    now = local(tomorrow(), 13, 5)  # 11:00 + 2 h 5 min
    assert jobs.job_sign_sessions_close(now=now) == {"held": 1, "no_show": 1}
    statuses = dict(SignLanguageSession.objects.values_list("appointment_id", "status"))
    assert statuses == {came.pk: "held", stayed_away.pk: "no_show"}


def test_close_job_leaves_sessions_not_yet_due_and_those_staff_marked(place, settings):
    from outreach import jobs

    settings.OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES = 120
    marked = _book(place["center"], hour=9)
    not_due = _book(place["center"], hour=11)
    _checked_in(not_due)
    marked_session = SignLanguageSession.objects.get(appointment=marked)
    signlang.sign_session_mark(
        session_id=marked_session.pk, status="no_show", actor=actor_for_user(place["users"]["desk"])
    )
    _checked_in(marked)  # arrived late: staff's mark stands
    before = SignLanguageSession.objects.get(appointment=not_due).updated_at
    assert jobs.job_sign_sessions_close(now=local(tomorrow(), 12, 59)) == {"held": 0, "no_show": 0}
    assert SignLanguageSession.objects.get(appointment=marked).status == "no_show"
    left = SignLanguageSession.objects.get(appointment=not_due)
    assert (left.status, left.updated_at) == ("scheduled", before)


def test_close_job_rerun_writes_nothing(place, settings, django_assert_num_queries):
    from outreach import jobs

    settings.OUTREACH_SIGN_SESSION_CLOSE_AFTER_MINUTES = 120
    _book(place["center"], hour=10)
    now = local(tomorrow(), 12, 20)
    assert jobs.job_sign_sessions_close(now=now) == {"held": 0, "no_show": 1}
    stamp = SignLanguageSession.objects.get().updated_at
    assert jobs.job_sign_sessions_close(now=now) is None  # the same 15-minute slot: claimed already
    later = now + dt.timedelta(minutes=15)
    with django_assert_num_queries(5):  # claim the slot (savepoint, insert, release), the empty worklist, finish
        assert jobs.job_sign_sessions_close(now=later) == {"held": 0, "no_show": 0}
    assert SignLanguageSession.objects.get().updated_at == stamp


def test_close_after_start_rechecks_under_the_lock(place):
    appointment = _book(place["center"], hour=10)
    session = SignLanguageSession.objects.get(appointment=appointment)
    too_early = local(tomorrow(), 11)
    assert signlang.sign_session_close_after_start(session_id=session.pk, now=too_early) is None
    signlang.sign_session_mark(session_id=session.pk, status="held", actor=actor_for_user(place["users"]["desk"]))
    assert signlang.sign_session_close_after_start(session_id=session.pk, now=local(tomorrow(), 18)) is None
    assert SignLanguageSession.objects.get().status == "held"
