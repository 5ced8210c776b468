"""Customer journeys in a real browser, as issue #16 found them: a customer in a county town finds
the nearest official places, books, gets the SMS, tracks; changes and cancels with a confirmation
step and books again. At 360 px in Chinese and at 1366 px in English. Every page: no horizontal
overflow, no serious/critical axe-core violation; every journey ends with the database outcome."""

import re

import pytest

from booking import services as booking_services
from booking.models import Appointment
from centers.choices import CenterKind
from notifications.models import Notification
from repairs.models import RepairTicket
from tests.factories.booking import SlotRuleFactory, booking_input, local, next_phone, open_center, tomorrow
from tests.factories.centers import RegionFactory
from tests.factories.warranty import DeviceModelFactory, make_imei

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)


def _context(browser, live_server, *, width, english=False, position=None):
    kwargs = {
        "viewport": {"width": width, "height": 800},
        "device_scale_factor": 1,
        "base_url": live_server.url,
        "locale": "en-US" if english else "zh-CN",
    }
    if position is not None:
        kwargs.update(geolocation={"latitude": position[0], "longitude": position[1]}, permissions=["geolocation"])
    context = browser.new_context(**kwargs)
    context.set_default_timeout(15_000)
    if english:
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    return context


def _check(page, doc_name=None):
    """The page fits the screen (no sideways scrolling) and passes axe-core; optionally a docs shot."""
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, (page.url, page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))
    assert_accessible(page)
    if doc_name:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMG / f"{doc_name}.png"), full_page=False)


@pytest.fixture
def shaoyang():
    """湖南省 > 邵阳市 > 双清区 (a collection point and a service center) and 武冈市 (none); one in 长沙."""
    hunan = RegionFactory(adcode="430000000000", name="湖南省", level="province", lat=27.61, lng=111.71)
    shaoyang = RegionFactory(adcode="430500000000", name="邵阳市", level="city", parent=hunan, lat=27.24, lng=111.47)
    shuangqing = RegionFactory(adcode="430502000000", name="双清区", parent=shaoyang, lat=27.23, lng=111.48)
    RegionFactory(adcode="430581000000", name="武冈市", parent=shaoyang, lat=26.73, lng=110.63)
    changsha = RegionFactory(adcode="430100000000", name="长沙市", level="city", parent=hunan, lat=28.23, lng=112.94)
    furong = RegionFactory(adcode="430102000000", name="芙蓉区", parent=changsha, lat=28.19, lng=112.99)
    where = {"region": shuangqing, "city": shaoyang, "province": hunan}
    center = open_center(
        code="SC-HN-0001",
        name="邵阳双清授权服务中心",
        address="邵阳市双清区宝庆东路1号",
        phone="0739-5123456",
        lat=27.235,
        lng=111.485,
        **where,
    )
    point = open_center(
        code="CP-HN-00001",
        name="邵阳双清服务收机点",
        kind=CenterKind.COLLECTION_POINT,
        hub=center,
        address="邵阳市双清区东大路8号",
        phone="0739-5654321",
        lat=27.24,
        lng=111.49,
        services=["phone", "walk_in"],
        **where,
    )
    far = open_center(
        code="SC-HN-0002",
        name="长沙芙蓉授权服务中心",
        address="长沙市芙蓉区五一大道1号",
        phone="0731-8123456",
        lat=28.19,
        lng=112.99,
        region=furong,
        city=changsha,
        province=hunan,
    )
    DeviceModelFactory(code="PHN-1", name="Phone One")
    return center, point, far


def _fill_device_and_contact(page, *, phone, imei):
    page.locator("[name=imei]").fill(imei)
    page.locator("[name=model]").select_option("PHN-1")
    page.locator("[name=fault_category]").select_option("screen")
    page.locator("[name=issue]").fill("屏幕碎了")
    page.locator("[name=name]").fill("王小明")
    page.locator("[name=phone]").fill(phone)


def _sms_link_opens_tracking(page, live_server, appointment):
    sms = Notification.objects.get(kind="appointment_booked", channel="sms", ticket=appointment.ticket)
    assert sms.recipient == appointment.customer.phone and sms.status in ("pending", "sent")
    link = re.search(r"https?://\S+/track/\S+", sms.body).group(0)
    assert (
        link
        == f"{live_server.url}/track/{appointment.ticket.service_no}/?phone_last4={appointment.customer.phone[-4:]}"
    )
    page.goto(link)
    assert appointment.ticket.service_no in page.locator("h1").inner_text()
    return sms


