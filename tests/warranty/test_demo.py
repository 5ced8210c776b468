import io

import pytest

from warranty import demo
from warranty.models import Device, DeviceModel, PlanProduct, PlanPurchase, StatutoryPolicy

pytestmark = pytest.mark.django_db


def counts():
    return tuple(m.objects.count() for m in (DeviceModel, StatutoryPolicy, PlanProduct, Device, PlanPurchase))


def test_seed_is_idempotent_and_prints_demo_imeis():
    out = io.StringIO()
    demo.seed(out=out, options={})
    first = counts()
    demo.seed(out=io.StringIO(), options={})
    assert counts() == first
    assert first[:4] == (
        len(demo.CATALOG),
        len(demo.POLICIES),
        len(demo.PLANS),
        len(demo.DEVICES) + len(demo.SERIAL_DEVICES),
    )
    text = out.getvalue()
    assert f"IMEI {demo.demo_imei(1)}" in text
    assert "in_warranty=True" in text and "in_warranty=False" in text


def test_demo_imeis_are_valid():
    from stdnum import imei

    assert all(imei.is_valid(demo.demo_imei(n)) for n, *_ in demo.DEVICES)


def test_plan_expire_task_runs_the_service():
    from warranty.tasks import plan_purchases_expire

    # .get() refuses to run when an earlier test of the process left Celery's task stack non-empty (eager
    # mode); the eager result holds the return value and the state without it.
    result = plan_purchases_expire.apply()
    assert result.successful() and result.result == 0
