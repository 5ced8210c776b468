"""Fake stores in a real browser (issue #22), zh-Hans by default:

a customer on a 360 px phone checks a store, learns it is not official and reports it with a photo (its GPS
position removed); HQ opens the triage list, marks the report confirmed unofficial with a note and exports the
CSV for the authorities. Each step is checked in the database (and the CSV's content).
"""

from __future__ import annotations

import csv
import io

import pytest
from PIL import Image

from centers.models import StoreReport
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.repairs import staff

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def photo_with_gps(path):
    img = Image.new("RGB", (2000, 1500), (180, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 13.0, 49.0), "E", (121.0, 28.0, 25.0)
    img.save(path, format="JPEG", exif=exif)
    return path


def test_customer_reports_a_fake_store_and_hq_confirms_and_exports_it(
    browser,
    live_server,
    staff_page,  # noqa: F811
    zh_translations,
    tmp_path,
):
    region_chain()
    ServiceCenterFactory(code="SC-HP", name="上海黄浦授权服务中心", phone="021-63500000")

    # --- a customer at 360 px, in Chinese ---
    context = browser.new_context(viewport={"width": 360, "height": 780}, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    phone = context.new_page()
    phone.goto("/centers/verify/")
    phone.locator("#id_phone").fill("021-88886666")
    phone.locator("#id_name").fill("华为官方维修中心")
    with phone.expect_navigation():
        phone.get_by_role("button", name="查询" if zh_translations else "Check").click()
    status = phone.locator("[role=status]")
    assert status.locator(".notice.ok").count() == 0  # not official
    if zh_translations:
        assert phone.locator("#report-store").inner_text() == "举报这家门店"
    with phone.expect_navigation():
        phone.locator("#report-store").click()
    assert phone.locator("#id_name").input_value() == "华为官方维修中心"  # carried from the check
    assert phone.locator("#id_phone").input_value() == "021-88886666"
    phone.locator("#id_address").fill("上海市黄浦区福州路 99 号")
    phone.locator("#id_note").fill("门头挂着官方标志，店员说是授权服务中心，换屏要价很高")
    phone.locator("#id_photos").set_input_files(str(photo_with_gps(tmp_path / "shop.jpg")))
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone)
    phone.screenshot(path=str(DOCS_IMG / "stores-report-form.png"), full_page=True)
    with phone.expect_navigation():
        phone.locator("#store-report-form button[type=submit]").click()
    reference = phone.locator("#report-reference").inner_text()

    report = StoreReport.objects.get()
    assert reference == report.reference
    assert (report.name, report.phone, report.status) == ("华为官方维修中心", "021-88886666", "new")
    assert report.province.name == "上海市" and report.region.name == "黄浦区"
    stored = Image.open(report.photos.get().image.path)
    assert max(stored.size) == 1600 and dict(stored.getexif()) == {}
    assert_accessible(phone)
    context.close()

    # --- HQ triages it ---
    hq = staff(None, "hq", username="hq-stores")
    page = staff_page(hq)
    page.goto("/admin/centers/storereport/")
    row = page.locator("#result_list tbody tr", has_text=reference)
    assert row.count() == 1
    with page.expect_navigation():
        row.get_by_role("link", name=reference).click()
    assert page.locator("img.store-report-photo").count() == 1
    assert page.evaluate("document.querySelector('img.store-report-photo').naturalWidth") == 1600  # served to HQ
    page.locator("#id_status").select_option("confirmed_unofficial")
    page.locator("#id_triage_note").fill("已派人现场核实：非授权门店，冒用标志")
    page.screenshot(path=str(DOCS_IMG / "stores-triage.png"), full_page=False)
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    report.refresh_from_db()
    assert report.status == "confirmed_unofficial"
    assert report.triage_note == "已派人现场核实：非授权门店，冒用标志"
    assert report.handled_by_id == hq.pk and report.handled_at is not None

    # the list, filtered to the confirmed ones, exported for the authorities
    page.goto("/admin/centers/storereport/?status__exact=confirmed_unofficial")
    page.locator("#result_list tbody input.action-select").first.check()
    page.locator("select[name=action]").select_option("export_csv")
    with page.expect_download() as download:
        page.locator("button[name=index]").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "编号" and rows[0][9] == "处理状态"
    assert len(rows) == 2
    assert rows[1][0] == reference and rows[1][1] == "华为官方维修中心" and rows[1][2] == "上海市黄浦区福州路 99 号"
    assert rows[1][9] == "确认非官方" and rows[1][10] == "已派人现场核实：非授权门店，冒用标志"
    assert rows[1][7] == "1"  # one photo