def test_county_town_find_book_sms_track_360_chinese(browser, live_server, settings, zh_translations, shaoyang):
    assert zh_translations, "gettext's msgfmt is needed for the Chinese pages"
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}
    center, point, far = shaoyang
    context = _context(browser, live_server, width=360)
    page = context.new_page()

    # Find: the city's name lists the city's own sites first, the collection point included.
    page.goto("/")
    _check(page)
    page.locator("#home-q").fill("邵阳市")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url(re.compile(r"/centers/\?q="))
    cards = page.locator("li.place")
    assert cards.count() == 2
    assert {cards.nth(0).locator("h3").inner_text(), cards.nth(1).locator("h3").inner_text()} == {
        center.name,
        point.name,
    }
    first = cards.nth(0)
    assert "公里" in first.inner_text() or "km" in first.inner_text()
    assert first.locator("a[href^='tel:']").count() == 1
    assert first.locator("a[href^='https://uri.amap.com/marker?position=']").count() == 1
    _check(page, "web-find-city")

    # The county town has no site of its own: the nearest ones outside it, and the page says so.
    page.locator("#id_q").fill("武冈市")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r"q=%E6%AD%A6%E5%86%88"))
    assert "武冈市 暂无官方服务网点" in page.locator("#results-note").inner_text()
    assert page.locator("li.place h3").first.inner_text() in (center.name, point.name)
    _check(page, "web-find-nearest-outside")

    # Step 1 of booking answers the same search with the centers that take appointments.
    page.goto("/book/?q=邵阳市")
    assert "第 1 步（共 3 步）" in page.locator("#step-of").inner_text()
    assert page.locator("li.place h3").all_inner_texts() == [center.name]
    _check(page, "web-book-center")
    page.go_back()

    # Book at the service center from its card.
    page.locator(f"#place-{center.code}").get_by_role("link", name=re.compile("在此预约")).click()
    page.wait_for_url(re.compile(rf"/book/\?center={center.code}"))
    assert "第 2 步（共 3 步）" in page.locator("#step-2").inner_text()
    assert "第 3 步（共 3 步）" in page.locator("#step-3").inner_text()
    fault = page.locator("[name=fault_category]")
    assert fault.input_value() == ""  # nothing preselected
    _check(page, "web-book-form")
    page.locator("label.slot:not(.full)").first.click()
    phone = next_phone()
    _fill_device_and_contact(page, phone=phone, imei=make_imei())
    page.get_by_role("button", name="预约此时段").click()

    page.wait_for_url(re.compile(r"/book/.+/done/"))
    appointment = Appointment.objects.select_related("ticket", "customer").get()
    assert appointment.center == center and appointment.ticket.status == "booked"
    assert appointment.ticket.fault_category == "screen" and appointment.customer.phone == "+86" + phone
    assert page.locator("#service-no").inner_text() == appointment.ticket.service_no
    assert page.locator("#bring").inner_text() == "请携带"
    assert page.locator("#center-phone").get_attribute("href") == "tel:07395123456"
    _check(page, "web-book-done")

    # The SMS with the tracking link is in the outbox; its link opens the tracking page.
    _sms_link_opens_tracking(page, live_server, appointment)
    _check(page)
    context.close()


def test_find_by_location_book_full_slot_sms_track_1366_english(browser, live_server, settings, shaoyang):
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": live_server.url}
    center, point, far = shaoyang
    day = tomorrow()
    SlotRuleFactory(center=center, weekday=day.weekday(), desks=1)
    booking_services.appointment_book(center=center, start=local(day, 9), **booking_input(model=None))
    context = _context(browser, live_server, width=1366, english=True, position=(27.236, 111.486))
    page = context.new_page()

    # Step 1: "Use my location" lists the centers that take appointments, nearest first.
    page.goto("/book/")
    assert "Step 1 of 3" in page.locator("#step-of").inner_text()
    _check(page)
    page.get_by_role("button", name="Use my location").click()
    page.wait_for_url(re.compile(r"near=27\.23600%2C111\.48600"))
    names = page.locator("li.place h3").all_inner_texts()
    assert names == [center.name, far.name]  # the collection point takes no appointments
    assert "km away" in page.locator("li.place").first.inner_text()
    assert page.locator("li.place").first.locator("a[href^='https://maps.apple.com/']").count() == 1
    _check(page)
    page.locator(f"#place-{center.code}").get_by_role("link", name=re.compile("Choose this center")).click()

    # Step 2: the full 09:00 slot is shown, disabled and labelled; 09:30 is booked.
    page.wait_for_url(re.compile(rf"center={center.code}"))
    full = page.locator(f'input[name=start][value="{local(day, 9).isoformat()}"]')
    assert full.is_disabled()
    assert "full" in page.locator("label.slot.full").first.inner_text()
    _check(page)
    page.locator("label.slot", has_text="09:30–10:00").click()
    _fill_device_and_contact(page, phone=next_phone(), imei=make_imei())
    page.get_by_role("button", name="Book this time").click()

    page.wait_for_url(re.compile(r"/book/.+/done/"))
    appointment = Appointment.objects.select_related("ticket", "customer").exclude(start=local(day, 9)).get()
    assert appointment.start == local(day, 9, 30) and appointment.center == center
    assert page.locator("#bring").inner_text() == "What to bring"
    _check(page)
    _sms_link_opens_tracking(page, live_server, appointment)
    _check(page)
    context.close()


