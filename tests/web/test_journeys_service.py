"""Mail-in, on-site, warranty and prices, the footer and make run: the customer journeys with no dead ends."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone, translation

from booking.models import MailInRequest, OnSiteRequest
from centers.choices import CenterKind, ExceptionReason
from centers.models import OpeningException
from logistics.choices import carrier_label
from logistics.models import Shipment
from logistics.services import shipment_create, shipment_event_record, shipment_tracking_assign
from notifications.models import Notification
from repairs.models import RepairTicket
from servicehub.actors import SYSTEM
from tests.factories.booking import next_phone, open_center, tomorrow
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.repairs import catalog
from tests.factories.warranty import (
    DeviceFactory,
    DeviceModelFactory,
    PlanProductFactory,
    StatutoryPolicyFactory,
    make_imei,
)
from warranty.choices import PlanKind

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def zh(settings, tmp_path):
    """zh-Hans compiled from the branch's .po into a temporary LOCALE_PATHS entry."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None, "gettext's msgfmt is needed for the Chinese assertions"
    out = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    subprocess.run(
        [msgfmt, "-o", str(out / "django.mo"), str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po")], check=True
    )
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]


def _hub():
    province, city, county = region_chain("440000000000", "440300000000", "440305000000")
    return ServiceCenterFactory(
        code="HUB-GD",
        name="Guangdong hub",
        kind=CenterKind.MAIL_IN_HUB,
        region=county,
        city=city,
        province=province,
        services=["phone", "mail_in"],
    )


def _mail_in_data(**over):
    data = {
        "pickup_address": "广东省深圳市南山区科技园路1号",
        "name": "张三",
        "phone": next_phone(),
        "imei": make_imei(),
        "model": "PHN-1",
        "fault_category": "battery",
        "issue": "Battery drains",
        "pickup_date": tomorrow().isoformat(),
        "pickup_window": "afternoon",
    }
    data.update(over)
    return data


# --- mail-in -------------------------------------------------------------------------------


def test_mail_in_pickup_window_sms_courier_number_and_both_legs(en, django_assert_max_num_queries):
    _hub()
    DeviceModelFactory(code="PHN-1")
    data = _mail_in_data()
    response = en.post("/mail-in/", data)
    assert response.status_code == 302
    req = MailInRequest.objects.get()
    pickup = Shipment.objects.get(ticket=req.ticket)
    start = dt.datetime.combine(tomorrow(), dt.time(13), tzinfo=timezone.get_default_timezone())
    assert (pickup.leg, pickup.pickup_from, pickup.pickup_until) == (
        "customer_to_hub",
        start,
        start + dt.timedelta(hours=4),
    )

    sms = Notification.objects.get(kind="pickup_scheduled", channel="sms")
    assert sms.recipient == req.ticket.customer.phone and sms.ticket_id == req.ticket_id
    assert sms.body == (
        f"[ServiceHub] Mail-in {req.ticket.service_no}: the courier (SF Express) picks your device up on "
        f"{tomorrow():%Y-%m-%d} between 13:00 and 17:00. We will text you the courier's tracking number as soon as "
        f"we have it. Shipping is free both ways. http://127.0.0.1:8000/track/{req.ticket.service_no}/"
        f"?phone_last4={req.ticket.customer.phone[-4:]}"
    )

    # The confirmation is a GET behind the phone digits: a refresh shows it again and books nothing.
    with django_assert_max_num_queries(8):
        done = en.get(response["Location"])
    again = en.get(response["Location"])
    html = done.content.decode()
    assert done.status_code == again.status_code == 200 and MailInRequest.objects.count() == 1
    assert f"{tomorrow():%Y-%m-%d}" in html and "13:00–17:00" in html and "SF Express" in html

    # The courier's number as soon as it is known: one SMS, once.
    shipment_tracking_assign(shipment_id=pickup.pk, tracking_no="SF100200300", actor=SYSTEM)
    shipment_tracking_assign(shipment_id=pickup.pk, tracking_no="SF100200300", actor=SYSTEM)
    courier_sms = Notification.objects.get(kind="courier_assigned", channel="sms")
    assert courier_sms.body.startswith(
        f"[ServiceHub] Mail-in {req.ticket.service_no}: your courier is SF Express, tracking number SF100200300. "
        f"Pickup on {tomorrow():%Y-%m-%d} between 13:00 and 17:00."
    )

    # Picked up and delivered at the hub, then the return leg is booked: the tracking page shows both legs.
    now = timezone.now()
    shipment_event_record(shipment_id=pickup.pk, event="picked_up", at=now - dt.timedelta(hours=2), actor=SYSTEM)
    shipment_event_record(shipment_id=pickup.pk, event="delivered", at=now - dt.timedelta(hours=1), actor=SYSTEM)
    ticket = RepairTicket.objects.get(pk=req.ticket_id)
    assert ticket.status == "received"
    shipment_create(ticket=ticket, leg="hub_to_customer", courier="SF Express", tracking_no="SF900800700")
    with django_assert_max_num_queries(30):
        track = en.get(f"/track/{ticket.service_no}/", {"phone_last4": ticket.customer.phone[-4:]})
    page = track.content.decode()
    assert 'id="leg-customer_to_hub"' in page and 'id="leg-hub_to_customer"' in page
    assert "SF100200300" in page and "SF900800700" in page and "Delivered" in page
    assert "Opening hours, next 7 days" not in page  # the hub's hours are not what a mail-in customer needs


