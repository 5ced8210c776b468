"""Issue #21 in a real browser: a desk check-in at 20:55 on the eve of National Day prints a promise on the next
business day (8 October 2026: the center closes for the holidays), and the customer at 360 px on the
tracking page (zh-Hans) sees the same promise.

The clock is the test's own: ``django.utils.timezone.now`` ticks from 20:55 (the live server runs in this
process), so the session, the check-in and the promise all live on that evening.
"""

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from repairs.models import RepairTicket
from tests.factories.centers import weekly_hours
from tests.factories.warranty import DeviceFactory

from .conftest import assert_accessible
from .test_staff_desk import DESK, doc_shot, login, scan, world  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 9, 30, 20, 55, tzinfo=TZ)  # Wednesday; 1-7 October are public holidays


@pytest.fixture
def evening(monkeypatch):
    real = time.monotonic()
    monkeypatch.setattr(timezone, "now", lambda: START + dt.timedelta(seconds=time.monotonic() - real))
    return START


def test_a_late_check_in_promises_the_next_business_day_on_receipt_and_tracking_page(
    browser,
    live_server,
    world,  # noqa: F811  (the fixture imported above)
    evening,
    settings,
    zh_translations,  # noqa: F811
):
    settings.LANGUAGE_CODE = "zh-hans"
    center = weekly_hours(world["center"], intervals=((dt.time(9), dt.time(21)),))  # every day 9:00-21:00
    device = DeviceFactory(model=world["model"])
    desk = browser.new_context(viewport=DESK, base_url=live_server.url, locale="zh-CN")
    desk.set_default_timeout(20_000)
    page = desk.new_page()
    login(page, world["users"]["desk"])

    # the desk checks a cracked screen in five minutes before closing
    page.goto("/admin/repairs/repairticket/checkin/")
    scan(page, device.imei)
    expect(page.locator("#id_phone")).to_be_focused(
        timeout=20_000
    )  # the cursor moves there after the lookup (autofocus)
    page.keyboard.type("138 0013 8000")
    page.locator("#id_name").fill("王小明")
    page.locator("#id_fault_category").select_option("screen")
    page.locator("#check-in-button").click()
    expect(page).to_have_url(
        re.compile(r"/receipt/\?checked_in=1$"), timeout=20_000
    )  # on failure, says where it stayed

    # 5 minutes today + 85 on the next business day (8 Oct, after the National Day holidays), quarter hour
    ticket = RepairTicket.objects.get()
    assert timezone.localtime(ticket.promised_at) == dt.datetime(2026, 10, 8, 10, 30, tzinfo=TZ)
    assert ticket.center_id == center.pk and ticket.express is False
    assert "2026-10-08 10:30" in page.inner_text("#promised-at")
    assert "预计完成时间" in page.inner_text("table")
    doc_shot(page, "receipt-promise")
    desk.close()

    # the customer, on the phone (360 px), tracks the repair in Chinese and sees the same promise
    phone = browser.new_context(viewport={"width": 360, "height": 780}, base_url=live_server.url, locale="zh-CN")
    phone.set_default_timeout(20_000)
    mobile = phone.new_page()
    mobile.goto("/track/")
    mobile.locator("#id_service_no").fill(ticket.service_no)
    mobile.locator("#id_phone_last4").fill("8000")
    mobile.locator("form.track-form button[type=submit]").click()
    promise = mobile.get_by_test_id("promised-at")
    promise.wait_for()
    assert promise.inner_text() == "预计 2026-10-08 10:30 前完成"
    assert mobile.evaluate("() => document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    assert_accessible(mobile)
    doc_shot(mobile, "tracking-promise")
    phone.close()
    assert RepairTicket.objects.get().promised_at == ticket.promised_at  # reading changed nothing
