"""Community events in a real browser (issue #22): an older customer on a 360 px phone, in Chinese, finds a
phone-use class, signs up and gets her door code (on the page and by SMS); at the class, the front desk finds
her by that code and marks her attended in one click. Each step checks the database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from outreach.models import Event, Registration
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.sms import SENT_SMS, MemorySMSBackend  # noqa: F401 (dotted path below)

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests.factories.users.StaffUserFactory
DOCS_IMG = docs_img_dir()


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = "tests.sms.MemorySMSBackend"
    SENT_SMS.clear()
    yield SENT_SMS
    SENT_SMS.clear()


@pytest.fixture
def phone_page(browser, live_server):
    """A 360 px wide phone in Chinese (the customer's default)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, device_scale_factor=1, base_url=live_server.url, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def classes(db):
    center = ServiceCenterFactory(code="SC-CY", name="上海曹杨授权服务中心")
    starts = timezone.localtime() + dt.timedelta(days=4)
    starts = starts.replace(hour=9, minute=30, second=0, microsecond=0)

    def event(kind, title_zh, title_en, venue, capacity):
        return Event.objects.create(
            center=center,
            kind=kind,
            title_zh=title_zh,
            title_en=title_en,
            venue_name=venue,
            venue_address="普陀区兰溪路 100 号",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            capacity=capacity,
        )

    phone_class = event(
        "customer_class",
        "长者智能手机课堂：微信视频通话",
        "Phone class: WeChat video calls",
        "曹杨新村社区文化中心",
        20,
    )
    outreach = event("community_outreach", "进社区：免费手机检测", "Free phone check", "田林街道市民驿站", 40)
    return {"center": center, "class": phone_class, "outreach": outreach}


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_older_customer_finds_a_phone_class_signs_up_at_360px_in_chinese(phone_page, sms, classes, zh_translations):
    page = phone_page
    # She starts on the home page and follows the menu to the community events.
    page.goto("/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="社区活动").click()
    page.wait_for_url(re.compile(r"/events/$"))
    assert "社区活动与课堂" in page.locator("h1").inner_text()
    # Only the phone-use classes, please.
    page.get_by_label("类型").select_option(label="手机使用课堂")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(re.compile(r"kind=customer_class"))
    cards = page.locator("#events li.card")
    assert cards.count() == 1 and "剩余 20 个名额" in cards.first.inner_text()
    _no_horizontal_scroll(page)
    assert_accessible(page)

    page.get_by_role("link", name="长者智能手机课堂：微信视频通话").click()
    page.locator("#signup-form").wait_for()
    assert "曹杨新村社区文化中心" in page.locator("main").inner_text()
    page.get_by_label("您的姓名").fill("王秀英")
    page.get_by_label("手机号码").fill("139 1234 0101")
    _no_horizontal_scroll(page)
    assert_accessible(page)
    page.get_by_role("button", name="报名").click()
    page.wait_for_url(re.compile(r"/signed-up/"))

    # The page shows her door code in big digits; the database has her place; the SMS carries the same code.
    assert "报名成功" in page.locator("h1").inner_text()
    code = page.locator("#door-code").inner_text().strip()
    registration = Registration.objects.get(event=classes["class"])
    assert (registration.name, registration.phone, registration.status, registration.code) == (
        "王秀英",
        "+8613912340101",
        "registered",
        code,
    )
    assert Event.objects.get(pk=classes["class"].pk).places_taken == 1
    texts = [m["text"] for m in sms if m["to"] == "+8613912340101"]
    assert len(texts) == 1 and code in texts[0] and "入场码" in texts[0] and "曹杨新村社区文化中心" in texts[0]
    _no_horizontal_scroll(page)
    assert_accessible(page)
    page.screenshot(path=str(DOCS_IMG / "outreach-events-signed-up.png"))

    # Signing up twice with the same phone is refused in words, and takes no second place.
    page.goto(f"/events/{classes['class'].pk}/")
    page.get_by_label("您的姓名").fill("王秀英")
    page.get_by_label("手机号码").fill("13912340101")
    page.get_by_role("button", name="报名").click()
    assert "这个手机号已经报名了此活动。" in page.locator("#form-errors").inner_text()
    assert Registration.objects.filter(event=classes["class"]).count() == 1


def test_front_desk_marks_her_attended_by_the_door_code(browser, live_server, classes, zh_translations):
    from outreach import services

    registration = services.event_register(event_id=classes["class"].pk, name="王秀英", phone="13912340101")
    services.event_register(event_id=classes["class"].pk, name="李建国", phone="13912340202")
    desk = staff(classes["center"], "front_desk", username="doordesk")
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, base_url=live_server.url, device_scale_factor=1, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto("/admin/login/?next=/admin/")
        page.locator("#id_username").fill(desk.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#login-form [type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/$"))

        # From the list of events to the door page of the class.
        page.goto("/admin/outreach/event/")
        page.locator("tr:has-text('长者智能手机课堂') a.door-link").click()
        page.wait_for_url(re.compile(rf"/admin/outreach/event/{classes['class'].pk}/door/"))
        assert page.locator("#count-registered").inner_text() == "2"

        # She shows her code; the desk types it, finds her, and marks her attended in one click.
        page.get_by_label("入场码或手机号后 4 位").fill(registration.code)
        with page.expect_navigation():  # the search is a GET of the door page: wait for its answer
            page.get_by_role("button", name="查找").click()
        match = page.locator("#door-matches tr.door-match")
        match.first.wait_for()
        assert match.count() == 1 and "王秀英" in match.inner_text() and "139****0101" in match.inner_text()
        page.screenshot(path=str(DOCS_IMG / "outreach-events-door.png"))
        with page.expect_navigation():
            page.get_by_role("button", name="已到场: 王秀英").first.click()
        assert "王秀英 已签到。" in page.locator("ul.messagelist").inner_text()

        registration.refresh_from_db()
        assert registration.status == "attended" and registration.attended_at is not None
        assert Registration.objects.get(name="李建国").status == "registered"
        assert page.locator("#count-attended").inner_text() == "1"
    finally:
        context.close()


def test_manager_cancels_a_sign_up_then_closes_the_event_with_its_results(staff_page, classes, zh_translations):
    """After the class: one sign-up phoned to cancel (the place goes back), one never came; the manager writes
    the results and closes it, and the one who did not come is counted so."""
    from outreach import services

    event = classes["outreach"]
    came = services.event_register(event_id=event.pk, name="王秀英", phone="13912340301")
    called_off = services.event_register(event_id=event.pk, name="李建国", phone="13912340302")
    absent = services.event_register(event_id=event.pk, name="赵美兰", phone="13912340303")
    manager = staff(classes["center"], "manager", username="eventmgr")
    page = staff_page(manager)

    # The registrations list: tick 李建国, pick the action, run it.
    page.goto("/admin/outreach/registration/")
    page.locator(f"input.action-select[value='{called_off.pk}']").check()
    page.locator("select[name=action]").select_option("cancel_registrations")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    assert ("已取消 1 个报名" if zh_translations else "1 registrations cancelled.") in page.locator(
        "ul.messagelist"
    ).inner_text()
    called_off.refresh_from_db()
    event.refresh_from_db()
    assert called_off.status == "cancelled" and event.places_taken == 2

    # The event took place (it started two hours ago); 王秀英 came.
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=2), ends_at=timezone.now() - dt.timedelta(minutes=10)
    )
    services.registration_mark_attended(registration_id=came.pk, actor=_actor(manager))
    page.goto(f"/admin/outreach/event/{event.pk}/door/")
    with page.expect_navigation():
        page.locator("#door-close").click()
    page.get_by_label("活动成果" if zh_translations else "Results").fill("检测手机 12 台，教会 5 位老人视频通话。")
    page.get_by_label("检测设备数" if zh_translations else "Devices checked").fill("12")
    with page.expect_navigation():
        page.locator("#close-submit").click()
    assert_accessible(page)
    event.refresh_from_db()
    absent.refresh_from_db()
    assert (event.status, event.devices_checked) == ("done", 12)
    assert event.results_note.startswith("检测手机 12 台")
    assert absent.status == "no_show"
    assert Registration.objects.get(pk=came.pk).status == "attended"


def _actor(user):
    from servicehub.actors import actor_for_user

    return actor_for_user(user)