def test_mail_in_shows_every_error_at_once_in_words(en):
    _hub()
    response = en.post(
        "/mail-in/",
        {
            "pickup_address": "somewhere",
            "name": "",
            "phone": "",
            "imei": "123",
            "model": "",
            "fault_category": "battery",
            "issue": "",
            "pickup_date": (tomorrow() + dt.timedelta(days=20)).isoformat(),
            "pickup_window": "morning",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and not RepairTicket.objects.exists()
    summary = html.split('id="form-errors"', 1)[1].split("</div>", 1)[0]
    for words in (
        "could not find the province",
        "Choose a pickup day between tomorrow and 7 days ahead.",
        "15 digits",
        "This field is required.",
    ):
        assert words in summary
    assert summary.count("<li>") == 6  # address, day, name, phone, IMEI, problem
    assert 'value="somewhere"' in html


def test_unknown_device_asks_for_its_model_in_words(en):
    _hub()
    response = en.post("/mail-in/", _mail_in_data(model=""))
    html = response.content.decode()
    assert "We do not know this device yet: choose its model from the list." in html
    assert "Unknown device model" not in html and ": -." not in html
    assert not RepairTicket.objects.exists()


# --- on-site -------------------------------------------------------------------------------


def _on_site_data(**over):
    data = {
        "device_kind": "smart_screen",
        "center": "",
        "address": "上海市黄浦区南京东路100号",
        "preferred_date": tomorrow().isoformat(),
        "window": "morning",
        "name": "李四",
        "phone": next_phone(),
        "serial": "TV-SN-0001",
        "imei": "",
        "model": "TV-1",
        "fault_category": "other",
        "issue": "No picture",
    }
    data.update(over)
    return data


def test_on_site_smart_screen_with_a_serial_goes_to_the_nearest_center(en, django_assert_max_num_queries):
    province, city, county = region_chain()
    center = open_center(region=county, city=city, province=province)
    DeviceModelFactory(code="TV-1", category="smart_screen")
    page = en.get("/on-site/").content.decode()
    assert "Smart screens and PCs: on the label on the back" in page and "The nearest center for my address" in page
    response = en.post("/on-site/", _on_site_data())
    assert response.status_code == 302
    req = OnSiteRequest.objects.get()
    assert (req.center, req.ticket.device.serial, req.cannot_travel) == (center, "TV-SN-0001", False)
    with django_assert_max_num_queries(8):
        assert en.get(response["Location"]).status_code == 200


def test_on_site_phone_for_someone_who_cannot_travel_is_flagged(en):
    province, city, county = region_chain()
    open_center(region=county, city=city, province=province)
    DeviceModelFactory(code="PHN-1", category="phone")
    missing = en.post("/on-site/", _on_site_data(device_kind="phone", serial="", model="PHN-1"))
    assert "Enter the IMEI of the phone (dial *#06# to see it)." in missing.content.decode()
    response = en.post("/on-site/", _on_site_data(device_kind="phone", serial="", imei=make_imei(), model="PHN-1"))
    assert response.status_code == 302
    req = OnSiteRequest.objects.get()
    assert req.cannot_travel is True and req.ticket.channel == "on_site"
    assert "you cannot travel to a center" in en.get(response["Location"]).content.decode()


def test_on_site_where_no_center_visits_says_so_and_offers_mail_in(en):
    region_chain()  # Shanghai exists, but no center there offers on-site
    DeviceModelFactory(code="TV-1", category="smart_screen")
    html = en.post("/on-site/", _on_site_data()).content.decode()
    assert "No service center visits this address yet." in html and 'href="/mail-in/"' in html
    assert "tel:4008308300" in html
    assert not RepairTicket.objects.exists()


def test_demo_network_has_on_site_centers():
    from centers.demo import FLAGSHIP_SERVICES, _Network
    from centers.services import regions_load

    regions_load()
    plan = _Network(centers=60, points=0, seed=0).build()
    on_site = [p for p in plan if "on_site" in p["services"]]
    provinces = {p["province_id"] for p in plan if p["kind"] == CenterKind.SERVICE_CENTER}
    assert {p["province_id"] for p in on_site} == provinces
    assert all(p["services"] == FLAGSHIP_SERVICES for p in on_site)


# --- warranty and prices -------------------------------------------------------------------


def _priced_model(code="PHN-1"):
    StatutoryPolicyFactory(category="phone")
    model = DeviceModelFactory(code=code, name="Phone One", tier="flagship")
    catalog(model)
    return model


def test_unknown_sale_date_asks_for_the_proof_of_purchase(en):
    device = DeviceFactory(model=_priced_model(), sold_at=None)
    html = en.get("/warranty/", {"imei": device.imei}).content.decode()
    assert "We do not know when this device was bought" in html and "Bring the proof of purchase" in html
    assert "Out of warranty" not in html


def test_out_of_warranty_shows_the_published_prices_and_a_booking_link(en, django_assert_max_num_queries):
    device = DeviceFactory(model=_priced_model(), sold_at=timezone.now() - dt.timedelta(days=800))
    with django_assert_max_num_queries(12):
        html = en.get("/warranty/", {"imei": device.imei}).content.decode()
    assert "Out of warranty" in html and 'id="book-link" href="/book/"' in html
    assert 'href="/prices/PHN-1/"' in html
    assert 'id="price-battery"' in html and "¥129.00" in html and "¥659.00" in html
    assert "Refurbished original board: ¥869.70 (90-day warranty)" in html  # 719.70 + 150.00 labor


def test_plan_names_in_the_page_language_and_no_internal_codes(zh, client):
    model = _priced_model()
    PlanProductFactory(
        code="SCREEN12",
        name="碎屏服务宝 1年",
        name_en="Screen care 1 year",
        kind=PlanKind.SCREEN_CARE,
        term_months=12,
        claims_allowed=1,
    )
    device = DeviceFactory(model=model)
    client.cookies["django_language"] = "en"
    en_html = client.get("/warranty/", {"imei": device.imei}).content.decode()
    client.cookies["django_language"] = "zh-hans"
    zh_html = client.get("/warranty/", {"imei": device.imei}).content.decode()
    assert "Screen care 1 year" in en_html and "碎屏服务宝" not in en_html
    assert "碎屏服务宝 1年" in zh_html and "Screen care 1 year" not in zh_html
    for html in (en_html, zh_html):
        assert "SCREEN12" not in html.replace("plan=SCREEN12", "")


def test_price_pages(en, django_assert_max_num_queries):
    _priced_model()
    DeviceModelFactory(code="NOPRICE")
    with django_assert_max_num_queries(4):
        index = en.get("/prices/").content.decode()
    assert 'href="/prices/PHN-1/"' in index and "/prices/NOPRICE/" not in index
    with django_assert_max_num_queries(4):
        page = en.get("/prices/PHN-1/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="book-link"' in html
    rows = html.split("<tbody>")[1]
    assert rows.index('id="price-battery"') < rows.index('id="price-screen"') < rows.index('id="price-mainboard"')
    assert en.get("/prices/NOPRICE/").status_code == 404 and en.get("/prices/NOSUCH/").status_code == 404


def test_prices_match_the_catalog_api(en):
    model = _priced_model()
    api = en.get("/api/v1/catalog/repairs/", {"model": model.code}).json()
    html = en.get(f"/prices/{model.code}/").content.decode()
    for row in api:
        if row.get("fixed_price"):
            assert f"¥{Decimal(row['fixed_price']):.2f}" in html


# --- translated data -----------------------------------------------------------------------


def test_holiday_reason_and_carrier_in_the_page_language(zh):
    exc = OpeningException(reason_code=ExceptionReason.SPRING_FESTIVAL, reason="")
    typed = OpeningException(reason_code=ExceptionReason.OTHER, reason="店庆")
    with translation.override("en"):
        assert exc.reason_display == "Spring Festival: open with holiday hours" and typed.reason_display == "店庆"
        assert carrier_label("SF Express") == "SF Express" and carrier_label("顺丰速运") == "SF Express"
    with translation.override("zh-hans"):
        assert exc.reason_display == "春节不打烊：节假日营业时间"
        assert carrier_label("SF Express") == "顺丰速运"
        assert carrier_label("Acme Couriers") == "Acme Couriers"


def test_center_page_shows_holiday_reason_in_chinese(zh, client):
    center = open_center()
    OpeningException.objects.create(
        center=center,
        date=timezone.localdate() + dt.timedelta(days=3),
        opens=dt.time(10),
        closes=dt.time(16),
        reason_code=ExceptionReason.SPRING_FESTIVAL,
    )
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/centers/{center.code}/").content.decode()
    assert "春节不打烊：节假日营业时间" in html and "Spring Festival" not in html


def test_exception_note_migration_names_known_notes():
    import importlib

    migration = importlib.import_module("centers.migrations.0004_journeys_service_exception_reason_code")
    center = open_center()
    row = OpeningException.objects.create(
        center=center,
        date=dt.date(2027, 2, 6),
        opens=dt.time(10),
        closes=dt.time(16),
        reason="Spring Festival: open with holiday hours",
    )
    from django.apps import apps

    migration.name_known_notes(apps, None)
    row.refresh_from_db()
    assert (row.reason_code, row.reason) == ("spring_festival", "")


# --- make run, footer ----------------------------------------------------------------------


def test_make_run_sets_public_base_url_from_host_and_port():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:8123}" in out
    assert "runserver 127.0.0.1:8123" in out
    out = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=9000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://0.0.0.0:9000}" in out
    assert (
        "PUBLIC_BASE_URL" in (ROOT / "README.md").read_text()
        and "make -n run PORT=8123" in (ROOT / "README.md").read_text()
    )


@pytest.mark.parametrize("path", ["/", "/mail-in/", "/on-site/", "/warranty/", "/prices/", "/track/"])
def test_every_page_footer_has_the_hotline(client, path):
    html = client.get(path).content.decode()
    assert 'class="hotline" href="tel:4008308300">400-830-8300</a>' in html


@pytest.mark.parametrize("path,queries", [("/mail-in/", 3), ("/on-site/", 4), ("/warranty/", 1), ("/prices/", 2)])
def test_form_pages_query_counts(client, path, queries, django_assert_max_num_queries):
    DeviceModelFactory(code="PHN-1")
    with django_assert_max_num_queries(queries):
        assert client.get(path).status_code == 200
