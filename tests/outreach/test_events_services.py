"""Sign-up, cancel, attendance and closing of community events (outreach.services), and the reminder job."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Notification
from outreach import jobs, services
from outreach.models import Event, Registration
from servicehub.errors import DomainError
from servicehub.models import JobRun, OutboxEvent

from .conftest import make_event

pytestmark = pytest.mark.django_db


def _code(fn, **kw):
    with pytest.raises(DomainError) as err:
        fn(**kw)
    return err.value.code, err.value.status


def test_sign_up_takes_a_place_normalises_the_phone_and_sends_the_door_code(place, sms_outbox):
    event = make_event(place["center"], capacity=2)
    reg = services.event_register(event_id=event.pk, name=" 王阿姨 ", phone="139 0000 0101", language="zh-hans")
    event.refresh_from_db()
    assert (reg.name, reg.phone, reg.status, event.places_taken) == ("王阿姨", "+8613900000101", "registered", 1)
    assert len(reg.code) == 6 and reg.code.isdigit()
    (outbox,) = OutboxEvent.objects.filter(type="event.registered")
    assert outbox.payload["registration_id"] == reg.pk and "phone" not in outbox.payload  # no personal data
    (sms,) = Notification.objects.filter(kind="event_registered")
    assert sms.recipient == "+8613900000101" and reg.code in sms.body and "曹杨新村社区中心" in sms.body
    assert sms.status == "pending"  # sent after the real commit (the browser journey sees it arrive)


def test_english_sign_up_gets_the_english_sms(place, sms_outbox):
    event = make_event(place["center"])
    reg = services.event_register(event_id=event.pk, name="Ann", phone="13900000102", language="en")
    (sms,) = Notification.objects.filter(kind="event_registered")
    assert sms.body.startswith("[ServiceHub] You are signed up for Phone class for seniors") and reg.code in sms.body


def test_full_already_registered_closed_and_bad_input_refused_nothing_written(place):
    event = make_event(place["center"], capacity=1)
    services.event_register(event_id=event.pk, name="A", phone="13900000101")
    assert _code(services.event_register, event_id=event.pk, name="A", phone="+86 139-0000-0101") == (
        "already_registered",
        409,
    )
    assert _code(services.event_register, event_id=event.pk, name="B", phone="13900000102") == ("event_full", 409)
    assert _code(services.event_register, event_id=event.pk, name="", phone="13900000103")[0] == "validation_error"
    assert _code(services.event_register, event_id=event.pk, name="C", phone="021-61234567")[0] == "validation_error"
    started = make_event(place["center"], starts_at=timezone.now() - dt.timedelta(minutes=5))
    assert _code(services.event_register, event_id=started.pk, name="D", phone="13900000104") == ("event_closed", 409)
    cancelled = make_event(place["center"], status="cancelled")
    assert _code(services.event_register, event_id=cancelled.pk, name="E", phone="13900000105")[0] == "event_closed"
    training = make_event(place["center"], kind="staff_training")
    assert _code(services.event_register, event_id=training.pk, name="F", phone="13900000106") == ("not_found", 404)
    assert Registration.objects.count() == 1
    event.refresh_from_db()
    assert event.places_taken == 1


def test_cancel_frees_the_place_and_the_phone_may_sign_up_again(place):
    event = make_event(place["center"], capacity=1)
    reg = services.event_register(event_id=event.pk, name="A", phone="13900000101")
    services.registration_cancel(registration_id=reg.pk, actor=place["actors"]["desk"])
    event.refresh_from_db()
    assert event.places_taken == 0
    again = services.event_register(event_id=event.pk, name="A", phone="13900000101")
    assert again.code != reg.code or again.pk != reg.pk
    assert _code(services.registration_cancel, registration_id=reg.pk, actor=place["actors"]["desk"])[0] == (
        "invalid_state"
    )
    # another center's desk does not see it
    assert _code(services.registration_cancel, registration_id=again.pk, actor=place["actors"]["other_desk"]) == (
        "not_found",
        404,
    )


def test_the_database_refuses_more_places_than_capacity_and_two_active_rows_per_phone(place):
    event = make_event(place["center"], capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(places_taken=2)
    Registration.objects.create(event=event, name="A", phone="+8613900000101", code="111111")
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(event=event, name="A", phone="+8613900000101", code="222222")


def test_attend_by_door_then_close_marks_the_rest_no_show_with_results(place):
    event = make_event(place["center"], capacity=5)
    came = services.event_register(event_id=event.pk, name="A", phone="13900000101")
    services.event_register(event_id=event.pk, name="B", phone="13900000102")
    desk = place["actors"]["desk"]
    services.registration_mark_attended(registration_id=came.pk, actor=desk)
    assert _code(services.registration_mark_attended, registration_id=came.pk, actor=desk)[0] == "already_attended"
    assert _code(services.event_close, event_id=event.pk, actor=desk, results_note="x")[0] == "event_not_started"
    later = event.starts_at + dt.timedelta(hours=1)
    assert _code(services.event_close, event_id=event.pk, actor=desk, results_note=" ", now=later)[0] == (
        "validation_error"
    )
    assert services.event_close(event_id=event.pk, actor=desk, results_note="检测 12 台", devices_checked=12, now=later)
    event.refresh_from_db()
    assert (event.status, event.results_note, event.devices_checked) == ("done", "检测 12 台", 12)
    assert dict(Registration.objects.values_list("name", "status")) == {"A": "attended", "B": "no_show"}
    came.refresh_from_db()
    assert came.attended_at is not None


def test_reminders_the_day_before_once_per_registration(place, sms_outbox):
    now = timezone.localtime()
    tomorrow_10 = (now + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    event = make_event(place["center"], starts_at=tomorrow_10, ends_at=tomorrow_10 + dt.timedelta(hours=2))
    later = make_event(place["center"], days=5)
    a = services.event_register(event_id=event.pk, name="A", phone="13900000101")
    b = services.event_register(event_id=event.pk, name="B", phone="13900000102")
    services.event_register(event_id=later.pk, name="C", phone="13900000103")
    services.registration_cancel(registration_id=b.pk, actor=place["actors"]["desk"])
    assert jobs.job_event_reminders(now=now) == {"day": tomorrow_10.date().isoformat(), "reminded": 1}
    (row,) = Notification.objects.filter(kind="event_reminder")
    assert row.recipient == a.phone and a.code in row.body and "10:00" in row.body
    JobRun.objects.all().delete()  # a manual re-run of the same day
    assert jobs.job_event_reminders(now=now) == {"day": tomorrow_10.date().isoformat(), "reminded": 0}
    assert Notification.objects.filter(kind="event_reminder").count() == 1
    assert OutboxEvent.objects.filter(type="event.reminder_due").count() == 1


def test_staff_save_keeps_the_places_taken_and_managers_only(place):
    event = make_event(place["center"], capacity=3)
    services.event_register(event_id=event.pk, name="A", phone="13900000101")
    stale = Event.objects.get(pk=event.pk)
    services.event_register(event_id=event.pk, name="B", phone="13900000102")  # lands while the form is open
    stale.title_zh = "新标题"
    services.event_details_save(event=stale, actor=place["actors"]["manager"], creating=False)
    event.refresh_from_db()
    assert (event.title_zh, event.places_taken) == ("新标题", 2)
    stale.capacity = 1
    assert _code(services.event_details_save, event=stale, actor=place["actors"]["manager"], creating=False)[0] == (
        "validation_error"
    )
    assert _code(services.event_details_save, event=stale, actor=place["actors"]["desk"], creating=False) == (
        "permission_denied",
        403,
    )


def test_demo_events_are_idempotent(db):
    import io

    from outreach import demo
    from tests.factories.centers import ServiceCenterFactory

    ServiceCenterFactory(code="SC-SH-001")
    ServiceCenterFactory()
    demo._seed_events(out=io.StringIO(), options={})
    counts = (Event.objects.count(), Registration.objects.count())
    demo._seed_events(out=io.StringIO(), options={})
    assert (Event.objects.count(), Registration.objects.count()) == counts == (8, 3)
    assert not Event.objects.filter(kind="staff_training", public=True).exists()
    taken = Event.objects.get(center__code="SC-SH-001", kind="customer_class", sign_language=False)
    assert taken.places_taken == 3


def test_one_phone_is_signed_up_three_times_a_day_at_most(place, sms_outbox):
    # The SMS goes to a number nobody verified: the form must not flood someone with messages.
    extra = [make_event(place["center"], days=3 + n, title_zh=f"课堂 {n}") for n in range(4)]
    for event in extra[:3]:
        services.event_register(event_id=event.pk, name="李阿姨", phone="13900000777")
    before = (Registration.objects.count(), len(sms_outbox))
    with pytest.raises(DomainError) as err:
        services.event_register(event_id=extra[3].pk, name="李阿姨", phone="139 0000 0777")
    assert (err.value.code, err.value.status) == ("too_many_signups", 429)
    assert (Registration.objects.count(), len(sms_outbox)) == before
    extra[3].refresh_from_db()
    assert extra[3].places_taken == 0
    # another phone is not held back, and the desk (not public) may still sign her up
    services.event_register(event_id=extra[3].pk, name="张大爷", phone="13900000778")
    services.event_register(event_id=extra[3].pk, name="李阿姨", phone="13900000777", public_only=False)
    assert Registration.objects.filter(phone="+8613900000777").count() == 4
