"""The roster: escalations of overdue repairs go to the managers on shift, else to every manager."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from centers.models import StaffShift
from centers.selectors import managers_on_shift
from notifications.models import Notification
from repairs import jobs
from repairs.models import RepairTicket
from repairs.services import ticket_book
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import CustomerFactory, staff
from tests.factories.warranty import DeviceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def center():
    return ServiceCenterFactory()  # no weekly hours: open around the clock (escalations are never held)


def _manager(center, name):
    user = staff(center, "manager", username=name)
    user.email = f"{name}@example.com"
    user.save()
    return user


def _shift(center, user, start, hours=8):
    return StaffShift.objects.create(
        center=center, user=user, starts_at=start, ends_at=start + dt.timedelta(hours=hours)
    )


def test_the_manager_on_shift_is_told_and_the_one_off_shift_is_not(center):
    now = timezone.now()
    day, night = _manager(center, "day_mgr"), _manager(center, "night_mgr")
    _shift(center, day, now - dt.timedelta(hours=2))
    _shift(center, night, now + dt.timedelta(hours=6))
    assert [u.username for u in managers_on_shift(center_id=center.pk, at=now)] == ["day_mgr"]
    ticket = ticket_book(center=center, customer=CustomerFactory(), device=DeviceFactory(), fault_category="screen")
    RepairTicket.objects.filter(pk=ticket.pk).update(status="repairing", stage_due_at=now - dt.timedelta(minutes=5))
    assert jobs.job_sla_watch(now=now)["new_breaches"] == 1
    assert list(Notification.objects.filter(kind="sla_breached").values_list("recipient", flat=True)) == [
        "day_mgr@example.com"
    ]


def test_with_nobody_on_shift_every_manager_is_told(center):
    now = timezone.now()
    a, b = _manager(center, "mgr_a"), _manager(center, "mgr_b")
    staff(center, "front_desk")  # not a manager
    _shift(center, a, now - dt.timedelta(days=1))  # yesterday's shift: over
    assert [u.username for u in managers_on_shift(center_id=center.pk, at=now)] == ["mgr_a", "mgr_b"]
    # another center's roster does not count here
    other = ServiceCenterFactory()
    staff(other, "manager")
    assert {u.pk for u in managers_on_shift(center_id=center.pk, at=now)} == {a.pk, b.pk}


def test_a_shift_is_for_someone_of_that_center_and_ends_after_it_starts(center):
    stranger = staff(ServiceCenterFactory(), "manager")
    now = timezone.now()
    with pytest.raises(ValidationError) as err:
        StaffShift(center=center, user=stranger, starts_at=now, ends_at=now + dt.timedelta(hours=8)).full_clean()
    assert "user" in err.value.message_dict
    mine = _manager(center, "mine")
    with pytest.raises(ValidationError) as err:
        StaffShift(center=center, user=mine, starts_at=now, ends_at=now - dt.timedelta(hours=1)).full_clean()
    assert "ends_at" in err.value.message_dict


def test_managers_plan_their_centers_roster_and_the_desk_only_reads_it(center, django_assert_max_num_queries):
    manager, desk = _manager(center, "planner"), staff(center, "front_desk")
    other = ServiceCenterFactory()
    for user in (manager, desk):
        user.is_staff = True
        user.save()
    c = Client()
    c.force_login(manager)
    start = timezone.localtime() + dt.timedelta(days=1)
    form = {
        "center": center.pk,
        "user": manager.pk,
        "starts_at_0": f"{start:%Y-%m-%d}",
        "starts_at_1": "09:00:00",
        "ends_at_0": f"{start:%Y-%m-%d}",
        "ends_at_1": "17:00:00",
        "note": "",
    }
    r = c.post("/admin/centers/staffshift/add/", form)
    assert r.status_code == 302, r.content.decode()[:500]
    shift = StaffShift.objects.get()
    assert (shift.center_id, shift.user_id, timezone.localtime(shift.starts_at).hour) == (center.pk, manager.pk, 9)
    # another center is not among the choices
    assert c.post("/admin/centers/staffshift/add/", {**form, "center": other.pk}).status_code == 200
    assert StaffShift.objects.count() == 1
    for n in range(5):
        _shift(center, manager, timezone.now() + dt.timedelta(days=2 + n))
    with django_assert_max_num_queries(12):
        assert c.get("/admin/centers/staffshift/").status_code == 200
    d = Client()
    d.force_login(desk)
    assert d.get("/admin/centers/staffshift/").status_code == 200
    assert d.get("/admin/centers/staffshift/add/").status_code == 403
