"""Sign-language sessions in the pages: the desk's preparation task ("Today at the desk"), the customer's
confirmation and tracking pages with the join link (never the host link), the roster's signers, with query counts
that do not grow with rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking import services as booking_services
from centers.models import StaffMembership, StaffShift
from outreach.models import SignLanguageSession
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db


def _login(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def place():
    center = open_center(code="SC-SGP", name="上海长宁服务中心")
    desk = staff(center, "front_desk", username="sgdesk")
    signer = staff(center, "front_desk", username="sgsigner")
    StaffMembership.objects.filter(user=signer).update(skills=["sign_language"])
    return {"center": center, "desk": desk, "signer": signer}


def _book(center, hour=10, **kw):
    return booking_services.appointment_book(
        center=center, start=local(tomorrow(), hour), needs={"sign_language": True}, **booking_input(**kw)
    )


def test_desk_lists_sessions_to_prepare_in_fixed_queries_and_marks_one_prepared(place, django_assert_max_num_queries):
    center = place["center"]
    first = _book(center, hour=10)
    client = _login(place["desk"])
    url = reverse("admin:repairs_repairticket_today")
    client.get(url)
    with django_assert_max_num_queries(16) as one:
        page = client.get(url)
    html = page.content.decode()
    session = SignLanguageSession.objects.get(appointment=first)
    assert 'id="today-sign-sessions"' in html and first.ticket.service_no in html
    assert session.host_url.replace("&", "&amp;") in html  # staff open the meeting as host from here
    for hour in (11, 12, 13):
        _book(center, hour=hour)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(url).context["sign_sessions"]) == 4
    done = client.post(
        reverse("admin:outreach_signlanguagesession_prepare", args=[session.pk]), {"next": url}, follow=False
    )
    assert done.status_code == 302 and done["Location"] == url
    session.refresh_from_db()
    assert session.prepared_at is not None and session.prepared_by_id == place["desk"].pk
    assert first.ticket.service_no not in client.get(url).content.decode()


def test_another_centers_desk_neither_sees_nor_prepares_the_session(place):
    _book(place["center"])
    session = SignLanguageSession.objects.get()
    outsider = _login(staff(open_center(code="SC-OTHER"), "front_desk", username="otherdesk"))
    html = outsider.get(reverse("admin:repairs_repairticket_today")).content.decode()
    assert session.appointment.ticket.service_no not in html
    outsider.post(reverse("admin:outreach_signlanguagesession_prepare", args=[session.pk]))
    assert SignLanguageSession.objects.get().prepared_at is None
    # a GET never prepares (no state change without a POST)
    assert (
        _login(place["desk"]).get(reverse("admin:outreach_signlanguagesession_prepare", args=[session.pk])).status_code
        == 403
    )
    assert SignLanguageSession.objects.get().prepared_at is None


def test_confirmation_page_shows_the_join_link_not_the_host_link(place, django_assert_max_num_queries):
    appointment = _book(place["center"])
    session = SignLanguageSession.objects.get()
    url = reverse("web_book_done", args=[appointment.ticket.service_no])
    last4 = appointment.customer.phone[-4:]
    with django_assert_max_num_queries(8):
        html = Client().get(url, {"phone_last4": last4}).content.decode()
    assert session.join_url.replace("&", "&amp;") in html and 'id="sign-session-link"' in html
    assert session.host_url.split("?")[0] not in html


def test_tracking_page_shows_the_link_and_then_the_cancellation(place, django_assert_max_num_queries):
    appointment = _book(place["center"])
    session = SignLanguageSession.objects.get()
    client = Client()
    url = f"/track/{appointment.ticket.service_no}/"
    last4 = appointment.customer.phone[-4:]
    html = client.get(url, {"phone_last4": last4}).content.decode()
    assert session.join_url.replace("&", "&amp;") in html
    assert session.host_url.split("?")[0] not in html
    booking_services.appointment_cancel(appointment_id=appointment.pk)
    html = client.get(url, {"phone_last4": last4}).content.decode()
    assert 'id="sign-session-link"' not in html and "Cancelled" in html


def test_tracking_cache_shows_a_session_created_after_the_page_was_cached(place):
    """In production the session is created by the worker after the booking commits: a page cached before it
    must not hide the link (the session has its own version column)."""
    from outreach.signlang import sign_session_for_appointment

    appointment = _book(place["center"])
    SignLanguageSession.objects.all().delete()  # as if the worker had not run yet
    client, url = Client(), f"/track/{appointment.ticket.service_no}/"
    last4 = appointment.customer.phone[-4:]
    assert "being prepared" in client.get(url, {"phone_last4": last4}).content.decode()
    session = sign_session_for_appointment(appointment_id=appointment.pk)
    assert session.join_url.replace("&", "&amp;") in client.get(url, {"phone_last4": last4}).content.decode()


def test_roster_shows_who_signs_in_fixed_queries(place, django_assert_max_num_queries):
    center = place["center"]
    manager = staff(center, "manager", username="sgmgr")
    start = timezone.now() + dt.timedelta(hours=1)
    StaffShift.objects.create(
        center=center, user=place["signer"], starts_at=start, ends_at=start + dt.timedelta(hours=8)
    )
    client = _login(manager)
    url = reverse("admin:centers_staffshift_changelist")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        page = client.get(url)
    html = page.content.decode()
    assert html.count('alt="True"') == 1  # the signer's shift, and only it
    for _ in range(5):
        StaffShift.objects.create(
            center=center, user=place["desk"], starts_at=start, ends_at=start + dt.timedelta(hours=4)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('alt="True"') == 1 and html.count('alt="False"') == 5


def test_membership_skills_only_take_known_skills(place):
    from centers.admin import StaffMembershipForm

    membership = StaffMembership.objects.get(user=place["desk"])
    form = StaffMembershipForm(
        {
            "user": place["desk"].pk,
            "center": place["center"].pk,
            "role": "front_desk",
            "active": "on",
            "skills": ["juggling"],
        },
        instance=membership,
    )
    assert not form.is_valid() and "skills" in form.errors
    form = StaffMembershipForm(
        {
            "user": place["desk"].pk,
            "center": place["center"].pk,
            "role": "front_desk",
            "active": "on",
            "skills": ["sign_language"],
        },
        instance=membership,
    )
    assert form.is_valid(), form.errors
    form.save()
    assert StaffMembership.objects.get(pk=membership.pk).skills == ["sign_language"]


def test_appointment_api_shows_the_join_link_to_whoever_has_the_digits(
    place, api_client, django_assert_max_num_queries
):
    appointment = _book(place["center"])
    session = SignLanguageSession.objects.get()
    url = f"/api/v1/appointments/{appointment.ticket.service_no}/"
    last4 = appointment.customer.phone[-4:]
    with django_assert_max_num_queries(6):
        ok = api_client.get(url, {"phone_last4": last4})
    assert ok.status_code == 200
    body = ok.json()
    assert body["sign_language_session"]["join_url"] == session.join_url
    assert body["needs"] == {"sign_language": True} and body["center"] == place["center"].code
    assert session.host_url not in ok.content.decode()
    wrong = api_client.get(url, {"phone_last4": "0000" if last4 != "0000" else "1111"})
    unknown = api_client.get("/api/v1/appointments/NOSUCHNO01/", {"phone_last4": last4})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["code"] == unknown.json()["code"] == "not_found"
    assert "sign_language_session" not in wrong.content.decode()
