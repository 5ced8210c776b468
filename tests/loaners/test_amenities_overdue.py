"""Overdue amenities (issue #22): the desk's overdue section (borrower, masked phone, days overdue) and the daily
reminder -- one SMS per overdue loan to a Chinese mobile number, recorded on the loan; landlines get none."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loaners import jobs, services
from loaners.models import AmenityLoan
from notifications.models import Notification
from servicehub.models import JobRun, OutboxEvent

from .amenity_fixtures import PHONE

pytestmark = pytest.mark.django_db

DESK = "/admin/loaners/amenityloan/desk/"
BACKEND = "django.contrib.auth.backends.ModelBackend"
LANDLINE = "021-61234567"


def _lend(desks, phone, amenity="umbrella", name="客人"):
    return services.amenity_lend(
        amenity_id=desks[amenity].pk,
        borrower_name=name,
        borrower_phone=phone,
        payment_method="cash",
        actor=desks["actors"]["desk"],
    )


def _overdue(loan, days: int):
    due = timezone.now() - dt.timedelta(days=days, hours=1)
    AmenityLoan.objects.filter(pk=loan.pk).update(lent_at=due - dt.timedelta(days=3), due_back_at=due)


# --- the desk page --------------------------------------------------------------------------------------------


def test_desk_shows_the_overdue_loans_on_top_with_masked_phone_and_days(client, desks):
    client.force_login(desks["users"]["desk"], backend=BACKEND)
    late = _lend(desks, PHONE, name="王阿姨")
    on_time = _lend(desks, "13900001111", name="李先生")
    elsewhere = services.amenity_lend(
        amenity_id=desks["umbrella_b"].pk,
        borrower_name="别处",
        borrower_phone="13900002222",
        payment_method="cash",
        actor=desks["actors"]["desk_b"],
    )
    _overdue(late, 2)
    _overdue(elsewhere, 5)
    html = client.get(DESK, {"center": "SC-AM1"}).content.decode()
    section = html[html.index('id="overdue"') : html.index('id="lend-form"')]
    assert f'id="overdue-{late.pk}"' in section and "王阿姨" in section
    assert "138****5678" in section and PHONE not in html
    assert "2 days" in section or "2 天" in section
    assert f'id="overdue-{on_time.pk}"' not in section  # not due yet
    assert f'id="overdue-{elsewhere.pk}"' not in section  # another center's
    assert '<span id="overdue-count">1</span>' in section
    assert html.index('id="overdue"') < html.index('id="lend-form"')


def test_desk_overdue_section_query_count_does_not_grow(client, desks, django_assert_num_queries):
    client.force_login(desks["users"]["desk"], backend=BACKEND)
    _overdue(_lend(desks, "13800000001"), 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(DESK).status_code == 200
    for n in range(3):
        _overdue(_lend(desks, f"1380000001{n}"), n + 1)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(DESK)
    assert len(re.findall(r'id="overdue-\d+"', page.content.decode())) == 4
    assert len(one.captured_queries) <= 15


def test_desk_says_when_nothing_is_overdue(client, desks):
    client.force_login(desks["users"]["desk"], backend=BACKEND)
    _lend(desks, PHONE)
    html = client.get(DESK).content.decode()
    assert 'id="nothing-overdue"' in html and '<span id="overdue-count">0</span>' in html


# --- the daily reminder ---------------------------------------------------------------------------------------


def test_reminder_job_sends_one_sms_per_overdue_mobile_loan_and_skips_landlines(
    desks, sms_outbox, django_capture_on_commit_callbacks
):
    mobile = _lend(desks, PHONE, name="王阿姨")
    landline = _lend(desks, LANDLINE, name="张先生", amenity="power_bank")
    not_due = _lend(desks, "13900001111")
    _overdue(mobile, 1)
    _overdue(landline, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_amenity_overdue_reminders() == {"reminded": 1, "skipped_not_mobile": 1}
    reminded = dict(AmenityLoan.objects.values_list("pk", "reminded_at"))
    assert reminded[mobile.pk] is not None
    assert reminded[landline.pk] is None and reminded[not_due.pk] is None
    sms = Notification.objects.get(kind="amenity_overdue")
    assert (sms.channel, sms.recipient, sms.status) == ("sms", mobile.borrower_phone, "sent")
    assert "雨伞" in sms.body and "20.00" in sms.body and "任一" in sms.body  # what, the deposit, any center
    assert [m for m in sms_outbox if "雨伞" in str(m)]  # sent after commit through the SMS backend
    assert OutboxEvent.objects.filter(type="amenity_loan.overdue_reminder_due").count() == 1


def test_reminder_job_second_run_sends_nothing(desks, sms_outbox):
    _overdue(_lend(desks, PHONE), 1)
    assert jobs.job_amenity_overdue_reminders() == {"reminded": 1, "skipped_not_mobile": 0}
    assert jobs.job_amenity_overdue_reminders() is None  # the same day: claimed already
    JobRun.objects.all().delete()  # the next day's run
    assert jobs.job_amenity_overdue_reminders() == {"reminded": 0, "skipped_not_mobile": 0}
    assert Notification.objects.filter(kind="amenity_overdue").count() == 1


def test_a_returned_loan_is_not_reminded(desks, sms_outbox):
    loan = _lend(desks, PHONE)
    _overdue(loan, 1)
    services.amenity_return(loan_id=loan.pk, actor=desks["actors"]["desk"])
    assert jobs.job_amenity_overdue_reminders() == {"reminded": 0, "skipped_not_mobile": 0}
    assert services.amenity_loan_mark_reminded(loan_id=loan.pk) is False
    assert not Notification.objects.filter(kind="amenity_overdue").exists()


def test_is_cn_mobile():
    from servicehub.phones import is_cn_mobile

    assert is_cn_mobile("+8613812345678") and is_cn_mobile("138 1234 5678")
    assert not is_cn_mobile("+862161234567")  # Shanghai landline
    assert not is_cn_mobile("+85291234567")  # Hong Kong mobile: not the mainland gateway's
    assert not is_cn_mobile("") and not is_cn_mobile("12")
