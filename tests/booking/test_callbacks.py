"""Hotline callbacks (issue #22 item 6): linked to the customer (a suggestion by phone, confirmed by staff) and to
their tickets (staff pick), with an outcome and a note logged; "no answer" keeps the request open and counts;
closing writes a row on each linked ticket's timeline. BOLA: another customer's or another center's ticket is
refused alike, and nothing is written."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from booking import selectors, services
from booking.models import CallbackAttempt, CallbackRequest
from repairs.models import Customer, TicketEvent
from servicehub.actors import actor_for_user
from servicehub.errors import DomainError
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff, walk_in
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db

PHONE = "13911112222"


@pytest.fixture
def hotline():
    center = ServiceCenterFactory(code="SC-HOT", name="上海黄浦服务中心")
    other = ServiceCenterFactory(code="SC-FAR", name="北京朝阳服务中心")
    desk = staff(center, "front_desk", username="hotdesk")
    far_desk = staff(other, "front_desk", username="fardesk")
    desk_actor = actor_for_user(desk)
    mine = walk_in(center, desk_actor, device=DeviceFactory(), phone=PHONE, name="陈静")
    far = walk_in(other, actor_for_user(far_desk), device=DeviceFactory(), phone=PHONE, name="陈静")
    stranger = walk_in(center, desk_actor, device=DeviceFactory(), phone="13933334444", name="刘洋")
    callback = services.callback_request_create(
        name="陈静", phone="139 1111 2222", topic="repair", preferred_window="morning", note="屏幕修好了吗"
    )
    return {
        "center": center,
        "desk": desk,
        "actor": desk_actor,
        "mine": mine,
        "far": far,
        "stranger": stranger,
        "callback": callback,
        "customer": Customer.objects.get(phone="+8613911112222"),
    }


def test_the_phone_only_suggests_the_customer_nothing_is_linked_by_itself(hotline):
    callback = CallbackRequest.objects.get(pk=hotline["callback"].pk)
    assert callback.customer_id is None and not callback.tickets.exists()
    assert selectors.callback_customer_suggestion(callback=callback) == hotline["customer"]
    picks = selectors.callback_customer_tickets(customer=hotline["customer"], actor=hotline["actor"])
    assert [t.pk for t in picks] == [hotline["mine"].pk]  # not the other center's ticket


def test_no_answer_keeps_it_open_and_counts_attempts(hotline):
    cb = hotline["callback"]
    for _ in range(2):
        services.callback_outcome_log(callback_id=cb.pk, outcome="no_answer", actor=hotline["actor"])
    cb.refresh_from_db()
    assert (cb.status, cb.attempts, cb.outcome) == ("open", 2, "")
    assert list(CallbackAttempt.objects.filter(callback=cb).values_list("outcome", flat=True)) == ["no_answer"] * 2


def test_closing_with_a_ticket_links_it_and_writes_its_timeline_row(hotline):
    cb, ticket = hotline["callback"], hotline["mine"]
    services.callback_outcome_log(
        callback_id=cb.pk,
        outcome="follow_up_booked",
        note="约好周六取机",
        customer_id=hotline["customer"].pk,
        ticket_ids=[ticket.pk],
        actor=hotline["actor"],
    )
    cb.refresh_from_db()
    assert (cb.status, cb.outcome, cb.customer_id, cb.handled_by_id) == (
        "done",
        "follow_up_booked",
        hotline["customer"].pk,
        hotline["desk"].pk,
    )
    assert list(cb.tickets.values_list("pk", flat=True)) == [ticket.pk]
    row = TicketEvent.objects.filter(ticket=ticket, action="callback").get()
    assert "Follow-up booked" in row.note and "约好周六取机" in row.note
    assert row.from_status == row.to_status == ticket.status
    # the customer record is untouched (who receives its messages stays as it was)
    customer = Customer.objects.get(pk=hotline["customer"].pk)
    assert (customer.phone, customer.name) == ("+8613911112222", "陈静")
    with pytest.raises(DomainError) as err:
        services.callback_outcome_log(callback_id=cb.pk, outcome="resolved", actor=hotline["actor"])
    assert err.value.code == "callback_closed"


@pytest.mark.parametrize("which", ["far", "stranger"])
def test_linking_refuses_another_centers_or_another_customers_ticket_and_writes_nothing(hotline, which):
    cb = hotline["callback"]
    with pytest.raises(DomainError) as err:
        services.callback_outcome_log(
            callback_id=cb.pk,
            outcome="resolved",
            customer_id=hotline["customer"].pk,
            ticket_ids=[hotline["mine"].pk, hotline[which].pk],
            actor=hotline["actor"],
        )
    assert (err.value.code, err.value.status) == ("not_found", 404)
    cb.refresh_from_db()
    assert (cb.status, cb.customer_id) == ("open", None)
    assert not cb.tickets.exists() and not CallbackAttempt.objects.exists()
    assert not TicketEvent.objects.filter(action="callback").exists()


def test_bad_input_is_refused_clearly(hotline):
    cb, actor = hotline["callback"], hotline["actor"]
    cases = [
        ({"outcome": "maybe"}, "validation_error"),
        ({"outcome": "resolved", "ticket_ids": [hotline["mine"].pk]}, "validation_error"),  # tickets, no customer
        ({"outcome": "follow_up_booked"}, "validation_error"),  # closing without saying what was agreed
        ({"outcome": "resolved", "customer_id": 999999}, "not_found"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as err:
            services.callback_outcome_log(callback_id=cb.pk, actor=actor, **kwargs)
        assert err.value.code == code, kwargs
    with pytest.raises(DomainError) as err:
        services.callback_outcome_log(callback_id=999999, outcome="resolved", actor=actor)
    assert err.value.code == "not_found"
    cb.refresh_from_db()
    assert (cb.status, cb.attempts, cb.customer_id) == ("open", 0, None)


def test_a_partner_key_may_not_log_calls(hotline):
    from servicehub.actors import Actor

    with pytest.raises(DomainError) as err:
        services.callback_outcome_log(callback_id=hotline["callback"].pk, outcome="resolved", actor=Actor(partner=1))
    assert err.value.code == "permission_denied"


# --- the worklist and the call page --------------------------------------------------------------------------


def _login(user):
    """A hotline worker: staff with the callback requests' permissions (the hotline's group in production)."""
    from django.contrib.auth.models import Permission

    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_callbackrequest", "change_callbackrequest"])
    )
    client = Client()
    client.force_login(user)
    return client


def test_worklist_query_count_does_not_grow_with_requests(hotline, django_assert_max_num_queries):
    client = _login(hotline["desk"])
    url = reverse("admin:booking_callbackrequest_changelist")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        response = client.get(url)
    assert response.status_code == 200 and "陈静" in response.content.decode()
    for i in range(10):
        services.callback_request_create(
            name=f"客户{i}", phone=f"1390000{i:04d}", topic="repair", preferred_window="morning"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_call_page_logs_an_outcome_with_a_ticket_and_refuses_a_crafted_one(hotline, django_assert_max_num_queries):
    client = _login(hotline["desk"])
    cb, customer = hotline["callback"], hotline["customer"]
    url = reverse("admin:booking_callbackrequest_call", args=[cb.pk])
    with django_assert_max_num_queries(14):
        page = client.get(url)
    html = page.content.decode()
    assert hotline["mine"].service_no in html and hotline["far"].service_no not in html
    crafted = client.post(
        url, {"customer": customer.pk, "tickets": [hotline["far"].pk], "outcome": "resolved", "note": ""}
    )
    assert crafted.status_code == 400
    assert CallbackRequest.objects.get(pk=cb.pk).status == "open"
    other_customer = Customer.objects.get(phone="+8613933334444")
    crafted = client.post(url, {"customer": other_customer.pk, "outcome": "resolved"})
    assert crafted.status_code == 400 and CallbackRequest.objects.get(pk=cb.pk).customer_id is None
    done = client.post(
        url, {"customer": customer.pk, "tickets": [hotline["mine"].pk], "outcome": "resolved", "note": "已告知进度"}
    )
    assert done.status_code == 302
    cb.refresh_from_db()
    assert (cb.status, cb.outcome, cb.customer_id) == ("done", "resolved", customer.pk)
    assert TicketEvent.objects.filter(ticket=hotline["mine"], action="callback").count() == 1


def test_list_action_no_answer_counts(hotline):
    client = _login(hotline["desk"])
    cb = hotline["callback"]
    client.post(
        reverse("admin:booking_callbackrequest_changelist"),
        {"action": "mark_no_answer", "_selected_action": [cb.pk]},
    )
    cb.refresh_from_db()
    assert (cb.status, cb.attempts) == ("open", 1)


# --- the API -------------------------------------------------------------------------------------------------


def test_api_logs_outcome_for_staff_key(hotline, staff_key_client, django_assert_max_num_queries):
    client = staff_key_client(hotline["desk"], scopes=["tickets:write"])
    url = f"/api/v1/callbacks/{hotline['callback'].pk}/outcome/"
    far = client.post(
        url,
        {"outcome": "resolved", "customer": hotline["customer"].pk, "tickets": [hotline["far"].service_no]},
        format="json",
    )
    assert far.status_code == 404 and far.json()["code"] == "not_found"
    with django_assert_max_num_queries(30):
        ok = client.post(
            url,
            {
                "outcome": "ticket_created",
                "note": "新建维修单",
                "customer": hotline["customer"].pk,
                "tickets": [hotline["mine"].service_no],
            },
            format="json",
        )
    assert ok.status_code == 200, ok.content
    body = ok.json()
    assert (body["status"], body["outcome"], body["tickets"]) == (
        "done",
        "ticket_created",
        [hotline["mine"].service_no],
    )
    again = client.post(url, {"outcome": "resolved"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "callback_closed"


def test_api_refuses_a_partner_key(hotline, key_client):
    client = key_client(scopes=["tickets:write"])
    response = client.post(
        f"/api/v1/callbacks/{hotline['callback'].pk}/outcome/", {"outcome": "resolved"}, format="json"
    )
    assert response.status_code == 403
    assert CallbackRequest.objects.get(pk=hotline["callback"].pk).status == "open"


def test_hq_works_the_hotline_a_centers_desk_without_the_permissions_does_not(hotline):
    """The hotline is network-wide: HQ opens the worklist and the call page; a center's front desk, who would see
    the whole network's callers there, gets the readable 403 unless given the hotline's permissions."""
    url = reverse("admin:booking_callbackrequest_changelist")
    call = reverse("admin:booking_callbackrequest_call", args=[hotline["callback"].pk])
    hq = staff(None, "hq", username="hq-hotline")
    hq.is_staff = True
    hq.save()
    client = Client()
    client.force_login(hq)
    assert client.get(url).status_code == 200 and client.get(call).status_code == 200
    desk = Client()
    hotline["desk"].is_staff = True
    hotline["desk"].save()
    desk.force_login(hotline["desk"])
    assert desk.get(url).status_code == 403 and desk.get(call).status_code == 403
    assert _login(hotline["desk"]).get(url).status_code == 200  # given the permissions: a hotline agent
