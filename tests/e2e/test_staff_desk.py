"""The counter in a real browser at a desk's screen (1366x900): check-in by IMEI scan, a booked
arrival by its service number, the open-ticket warning, the engineer's bench, today at the desk.
Every journey logs in through /admin/login/ and ends with an assertion on the database."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from booking.models import Appointment
from repairs import services
from repairs.admin import qr_svg
from repairs.models import RepairTicket
from servicehub.actors import actor_for_user
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import catalog, run, staff, walk_in
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, StatutoryPolicyFactory

from .conftest import assert_accessible, docs_img_dir, set_english

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1366, "height": 900}
PASSWORD = "correct horse battery"  # tests/factories/users.py
DOCS_IMG = docs_img_dir()  # docs/img with DOCS_SCREENSHOTS=1 (tests/e2e/conftest.py)
PUBLIC = "https://service.example.cn"


@pytest.fixture
def desk_page(browser, live_server):
    context = browser.new_context(viewport=DESK, device_scale_factor=1, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def world(db):
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code="P60", name="Phone 60")
    catalog(model)
    center = ServiceCenterFactory(name="上海南京东路授权服务中心")
    users = {
        "desk": staff(center, "front_desk"),
        "eng": staff(center, "engineer", certified=True),
        "eng2": staff(center, "engineer", certified=True),
    }
    return {
        "center": center,
        "model": model,
        "users": users,
        "actors": {k: actor_for_user(u) for k, u in users.items()},
    }


def login(page, user) -> None:
    page.goto("/admin/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def doc_shot(page, name: str) -> None:
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / f"desk-{name}.png"), full_page=False)


def scan(page, imei: str) -> None:
    """What a barcode scanner does: type the digits into the focused field and press Enter.

    Chromium applies ``autofocus`` after the page has loaded, on a later rendering step: on a busy machine
    the keys can come first and land nowhere, so wait for the IMEI field to hold the cursor, as a person does.
    """
    expect(page.locator("#id_imei")).to_be_focused(timeout=20_000)
    page.keyboard.type(imei)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    page.locator("#lookup").wait_for()


def test_walk_in_by_imei_scan_then_receipt_from_public_base_url(desk_page, world, settings, zh_translations):
    # given a registered device in warranty and the site's public address (zh-Hans desk)
    settings.LANGUAGE_CODE = "zh-hans"
    settings.SERVICEHUB = {**settings.SERVICEHUB, "PUBLIC_BASE_URL": PUBLIC}
    device = DeviceFactory(model=world["model"])
    page = desk_page
    login(page, world["users"]["desk"])

    # when the desk opens the check-in from the admin index and scans the IMEI (cursor is already there)
    page.locator('a[href="/admin/repairs/countercheckin/"]').first.click()
    page.wait_for_url(re.compile("/checkin/"))
    assert page.evaluate("() => document.activeElement.id") == "id_imei"
    scan(page, device.imei)
    assert RepairTicket.objects.count() == 0  # Enter looked up, it did not check in
    assert "Phone 60" in page.inner_text("#lookup-device")
    assert page.evaluate("() => document.activeElement.id") == "id_phone"
    assert_accessible(page)

    # then fills what the customer says: 5 fields and one click (the action count in docs/repairs.md)
    page.keyboard.type("138 0013 8000")  # 1 phone (cursor is there)
    page.locator("#id_name").fill("王小明")  # 2 name
    page.locator("#id_fault_category").select_option("screen")  # 3 fault
    page.locator("#id_fault_description").fill("摔了一下, 屏幕左上角裂")  # 4 description
    page.locator("#id_accessories").fill("保护壳, 充电器")  # 5 accessories
    page.locator("#id_repair_mode_enabled").check()  # 6 repair mode
    doc_shot(page, "checkin")
    page.locator("#check-in-button").click()  # 7 check in

    # the receipt of THIS ticket confirms, and its link and QR carry PUBLIC_BASE_URL
    page.wait_for_url(re.compile(r"/receipt/\?checked_in=1$"))
    ticket = RepairTicket.objects.get()
    assert (
        ticket.status,
        ticket.device_id,
        ticket.customer.phone,
        ticket.fault_category,
        ticket.fault_description,
        ticket.accessories,
        ticket.repair_mode_enabled,
    ) == ("received", device.pk, "+8613800138000", "screen", "摔了一下, 屏幕左上角裂", ["保护壳", "充电器"], True)
    assert ticket.service_no in page.inner_text("#checked-in")
    url = f"{PUBLIC}/track/{ticket.service_no}/"
    assert page.inner_text("#tracking-link") == url
    assert f'd="{page.get_attribute("#qr svg path", "d")}"' in qr_svg(url)  # the QR encodes exactly that address
    doc_shot(page, "receipt")
    page.locator("#paper-80mm").click()
    page.wait_for_url(re.compile(r"paper=80mm"))
    assert "size: 80mm auto" in page.content()
    doc_shot(page, "receipt-80mm")


def test_booked_arrival_by_service_number_checks_in_that_ticket(desk_page, world, live_server):
    # given a booking for today with its customer, device and fault
    center = world["center"]
    device = DeviceFactory(model=world["model"])
    customer = services.customer_get_or_create(name="张三", phone="13900007777")
    booked = services.ticket_book(
        center=center, customer=customer, device=device, fault_category="battery", fault_description="电池鼓包"
    )
    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    Appointment.objects.create(
        ticket=booked,
        center=center,
        start=start,
        end=start + dt.timedelta(minutes=30),
        customer=customer,
        device=device,
        issue="电池鼓包",
    )
    page = desk_page
    set_english(page, live_server)
    login(page, world["users"]["desk"])

    # when the desk types the booking's number and presses Enter
    page.goto("/admin/repairs/repairticket/checkin/")
    page.locator("#id_service_no").fill(booked.service_no.lower())
    page.locator("#id_service_no").press("Enter")
    page.locator("#booking").wait_for()

    # then customer, device and fault come from the booking
    assert page.input_value("#id_name") == "张三"
    assert page.input_value("#id_phone") == "+8613900007777"
    assert page.input_value("#id_imei") == device.imei
    assert page.input_value("#id_fault_category") == "battery"
    assert page.input_value("#id_fault_description") == "电池鼓包"
    doc_shot(page, "booking")
    page.locator("#id_fault_description").fill("电池鼓包, 后盖翘起")
    page.locator("#id_accessories").fill("case")
    page.locator("#check-in-button").click()
    page.wait_for_url(re.compile(r"/receipt/\?checked_in=1$"))

    # and THAT booked ticket is received, with what the desk typed
    assert RepairTicket.objects.count() == 1
    booked.refresh_from_db()
    assert (booked.status, booked.fault_description, booked.accessories) == ("received", "电池鼓包, 后盖翘起", ["case"])
    assert f"/admin/repairs/repairticket/{booked.pk}/receipt/" in page.url


def test_open_ticket_warning_needs_the_confirmation(desk_page, world, live_server):
    device = DeviceFactory(model=world["model"])
    first = walk_in(world["center"], world["actors"]["desk"], device=device, phone="13800138000", name="王小明")
    page = desk_page
    set_english(page, live_server)
    login(page, world["users"]["desk"])
    page.goto("/admin/repairs/repairticket/checkin/")
    scan(page, device.imei)

    warning = page.locator("#open-ticket-warning")
    assert "This device already has an open ticket." in warning.inner_text()
    assert warning.locator(f'a[href="/admin/repairs/repairticket/{first.pk}/change/"]').inner_text() == first.service_no
    # the known customer of this center is filled in
    assert page.input_value("#id_phone") == "+8613800138000"
    doc_shot(page, "duplicate")
    page.locator("#id_fault_description").fill("again")
    page.locator("#check-in-button").click()
    page.wait_for_load_state()
    assert "Confirm to open another one." in page.inner_text("#content-main")
    assert RepairTicket.objects.filter(device=device).count() == 1

    page.locator("#id_confirm_duplicate").check()
    page.locator("#check-in-button").click()
    page.wait_for_url(re.compile(r"/receipt/\?checked_in=1$"))
    assert RepairTicket.objects.filter(device=device, status="received").count() == 2
    assert RepairTicket.objects.exclude(pk=first.pk).get().fault_description == "again"


def _bench(page):
    """Back on the bench (the transition view returns to ``next`` or to the ticket page)."""
    page.wait_for_load_state()
    if "/bench/" not in page.url:
        page.goto("/admin/repairs/repairticket/bench/")


def test_engineer_starts_and_finishes_a_repair_from_the_bench(desk_page, world, live_server):
    a = world["actors"]
    t = walk_in(world["center"], a["desk"], device=DeviceFactory(model=world["model"]))
    run(t, ("start_diagnosis", a["eng"]), ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}))
    assert RepairTicket.objects.get(pk=t.pk).status == "repairing"  # free in warranty: waits for an engineer
    # and more on the bench: a device waiting for diagnosis, a colleague's repair waiting for QC
    queued = walk_in(world["center"], a["desk"], device=DeviceFactory(model=world["model"]), fault="battery")
    theirs = walk_in(world["center"], a["desk"], device=DeviceFactory(model=world["model"]))
    run(
        theirs,
        ("start_diagnosis", a["eng2"]),
        ("send_quote", a["eng2"], {"lines": [{"repair": "screen"}]}),
        ("start_repair", a["eng2"]),
        ("finish", a["eng2"]),
    )
    page = desk_page
    set_english(page, live_server)
    login(page, world["users"]["eng"])
    page.locator('a[href="/admin/repairs/bench/"]').first.click()
    page.wait_for_url(re.compile("/bench/"))
    assert_accessible(page)

    assert page.locator(f'#bench-diagnosis tr[data-service-no="{queued.service_no}"]').count() == 1
    assert page.locator(f'#bench-qc tr[data-service-no="{theirs.service_no}"]').count() == 1
    page.locator(f'#bench-to-start tr[data-service-no="{t.service_no}"] button').click()
    _bench(page)
    t.refresh_from_db()
    assert (t.status, t.engineer_id) == ("repairing", world["users"]["eng"].pk)
    row = page.locator(f'#bench-mine tr[data-service-no="{t.service_no}"]')
    doc_shot(page, "bench")
    row.get_by_role("button", name="Finish repair").click()
    _bench(page)
    t.refresh_from_db()
    assert t.status == "quality_check"
    assert RepairTicket.objects.get(pk=queued.pk).status == "received"  # the other rows were not touched
    # nobody checks their own repair: it is not on this bench
    assert page.locator(f'#bench-qc tr[data-service-no="{t.service_no}"]').count() == 0


def test_another_engineer_passes_qc_from_the_bench(desk_page, world, live_server):
    a = world["actors"]
    t = walk_in(world["center"], a["desk"], device=DeviceFactory(model=world["model"]))
    run(
        t,
        ("start_diagnosis", a["eng"]),
        ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}),
        ("start_repair", a["eng"]),
        ("finish", a["eng"]),
    )
    page = desk_page
    set_english(page, live_server)
    login(page, world["users"]["eng2"])
    page.goto("/admin/repairs/repairticket/bench/")
    row = page.locator(f'#bench-qc tr[data-service-no="{t.service_no}"]')
    row.get_by_role("button", name="Pass quality check").click()
    _bench(page)
    t.refresh_from_db()
    assert (t.status, t.engineer_id) == ("ready", world["users"]["eng"].pk)
    assert t.events.order_by("-at", "-pk").first().actor_id == world["users"]["eng2"].pk


def test_today_at_the_desk_shows_a_ready_ticket_with_its_number(desk_page, world, live_server):
    a = world["actors"]
    t = walk_in(
        world["center"], a["desk"], device=DeviceFactory(model=world["model"]), phone="13800138000", name="王小明"
    )
    run(
        t,
        ("start_diagnosis", a["eng"]),
        ("send_quote", a["eng"], {"lines": [{"repair": "screen"}]}),
        ("start_repair", a["eng"]),
        ("finish", a["eng"]),
        ("qc_pass", a["eng2"]),
    )
    # and a booking for today, and a stage past its target
    center = world["center"]
    device = DeviceFactory(model=world["model"])
    customer = services.customer_get_or_create(name="张三", phone="13900007777")
    arrival = services.ticket_book(
        center=center, customer=customer, device=device, fault_category="battery", fault_description="电池鼓包"
    )
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    Appointment.objects.create(
        ticket=arrival,
        center=center,
        start=noon,
        end=noon + dt.timedelta(minutes=30),
        customer=customer,
        device=device,
        issue="电池鼓包",
    )
    late = walk_in(center, a["desk"], device=DeviceFactory(model=world["model"]), phone="13700007777")
    RepairTicket.objects.filter(pk=late.pk).update(stage_due_at=timezone.now() - dt.timedelta(minutes=40))
    page = desk_page
    set_english(page, live_server)
    login(page, world["users"]["desk"])
    page.locator('a[href="/admin/repairs/desktoday/"]').first.click()
    page.wait_for_url(re.compile("/today/"))
    row = page.locator(f'#today-ready tr[data-service-no="{t.service_no}"]')
    assert "王小明" in row.inner_text()
    assert row.locator('a[href="tel:+8613800138000"]').inner_text() == "+8613800138000"
    assert page.locator(f'#today-overdue tr[data-service-no="{late.service_no}"]').count() == 1
    assert_accessible(page)
    doc_shot(page, "today")
    assert RepairTicket.objects.get(pk=t.pk).status == "ready"

    # the arrival's "Check in" opens the check-in with the booking looked up
    page.locator(f'#today-arrivals tr[data-service-no="{arrival.service_no}"] a').click()
    page.locator("#booking").wait_for()
    assert page.input_value("#id_imei") == device.imei
    assert RepairTicket.objects.get(pk=arrival.pk).status == "booked"