@pytest.mark.parametrize("width,english", [(360, False), (1366, True)])
def test_change_then_cancel_with_confirmation_then_book_again(
    browser, live_server, zh_translations, shaoyang, width, english
):
    center, point, far = shaoyang
    data = booking_input(model=None)
    data["model_code"] = "PHN-1"
    appointment = booking_services.appointment_book(center=center, start=local(tomorrow(), 10), **data)
    last4 = appointment.customer.phone[-4:]
    context = _context(browser, live_server, width=width, english=english)
    page = context.new_page()

    # Change: choose a new time, confirm, moved.
    page.goto(f"/track/{appointment.ticket.service_no}/?phone_last4={last4}")
    page.locator("#appointment-extras a[href*='/appointments/']").click()
    page.wait_for_url(re.compile("/appointments/"))
    _check(page)
    page.locator("label.slot", has_text="14:00–14:30").click()
    page.get_by_role("button", name="Move my appointment" if english else "改约").click()
    assert page.locator("h1").inner_text() == ("Move your booking?" if english else "确定改期吗？")
    assert Appointment.objects.get().start == local(tomorrow(), 10)  # nothing moved yet
    _check(page)
    page.get_by_role("button", name="Yes, move my booking" if english else "是的，改到新时间").click()
    assert page.locator("h1").inner_text() == ("Your booking is moved" if english else "您的预约已改期")
    assert Appointment.objects.get().start == local(tomorrow(), 14)

    # Cancel: asked first; "keep it" keeps it; then cancelled with the right words.
    page.goto(f"/appointments/{appointment.ticket.service_no}/?phone_last4={last4}")
    page.get_by_role("button", name="Cancel my appointment" if english else "取消我的预约").click()
    assert page.locator("h1").inner_text() == ("Cancel your booking?" if english else "确定取消预约吗？")
    _check(page, None if english else "web-book-cancel-confirm")
    page.get_by_role("link", name="No, keep it" if english else "不，保留预约").click()
    assert Appointment.objects.get().status == "booked"
    page.get_by_role("button", name="Cancel my appointment" if english else "取消我的预约").click()
    page.get_by_role("button", name="Yes, cancel my booking" if english else "是的，取消预约").click()
    assert page.locator("h1").inner_text() == ("Your booking is cancelled" if english else "您的预约已取消")
    body = page.locator("main").inner_text()
    assert "unrepaired" not in body and "未修复" not in body
    _check(page, None if english else "web-book-cancelled")
    assert Appointment.objects.get().status == "cancelled"
    assert RepairTicket.objects.get().status == "cancelled"

    # Tracking says "cancelled", not "returned unrepaired".
    page.goto(f"/track/{appointment.ticket.service_no}/?phone_last4={last4}")
    status = page.locator("section.status").inner_text()
    assert ("You never handed a device in" if english else "您尚未交付设备") in status
    _check(page)

    # Book again: the same center, the device filled in.
    page.get_by_role("link", name="Book again" if english else "重新预约").click()
    page.wait_for_url(re.compile(rf"/book/\?center={center.code}&again="))
    assert page.locator("[name=imei]").input_value() == data["imei"]
    assert page.locator("[name=model]").input_value() == "PHN-1"
    assert center.name in page.locator("#chosen-center").inner_text()
    _check(page, None if english else "web-book-again")
    context.close()


def test_county_customer_opens_a_centers_page_at_360_and_sees_a_closed_day_at_once(
    browser, live_server, zh_translations, shaoyang
):
    """From the search to the center's page (its body is cached per center version, day and language): the week,
    then a closed day the center enters shows on the next load, and "book a time" leads to the booking page."""
    import datetime as dt

    from django.utils import timezone

    from centers import services as center_services
    from centers.models import OpeningException

    assert zh_translations, "gettext's msgfmt is needed for the Chinese pages"
    center, _point, _far = shaoyang
    context = _context(browser, live_server, width=360)
    page = context.new_page()
    page.goto("/")
    page.locator("#home-q").fill("邵阳市")
    page.get_by_role("button", name="查找").click()
    page.wait_for_url(re.compile(r"/centers/\?q="))
    page.get_by_role("link", name=center.name, exact=True).click()
    page.wait_for_url(re.compile(rf"/centers/{center.code}/$"))
    _check(page, "center-page-360-zh")
    assert page.locator("h1").inner_text() == center.name
    assert page.get_by_role("heading", name="营业时间", exact=True).count() == 1
    assert page.locator("table tbody tr").count() == 7 and "09:00–18:00" in page.locator("table").inner_text()
    day = timezone.localdate() + dt.timedelta(days=2)
    assert f"{day:%Y-%m-%d}" not in page.content()

    # The center closes that day (as its manager does in the admin): the next load of the page says so.
    center_services.opening_exception_set(center_id=center.pk, day=day, closed=True, reason="Staff training")
    page.reload()
    holiday = page.locator("h2:has-text('节假日营业时间') + ul li")
    assert holiday.count() == 1 and holiday.inner_text().startswith(f"{day:%Y-%m-%d}: 休息")
    assert OpeningException.objects.get(center=center, date=day).closed  # what the page shows is what was written
    _check(page)

    page.get_by_role("link", name="预约时间").click()
    page.wait_for_url(re.compile(rf"/book/\?center={center.code}$"))
    _check(page)
    context.close()
