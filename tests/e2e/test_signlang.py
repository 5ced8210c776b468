"""Sign-language video sessions and hotline callbacks in a real browser (issue #22 items 4 and 6).

A deaf customer on a 360 px phone, in Chinese, books with the sign-language need and finds the video link on the
confirmation page, in the SMS and on the tracking page; the front desk marks the session prepared on "Today at the
desk"; a hotline worker calls a customer back, confirms who she is, picks her repair and logs the outcome. Each
step checks the database.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from booking import services as booking_services
from booking.models import Appointment, CallbackRequest
from centers.models import StaffMembership
from notifications.models import Notification
from outreach.models import SignLanguageSession
from repairs.models import TicketEvent
from servicehub.actors import actor_for_user
from tests.factories.booking import booking_input, local, next_phone, open_center, tomorrow
from tests.factories.repairs import staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, make_imei

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()


def _fits_360(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.fixture
def center(db):
    return open_center(code="SC-SH-SIGN", name="上海静安授权服务中心", address="上海市静安区南京西路1号")


def test_deaf_customer_books_with_sign_language_and_sees_the_video_link_360_chinese(
    browser, live_server, settings, zh_translations, center
):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}
    DeviceModelFactory(code="PHN-1", name="Phone One")
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, device_scale_factor=1, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"/book/?center={center.code}")
        page.locator("label.slot:not(.full)").first.click()
        page.locator("[name=imei]").fill(make_imei())
        page.locator("[name=model]").select_option("PHN-1")
        page.locator("[name=fault_category]").select_option("screen")
        page.locator("[name=issue]").fill("屏幕碎了")
        page.locator("[name=name]").fill("林晓")
        phone = next_phone()
        page.locator("[name=phone]").fill(phone)
        page.get_by_label("我需要手语视频服务").check()
        page.get_by_role("button", name="预约此时段").click()
        page.wait_for_url(re.compile(r"/book/.+/done/"))

        appointment = Appointment.objects.select_related("ticket").get()
        assert appointment.needs == {"sign_language": True}
        session = SignLanguageSession.objects.get(appointment=appointment)
        assert (session.status, session.center_id, session.scheduled_start) == (
            "scheduled",
            center.pk,
            appointment.start,
        )
        link = page.locator("#sign-session-link")
        assert link.get_attribute("href") == session.join_url
        assert "手语视频服务" in page.locator("#sign-session").inner_text()
        assert session.host_url not in page.content()
        _fits_360(page)
        assert_accessible(page)
        page.screenshot(path=str(DOCS_IMG / "outreach-signlang-booked.png"), full_page=False)

        # One confirmation SMS, with the join link in it (and the tracking link).
        sms = Notification.objects.get(kind="appointment_booked", channel="sms", ticket=appointment.ticket)
        assert session.join_url in sms.body and "手语视频链接" in sms.body
        track = re.search(r"https?://\S+/track/\S+", sms.body).group(0)
        page.goto(track)
        assert page.locator("#sign-session-link").get_attribute("href") == session.join_url
        _fits_360(page)
        assert_accessible(page)
    finally:
        context.close()


def test_front_desk_marks_the_session_prepared(staff_page, center):
    desk = staff(center, "front_desk", username="sign_desk")
    signer = staff(center, "front_desk", username="sign_signer")
    StaffMembership.objects.filter(user=signer).update(skills=["sign_language"])
    appointment = booking_services.appointment_book(
        center=center, start=local(tomorrow(), 10), needs={"sign_language": True}, **booking_input(name="林晓")
    )
    session = SignLanguageSession.objects.get(appointment=appointment)
    page = staff_page(desk)
    page.goto("/admin/repairs/repairticket/today/")
    row = page.locator(f"#today-sign-sessions tr[data-service-no='{appointment.ticket.service_no}']")
    assert "林晓" in row.inner_text()
    assert row.get_by_role("link", name="以主持人身份打开").get_attribute("href") == session.host_url
    assert_accessible(page)
    page.screenshot(path=str(DOCS_IMG / "outreach-signlang-desk.png"), full_page=False)
    with page.expect_navigation():
        row.get_by_role("button", name="标记为已准备").click()
    assert "已标记为已准备。" in page.locator("ul.messagelist").inner_text()
    assert page.locator(f"#today-sign-sessions tr[data-service-no='{appointment.ticket.service_no}']").count() == 0
    session.refresh_from_db()
    assert session.prepared_at is not None and session.prepared_by_id == desk.pk


def test_hotline_worker_logs_an_outcome_linking_the_customers_ticket(staff_page, center):
    worker = staff(center, "front_desk", username="hotline_worker")
    worker.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_callbackrequest", "change_callbackrequest"])
    )
    ticket = walk_in(center, actor_for_user(worker), device=DeviceFactory(), phone="13955556666", name="周敏")
    callback = booking_services.callback_request_create(
        name="周敏", phone="13955556666", topic="repair", preferred_window="afternoon", note="想问维修进度"
    )
    page = staff_page(worker)
    page.goto("/admin/booking/callbackrequest/")
    page.locator("#result_list tr:has-text('周敏')").get_by_role("link", name="回电").click()
    page.wait_for_url(re.compile(rf"/admin/booking/callbackrequest/{callback.pk}/call/"))
    page.locator("#call-customer").check()
    page.get_by_label(re.compile(ticket.service_no)).check()
    page.locator("#call-note").fill("已告知维修进度，周五可取机")
    assert_accessible(page)
    page.screenshot(path=str(DOCS_IMG / "outreach-callback-call.png"), full_page=False)
    with page.expect_navigation():
        page.locator("#outcome-resolved").click()
    assert "回电已记录。" in page.locator("ul.messagelist").inner_text()

    callback = CallbackRequest.objects.get(pk=callback.pk)
    assert (callback.status, callback.outcome, callback.customer_id, callback.handled_by_id) == (
        "done",
        "resolved",
        ticket.customer_id,
        worker.pk,
    )
    assert list(callback.tickets.values_list("pk", flat=True)) == [ticket.pk]
    row = TicketEvent.objects.get(ticket=ticket, action="callback")
    assert "周五可取机" in row.note
