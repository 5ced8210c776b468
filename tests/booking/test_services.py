"""Booking services: slots from hours and rules, capacity, cancel/reschedule, no-shows, requests."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from booking import selectors, services
from booking.choices import AppointmentStatus
from booking.models import Appointment, CallbackRequest, SlotCounter, Survey
from centers.models import OpeningException, ServiceDay
from repairs.models import RepairTicket
from servicehub.errors import DomainError
from tests.factories.booking import SlotRuleFactory, booking_input, local, open_center, tomorrow

pytestmark = pytest.mark.django_db


# --- slots ---------------------------------------------------------------------------------


def test_slots_follow_hours_and_default_rule():
    # given a center open 9-12 and no slot rule (defaults: 30 min, 2 desks)
    center = open_center(opens=dt.time(9), closes=dt.time(12))
    day = tomorrow()
    # when
    slots = selectors.slots_for_day(center=center, day=day)
    # then
    assert [s.start for s in slots] == [
        local(day, 9),
        local(day, 9, 30),
        local(day, 10),
        local(day, 10, 30),
        local(day, 11),
        local(day, 11, 30),
    ]
    assert {(s.capacity, s.available) for s in slots} == {(2, 2)}
    assert slots[0].end == local(day, 9, 30)


def test_slot_rule_sets_length_and_desks_and_service_day_adds_desks():
    center = open_center(opens=dt.time(9), closes=dt.time(11))
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), slot_minutes=60, desks=3, service_day_desks=5)
    slots = selectors.slots_for_day(center=center, day=day)
    assert [(s.start, s.capacity) for s in slots] == [(local(day, 9), 3), (local(day, 10), 3)]
    ServiceDay.objects.create(center=center, date=day, perks=["cleaning"])
    assert [s.capacity for s in selectors.slots_for_day(center=center, day=day)] == [5, 5]


def test_no_slots_when_closed_by_holiday_or_inactive_rule():
    center = open_center()
    day = tomorrow()
    OpeningException.objects.create(center=center, date=day, closed=True, reason="Spring Festival")
    assert selectors.slots_for_day(center=center, day=day) == []
    other_day = day + dt.timedelta(days=1)
    SlotRuleFactory(center=center, weekday=other_day.weekday(), active=False)
    assert selectors.slots_for_day(center=center, day=other_day) == []


def test_holiday_special_hours_replace_weekly_hours():
    center = open_center()
    day = tomorrow()
    OpeningException.objects.create(center=center, date=day, opens=dt.time(10), closes=dt.time(11), reason="Eve")
    assert [s.start for s in selectors.slots_for_day(center=center, day=day)] == [local(day, 10), local(day, 10, 30)]


def test_no_slots_for_center_without_appointment_service():
    center = open_center(services=["phone", "walk_in"])
    assert selectors.slots_for_day(center=center, day=tomorrow()) == []


# --- booking -------------------------------------------------------------------------------


def test_book_creates_booked_ticket_and_appointment_and_takes_a_seat():
    center = open_center()
    start = local(tomorrow(), 10)
    appointment = services.appointment_book(
        center=center, start=start, needs={"sign_language": True, "wheelchair": False}, **booking_input()
    )
    ticket = appointment.ticket
    assert (ticket.status, ticket.channel, ticket.center_id) == ("booked", "appointment", center.pk)
    assert ticket.needs == {"sign_language": True}
    assert appointment.needs == {"sign_language": True}
    assert appointment.reference == ticket.service_no
    assert (appointment.start, appointment.end) == (start, start + dt.timedelta(minutes=30))
    assert SlotCounter.objects.get(center=center, start=start).booked == 1
    slot = next(s for s in selectors.slots_for_day(center=center, day=tomorrow()) if s.start == start)
    assert slot.available == 1


def test_full_slot_refused_with_alternatives_and_nothing_written():
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    services.appointment_book(center=center, start=local(day, 10), **booking_input())
    tickets_before = RepairTicket.objects.count()
    with pytest.raises(DomainError) as exc:
        services.appointment_book(center=center, start=local(day, 10), **booking_input())
    assert exc.value.code == "slot_full" and exc.value.status == 409
    alternatives = [a["start"] for a in exc.value.extra["alternatives"]]
    assert alternatives == [local(day, 9, 30).isoformat(), local(day, 10, 30).isoformat(), local(day, 9).isoformat()]
    assert RepairTicket.objects.count() == tickets_before
    assert Appointment.objects.count() == 1
    assert SlotCounter.objects.get(center=center, start=local(day, 10)).booked == 1


@pytest.mark.parametrize(
    ("start", "field"),
    [
        (lambda: local(tomorrow(), 10, 15), "start"),  # not a slot boundary
        (lambda: local(tomorrow(), 20), "start"),  # after closing
        (lambda: timezone.now() - dt.timedelta(hours=1), "start"),  # past
        (lambda: local(tomorrow() + dt.timedelta(days=40), 10), "start"),  # too far ahead
    ],
)
def test_book_refuses_bad_slot(start, field):
    center = open_center()
    with pytest.raises(DomainError) as exc:
        services.appointment_book(center=center, start=start(), **booking_input())
    assert (exc.value.code, exc.value.field) == ("validation_error", field)
    assert not SlotCounter.objects.exists() and not RepairTicket.objects.exists()


def test_book_refuses_bad_phone_and_leaves_nothing():
    center = open_center()
    with pytest.raises(DomainError) as exc:
        services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input(phone="12"))
    assert (exc.value.code, exc.value.field) == ("validation_error", "phone")
    assert not SlotCounter.objects.filter(booked__gt=0).exists()
    assert not RepairTicket.objects.exists()


def test_book_refuses_unknown_need():
    center = open_center()
    with pytest.raises(DomainError) as exc:
        services.appointment_book(
            center=center, start=local(tomorrow(), 10), needs={"jetpack": True}, **booking_input()
        )
    assert exc.value.field == "needs"


# --- cancel / reschedule -------------------------------------------------------------------


def test_cancel_frees_the_seat_and_cancels_the_ticket():
    center = open_center()
    start = local(tomorrow(), 10)
    appointment = services.appointment_book(center=center, start=start, **booking_input())
    services.appointment_cancel(appointment_id=appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.ticket.status == "cancelled"
    assert SlotCounter.objects.get(center=center, start=start).booked == 0


def test_cancel_refused_after_cutoff_and_nothing_changes():
    center = open_center()
    start = local(tomorrow(), 10)
    appointment = services.appointment_book(center=center, start=start, **booking_input())
    with pytest.raises(DomainError) as exc:
        services.appointment_cancel(appointment_id=appointment.pk, now=start - dt.timedelta(minutes=59))
    assert exc.value.code == "too_late"
    appointment.refresh_from_db()
    assert appointment.status == "booked" and appointment.ticket.status == "booked"
    assert SlotCounter.objects.get(center=center, start=start).booked == 1


def test_cancel_twice_is_refused():
    center = open_center()
    appointment = services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    services.appointment_cancel(appointment_id=appointment.pk)
    with pytest.raises(DomainError) as exc:
        services.appointment_cancel(appointment_id=appointment.pk)
    assert exc.value.code == "invalid_transition"
    assert SlotCounter.objects.get(center=center).booked == 0


def test_reschedule_moves_the_seat():
    center = open_center()
    old, new = local(tomorrow(), 10), local(tomorrow(), 15)
    appointment = services.appointment_book(center=center, start=old, **booking_input())
    services.appointment_reschedule(appointment_id=appointment.pk, start=new)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.reschedule_count) == (new, 1)
    assert dict(SlotCounter.objects.values_list("start", "booked")) == {old: 0, new: 1}


def test_reschedule_writes_its_row_in_the_ticket_timeline():
    # given a booked appointment at 10:00
    center = open_center()
    day = tomorrow()
    appointment = services.appointment_book(center=center, start=local(day, 10), **booking_input())
    # when the customer moves it to 15:00
    services.appointment_reschedule(appointment_id=appointment.pk, start=local(day, 15))
    # then the ticket's timeline records who moved it, from when to when, without moving the ticket
    last = appointment.ticket.events.order_by("at", "pk").last()
    assert (last.action, last.from_status, last.to_status, last.actor_label) == (
        "reschedule",
        "booked",
        "booked",
        "customer",
    )
    assert last.note == f"Appointment moved from {day:%Y-%m-%d} 10:00 to {day:%Y-%m-%d} 15:00."
    assert RepairTicket.objects.get(pk=appointment.ticket_id).status == "booked"


def test_a_refused_reschedule_writes_no_timeline_row():
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    services.appointment_book(center=center, start=local(day, 15), **booking_input())
    mine = services.appointment_book(center=center, start=local(day, 10), **booking_input())
    with pytest.raises(DomainError):
        services.appointment_reschedule(appointment_id=mine.pk, start=local(day, 15))
    assert list(mine.ticket.events.values_list("action", flat=True)) == ["book"]


def test_reschedule_of_an_unknown_appointment_is_not_found():
    with pytest.raises(DomainError) as exc:
        services.appointment_reschedule(appointment_id=999_999, start=local(tomorrow(), 15))
    assert (exc.value.code, exc.value.status) == ("not_found", 404)


def test_reschedule_into_full_slot_keeps_the_old_one():
    center = open_center()
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    services.appointment_book(center=center, start=local(day, 15), **booking_input())
    mine = services.appointment_book(center=center, start=local(day, 10), **booking_input())
    with pytest.raises(DomainError) as exc:
        services.appointment_reschedule(appointment_id=mine.pk, start=local(day, 15))
    assert exc.value.code == "slot_full" and exc.value.extra["alternatives"]
    mine.refresh_from_db()
    assert mine.start == local(day, 10)
    assert dict(SlotCounter.objects.values_list("start", "booked")) == {local(day, 10): 1, local(day, 15): 1}


# --- no-shows and reminders ----------------------------------------------------------------


def test_no_shows_marked_after_grace_once():
    center = open_center()
    start = local(tomorrow(), 10)
    appointment = services.appointment_book(center=center, start=start, **booking_input())
    assert services.appointments_mark_no_shows(now=start + dt.timedelta(minutes=50)) == 0
    assert services.appointments_mark_no_shows(now=start + dt.timedelta(minutes=61)) == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    assert appointment.ticket.status == "cancelled"
    assert services.appointments_mark_no_shows(now=start + dt.timedelta(hours=3)) == 0


def test_appointments_for_reminder_lists_booked_ones_of_the_day():
    center = open_center()
    day = tomorrow()
    a = services.appointment_book(center=center, start=local(day, 10), **booking_input())
    b = services.appointment_book(center=center, start=local(day, 9), **booking_input())
    c = services.appointment_book(center=center, start=local(day, 11), **booking_input())
    services.appointment_cancel(appointment_id=c.pk)
    assert list(selectors.appointments_for_reminder(day=day)) == [b, a]
    assert services.appointment_mark_reminded(appointment_id=b.pk) is True
    assert services.appointment_mark_reminded(appointment_id=b.pk) is False
    assert list(selectors.appointments_for_reminder(day=day)) == [a]
    assert list(selectors.appointments_for_reminder(day=day + dt.timedelta(days=1))) == []


# --- callbacks and surveys -----------------------------------------------------------------


def test_callback_request_normalises_phone():
    cb = services.callback_request_create(
        name="李雷", phone="139 1234 5678", topic="repair", preferred_window="morning"
    )
    assert cb.phone == "+8613912345678" and cb.status == "open"


def test_callback_request_refuses_bad_phone():
    with pytest.raises(DomainError) as exc:
        services.callback_request_create(name="李雷", phone="abc", topic="repair", preferred_window="morning")
    assert exc.value.field == "phone"
    assert not CallbackRequest.objects.exists()


def _delivered_ticket():
    center = open_center()
    appointment = services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    RepairTicket.objects.filter(pk=appointment.ticket_id).update(status="delivered")
    return appointment.ticket


def test_survey_once_per_ticket_after_hand_back():
    ticket = _delivered_ticket()
    survey = services.survey_submit(ticket_id=ticket.pk, overall=5, staff=4, speed=3, quality=5, comment=" ok ")
    assert (survey.overall, survey.comment, survey.center_id) == (5, "ok", ticket.center_id)
    with pytest.raises(DomainError) as exc:
        services.survey_submit(ticket_id=ticket.pk, overall=1, staff=1, speed=1, quality=1)
    assert exc.value.code == "survey_exists"
    assert Survey.objects.count() == 1


def test_survey_refused_before_hand_back_and_for_bad_stars():
    center = open_center()
    appointment = services.appointment_book(center=center, start=local(tomorrow(), 10), **booking_input())
    with pytest.raises(DomainError) as exc:
        services.survey_submit(ticket_id=appointment.ticket_id, overall=5, staff=5, speed=5, quality=5)
    assert exc.value.code == "survey_not_open"
    ticket = _delivered_ticket()
    with pytest.raises(DomainError) as exc:
        services.survey_submit(ticket_id=ticket.pk, overall=6, staff=5, speed=5, quality=5)
    assert (exc.value.code, exc.value.field) == ("validation_error", "overall")
    for bad in (11, -1, True, "9"):
        with pytest.raises(DomainError) as exc:
            services.survey_submit(ticket_id=ticket.pk, overall=5, staff=5, speed=5, quality=5, recommend=bad)
        assert (exc.value.code, exc.value.field) == ("validation_error", "recommend")
    assert not Survey.objects.exists()


def test_survey_records_the_optional_recommendation():
    ticket = _delivered_ticket()
    survey = services.survey_submit(ticket_id=ticket.pk, overall=5, staff=5, speed=5, quality=5, recommend=0)
    assert Survey.objects.get(pk=survey.pk).recommend == 0  # 0 is an answer, not "skipped"
    other = _delivered_ticket()
    assert services.survey_submit(ticket_id=other.pk, overall=4, staff=4, speed=4, quality=4).recommend is None


def test_hours_helper_uses_centers_selector():
    center = open_center()
    with mock.patch("centers.selectors.center_hours_on", return_value=[]) as patched:
        assert selectors.slots_for_day(center=center, day=tomorrow()) == []
    assert patched.called
