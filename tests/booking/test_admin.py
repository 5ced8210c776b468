"""Admin: centers see their own appointments with needs; engineers assigned through the service."""

import pytest

from booking import services
from booking.models import OnSiteRequest
from tests.factories.booking import booking_input, local, next_phone, open_center, tomorrow
from tests.factories.repairs import staff
from tests.factories.warranty import DeviceModelFactory

pytestmark = pytest.mark.django_db


def _login(client, user):
    user.save()  # the factory sets the password without saving; the session hash needs the stored one
    client.force_login(user)
    return client


def test_appointment_list_shows_own_center_with_needs(client, django_assert_max_num_queries):
    mine, other = open_center(name="Mine"), open_center(name="Other")
    a = services.appointment_book(
        center=mine, start=local(tomorrow(), 10), needs={"wheelchair": True}, **booking_input()
    )
    b = services.appointment_book(center=other, start=local(tomorrow(), 10), **booking_input())
    user = staff(mine, role="manager")
    user.is_superuser = False
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="booking"))
    _login(client, user)
    with django_assert_max_num_queries(15):
        response = client.get("/admin/booking/appointment/")
    html = response.content.decode()
    assert response.status_code == 200
    assert a.ticket.service_no in html and b.ticket.service_no not in html
    assert "Wheelchair access" in html or "轮椅" in html
    assert client.get(f"/admin/booking/appointment/{b.pk}/change/").status_code == 302  # not visible -> redirect


def _on_site_request(center):
    DeviceModelFactory(code="TV-1", category="smart_screen")
    return services.on_site_request_create(
        center=center,
        name="李四",
        phone=next_phone(),
        issue="No picture",
        address="上海市黄浦区南京东路100号",
        preferred_date=tomorrow(),
        window="morning",
        serial="TV-SERIAL-1",
        model_code="TV-1",
    )


def test_engineer_assignment_needs_certification():
    from servicehub.actors import actor_for_user

    center = open_center()
    req = _on_site_request(center)
    manager = staff(center, role="manager")
    uncertified = staff(center, role="engineer")
    certified = staff(center, role="engineer", certified=True)
    with pytest.raises(services.DomainError) as exc:
        services.on_site_engineer_assign(request_id=req.pk, engineer=uncertified, actor=actor_for_user(manager))
    assert exc.value.code == "not_certified"
    req.refresh_from_db()
    assert req.engineer is None and req.status == "requested"
    services.on_site_engineer_assign(request_id=req.pk, engineer=certified, actor=actor_for_user(manager))
    req.refresh_from_db()
    assert (req.engineer, req.status) == (certified, "assigned")
    # the assignment's history row is on the ticket's timeline; the refused attempt wrote none
    rows = list(req.ticket.events.filter(action="on_site_assign").values_list("actor_label", "note"))
    assert rows == [
        (manager.get_username(), f"On-site engineer assigned: {certified.get_full_name() or certified.get_username()}.")
    ]


def test_engineer_assignment_refused_for_other_centers_staff():
    from servicehub.actors import actor_for_user

    center, other = open_center(), open_center()
    req = _on_site_request(center)
    outsider = staff(other, role="manager")
    engineer = staff(center, role="engineer", certified=True)
    with pytest.raises(services.DomainError) as exc:
        services.on_site_engineer_assign(request_id=req.pk, engineer=engineer, actor=actor_for_user(outsider))
    assert exc.value.code == "not_found"
    assert OnSiteRequest.objects.get().engineer is None


def test_callback_admin_action_marks_done(admin_client):
    cb = services.callback_request_create(name="A", phone="13912345678", topic="repair", preferred_window="morning")
    response = admin_client.post(
        "/admin/booking/callbackrequest/", {"action": "mark_done", "_selected_action": [cb.pk]}
    )
    assert response.status_code == 302
    cb.refresh_from_db()
    assert cb.status == "done" and cb.handled_at is not None


def test_admin_assigns_certified_engineer_through_the_service(client):
    from django.contrib.auth.models import Permission

    center = open_center()
    req = _on_site_request(center)
    manager = staff(center, role="manager")
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="booking"))
    engineer = staff(center, role="engineer", certified=True)
    rookie = staff(center, role="engineer")
    _login(client, manager)
    url = f"/admin/booking/onsiterequest/{req.pk}/change/"
    client.post(url, {"engineer": rookie.pk}, follow=True)
    req.refresh_from_db()
    assert req.engineer is None and req.status == "requested"
    client.post(url, {"engineer": engineer.pk}, follow=True)
    req.refresh_from_db()
    assert req.engineer == engineer and req.status == "assigned"


def test_survey_list_shows_the_recommendation_answer(client):
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from repairs.models import RepairTicket

    center = open_center(name="Mine")

    def surveyed(n, **answers):
        for i in range(n):
            ticket = services.appointment_book(
                center=center, start=local(tomorrow(), 9 + len(seen)), **booking_input()
            ).ticket
            seen.append(ticket)
            RepairTicket.objects.filter(pk=ticket.pk).update(status="delivered")
            services.survey_submit(ticket_id=ticket.pk, overall=5, staff=5, speed=5, quality=5, **answers)

    seen = []
    surveyed(1, recommend=7)
    surveyed(1)  # skipped the question
    user = staff(center, role="manager")
    user.save()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="booking", codename="view_survey"))
    _login(client, user)

    with CaptureQueriesContext(connection) as few:
        response = client.get("/admin/booking/survey/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Would recommend (0-10)" in html and '<td class="field-recommend">7</td>' in html
    assert '<td class="field-recommend">-</td>' in html
    surveyed(4, recommend=10)
    with CaptureQueriesContext(connection) as more:
        assert client.get("/admin/booking/survey/").status_code == 200
    assert len(more) == len(few) <= 20  # related rows are joined (list_select_related), not fetched per row
