"""Tracking in the browser (pages by the repairs app, extras by the web app): approve a quote,
cancel an appointment from the tracking page."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from booking import services as booking_services
from repairs.models import RepairTicket
from repairs.services import ticket_transition
from servicehub.actors import actor_for_user
from tests.factories.booking import booking_input, local, open_center, tomorrow
from tests.factories.repairs import catalog, staff
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

from .conftest import assert_accessible, set_english, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _look_up(page, ticket, last4):
    page.goto("/track/")
    assert_accessible(page)
    page.locator("#id_service_no").fill(ticket.service_no)
    page.locator("#id_phone_last4").fill(last4)
    page.locator("form.track-form button[type=submit]").click()
    page.wait_for_url(re.compile(f"/track/{ticket.service_no}/"))


def test_track_and_approve_a_quote(page, live_server, settings):
    # given a booked appointment, checked in, diagnosed and quoted (device out of warranty)
    center = open_center()
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    device = DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=730))
    appointment = booking_services.appointment_book(
        center=center, start=local(tomorrow(), 10), **booking_input(model=model, imei=device.imei)
    )
    desk = actor_for_user(staff(center, "front_desk"))
    engineer = actor_for_user(staff(center, "engineer", certified=True))
    ticket = appointment.ticket
    ticket_transition(ticket_id=ticket.pk, action="check_in", actor=desk)
    ticket_transition(ticket_id=ticket.pk, action="start_diagnosis", actor=engineer)
    ticket_transition(ticket_id=ticket.pk, action="send_quote", actor=engineer, lines=[{"repair": "screen"}])
    assert RepairTicket.objects.get(pk=ticket.pk).status == "awaiting_approval"
    set_english(page, live_server)

    # when the customer looks the repair up and approves the quote
    _look_up(page, ticket, appointment.customer.phone[-4:])
    assert page.locator("table.quote").count() == 1
    assert_accessible(page)
    shot(page, "track-quote")
    # approving from a digits lookup asks for the SMS code first (docs/security.md)
    from tests.sms import SENT_SMS

    settings.SMS_BACKEND = "tests.sms.MemorySMSBackend"
    SENT_SMS.clear()
    page.get_by_role("button", name="Send me a code").click()
    page.locator("#id_code").wait_for()
    code = re.search(r"\b(\d{6})\b", SENT_SMS[-1]["text"]).group(1)
    page.locator("#id_code").fill(code)
    page.get_by_role("button", name="Approve and repair").click()

    # then the repair starts, and the page says so
    page.locator("[role=status]").first.wait_for()
    assert RepairTicket.objects.get(pk=ticket.pk).status == "repairing"
    assert "repair will start" in page.locator("main").inner_text()
    shot(page, "track-approved")


def test_cancel_an_appointment_from_the_tracking_page(page, live_server):
    center = open_center()
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    set_english(page, live_server)
    _look_up(page, appointment.ticket, appointment.customer.phone[-4:])
    extras = page.locator("#appointment-extras")
    assert "You can change or cancel until" in extras.inner_text()
    shot(page, "track-booked")
    extras.get_by_role("link", name="Change or cancel").click()
    assert_accessible(page)
    shot(page, "appointment-change")
    page.get_by_role("button", name="Cancel my appointment").click()
    assert page.locator("h1").inner_text() == "Cancel your booking?"  # asked first
    page.get_by_role("button", name="Yes, cancel my booking").click()
    assert page.locator("h1").inner_text() == "Your booking is cancelled"
    page.get_by_role("link", name="Back to tracking").click()
    page.wait_for_url(re.compile(f"/track/{appointment.ticket.service_no}/"))
    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.ticket.status == "cancelled"
    assert page.locator("#appointment-extras a", has_text="Change or cancel").count() == 0


def test_reschedule_from_the_tracking_page(page, live_server):
    center = open_center()
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    set_english(page, live_server)
    page.goto(f"/appointments/{appointment.ticket.service_no}/?phone_last4={appointment.customer.phone[-4:]}")
    page.get_by_label("14:00–14:30").check()
    page.get_by_role("button", name="Move my appointment").click()
    assert page.locator("#new-time").inner_text().endswith("14:00–14:30")  # asked first
    page.get_by_role("button", name="Yes, move my booking").click()
    assert page.locator("h1").inner_text() == "Your booking is moved"
    page.get_by_role("link", name="Back to tracking").click()
    page.wait_for_url(re.compile(f"/track/{appointment.ticket.service_no}/"))
    appointment.refresh_from_db()
    assert appointment.start == local(tomorrow(), 14)
    assert "14:00" in page.locator("#appointment-extras").inner_text()
