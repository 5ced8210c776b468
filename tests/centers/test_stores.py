"""Store reports (the public reports a suspected unofficial store; HQ triages and exports them) and the signed
official-store feed for map providers (issue #22)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from centers import photos, services
from centers.models import ServiceCenter, StoreReport, StoreReportPhoto
from partners.webhooks import sign
from servicehub.actors import SYSTEM, actor_for_user
from servicehub.errors import DomainError
from servicehub.models import OutboxEvent
from tests.factories.centers import ServiceCenterFactory, region_chain
from tests.factories.partners import WebhookEndpointFactory
from tests.factories.repairs import staff

pytestmark = pytest.mark.django_db

GPS_LAT = 31.2304


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def jpeg_with_gps(size=(2400, 1200), *, comment=b"secret comment") -> bytes:
    """A JPEG carrying EXIF (camera, GPS position) and a comment, as a phone camera writes it."""
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 13.0, 49.0)
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 25.0)
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, comment=comment)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the control: the upload has GPS
    return data


def upload(data: bytes, name="shop.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def report(**kwargs) -> StoreReport:
    values = {"name": "华为授权维修", "address": "上海市黄浦区南京东路 300 号", "note": "招牌用了官方标志"}
    return services.store_report_create(**(values | kwargs))


# --- services -----------------------------------------------------------------------------------------


def test_report_is_filed_by_region_hashes_the_address_and_emits_its_event():
    province, _city, county = region_chain()
    r = report(phone="021 5555 0000", client_ip="203.0.113.9", reporter_contact="13800000000")
    assert (r.status, r.region_id, r.province_id) == ("new", county.pk, province.pk)
    assert r.client_ip_hash and "203.0.113.9" not in r.client_ip_hash
    assert r.client_ip_hash == services.client_ip_hash("203.0.113.9") != services.client_ip_hash("203.0.113.10")
    assert r.reference == f"SR-{r.pk:06d}"
    event = OutboxEvent.objects.get(type="store_report.created")
    assert event.payload == {"report_id": r.pk, "province": province.adcode, "photos": 0}


def test_an_address_naming_no_known_region_is_kept_without_one():
    r = report(address="村口第二家")
    assert r.region_id is None and r.province_id is None


def test_name_and_address_are_required():
    with pytest.raises(DomainError) as exc:
        report(name="   ")
    assert (exc.value.code, exc.value.field) == ("validation_error", "name")
    with pytest.raises(DomainError) as exc:
        report(address="")
    assert exc.value.field == "address"
    assert not StoreReport.objects.exists()


def test_photo_is_re_encoded_smaller_and_without_any_metadata():
    r = report(photos=[upload(jpeg_with_gps())])
    photo = r.photos.get()
    with photo.image.open("rb") as f:
        stored = f.read()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG"
    assert max(img.size) == photos.MAX_SIDE and img.size == (1600, 800)
    assert dict(img.getexif()) == {}
    assert "exif" not in img.info and "comment" not in img.info and "icc_profile" not in img.info
    assert b"PhoneMaker" not in stored and b"secret comment" not in stored
    assert (photo.width, photo.height) == (1600, 800)


def test_png_is_accepted_as_jpeg():
    out = io.BytesIO()
    Image.new("RGBA", (100, 50), (0, 0, 255, 128)).save(out, format="PNG")
    r = report(photos=[upload(out.getvalue(), "a.png", "image/png")])
    assert Image.open(r.photos.get().image.path).format == "JPEG"


def test_not_an_image_is_refused_with_words():
    with pytest.raises(DomainError) as exc:
        report(photos=[upload(b"%PDF-1.4 not a photo", "menu.pdf", "application/pdf")])
    assert (exc.value.code, exc.value.field) == ("not_an_image", "photos")
    assert "menu.pdf" in exc.value.message
    assert not StoreReport.objects.exists()


def test_too_large_and_too_many_photos_are_refused(monkeypatch):
    big = upload(b"\xff" * (photos.MAX_BYTES + 1))
    with pytest.raises(DomainError) as exc:
        report(photos=[big])
    assert exc.value.code == "photo_too_large"
    small = jpeg_with_gps((40, 40))
    with pytest.raises(DomainError) as exc:
        report(photos=[upload(small) for _ in range(4)])
    assert exc.value.code == "too_many_photos"
    assert report(photos=[upload(small) for _ in range(3)]).photos.count() == 3


def test_triage_is_hq_only_and_a_decided_status_needs_a_note():
    r = report()
    center = ServiceCenterFactory()
    manager = staff(center, "manager")
    with pytest.raises(DomainError) as exc:
        services.store_report_triage(actor=actor_for_user(manager), report_ids=[r.pk], status="dismissed", note="x")
    assert exc.value.status == 403
    hq = staff(None, "hq")
    with pytest.raises(DomainError) as exc:
        services.store_report_triage(actor=actor_for_user(hq), report_ids=[r.pk], status="confirmed_unofficial")
    assert exc.value.field == "triage_note"
    with pytest.raises(DomainError):
        services.store_report_triage(actor=actor_for_user(hq), report_ids=[r.pk], status="closed", note="x")
    assert StoreReport.objects.get(pk=r.pk).status == "new"

    n = services.store_report_triage(
        actor=actor_for_user(hq), report_ids=[r.pk], status="confirmed_unofficial", note="现场核实，非授权"
    )
    r.refresh_from_db()
    assert n == 1
    assert (r.status, r.triage_note, r.handled_by_id) == ("confirmed_unofficial", "现场核实，非授权", hq.pk)
    assert timezone.now() - r.handled_at < dt.timedelta(minutes=1)
    # investigating needs no note, and keeps the one written
    services.store_report_triage(actor=SYSTEM, report_ids=[r.pk], status="investigating")
    r.refresh_from_db()
    assert (r.status, r.triage_note, r.handled_by_id) == ("investigating", "现场核实，非授权", None)


# --- API: POST /api/v1/store-reports/ ---------------------------------------------------------------------

URL = "/api/v1/store-reports/"


def test_api_creates_a_report(django_assert_max_num_queries):
    region_chain()
    body = {"name": "假官方店", "address": "上海市黄浦区九江路 1 号", "phone": "13900000000", "note": "说是官方"}
    # region (2), insert, event; then the eager outbox dispatch claims and closes the event
    with django_assert_max_num_queries(10):
        r = APIClient().post(URL, body, format="json", REMOTE_ADDR="198.51.100.7")
    assert r.status_code == 201, r.content
    saved = StoreReport.objects.get(pk=r.json()["id"])
    assert list(r.json()) == ["id"]
    assert (saved.name, saved.phone, saved.note) == ("假官方店", "13900000000", "说是官方")
    assert saved.client_ip_hash == services.client_ip_hash("198.51.100.7")
    assert saved.region.name == "黄浦区"


def test_api_refuses_a_report_without_address():
    r = APIClient().post(URL, {"name": "x", "note": "y"}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error" and "address" in r.json()["errors"]
    assert not StoreReport.objects.exists()


def test_api_is_throttled_per_address():
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = dict(api_settings.DEFAULT_THROTTLE_RATES, store_reports="2/hour")
    try:
        c = APIClient()
        body = {"name": "x", "address": "y", "note": "z"}
        codes = [c.post(URL, body, format="json", REMOTE_ADDR="192.0.2.1").status_code for _ in range(3)]
        other = c.post(URL, body, format="json", REMOTE_ADDR="192.0.2.2").status_code
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert codes == [201, 201, 429]
    assert other == 201
    assert StoreReport.objects.count() == 3


# --- API: GET /api/v1/official-stores/feed/ ---------------------------------------------------------------

FEED = "/api/v1/official-stores/feed/"


def test_feed_lists_active_official_stores_with_a_fixed_number_of_queries(key_client, django_assert_num_queries):
    a = ServiceCenterFactory(code="A1", name="上海旗舰店", kind="flagship", phone="021-1")
    ServiceCenterFactory(code="B2", active=False)
    ServiceCenterFactory(code="C3", official=False)
    c = key_client(scopes=["centers:read"])
    c.get(FEED)  # warm the key's cache
    with django_assert_num_queries(3) as one:
        r = c.get(FEED)
    assert r.status_code == 200
    body = r.json()
    assert [s["code"] for s in body["stores"]] == ["A1"]
    store = body["stores"][0]
    assert set(store) == {"code", "name", "kind", "address", "lat", "lng", "phone", "updated_at", "closed"}
    assert (store["name"], store["kind"], store["phone"], store["closed"]) == ("上海旗舰店", "flagship", "021-1", False)
    assert store["lat"] == a.lat
    assert abs(dt.datetime.fromisoformat(body["generated_at"]) - timezone.now()) < dt.timedelta(minutes=1)
    ServiceCenterFactory.create_batch(5)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(c.get(FEED).json()["stores"]) == 6


def test_feed_needs_the_scope(key_client):
    assert APIClient().get(FEED).status_code == 401
    assert key_client(scopes=["tickets:read"]).get(FEED).status_code == 403


def test_feed_since_gives_the_changes_with_closed_ones(key_client):
    old = ServiceCenterFactory(code="OLD")
    moved = ServiceCenterFactory(code="MOVED")
    closing = ServiceCenterFactory(code="CLOSING")
    ServiceCenter.objects.filter(pk__in=[old.pk, moved.pk, closing.pk]).update(
        updated_at=timezone.now() - dt.timedelta(days=2)
    )
    since = timezone.now() - dt.timedelta(hours=1)
    services.center_update(center_id=moved.pk, address="南京西路 2 号", lat=31.3)
    services.center_deactivate(center_id=closing.pk)
    new = ServiceCenterFactory(code="NEW")
    c = key_client(scopes=["centers:read"])

    r = c.get(FEED, {"since": since.isoformat()})
    assert r.status_code == 200
    stores = {s["code"]: s for s in r.json()["stores"]}
    assert set(stores) == {"MOVED", "CLOSING", "NEW"}
    assert (stores["MOVED"]["address"], stores["MOVED"]["lat"], stores["MOVED"]["closed"]) == (
        "南京西路 2 号",
        31.3,
        False,
    )
    assert stores["CLOSING"]["closed"] is True and stores["NEW"]["closed"] is False
    # the full list has no closed store
    assert {s["code"] for s in c.get(FEED).json()["stores"]} == {"OLD", "MOVED", "NEW"}
    assert new.pk and c.get(FEED, {"since": "yesterday"}).status_code == 400


def test_feed_etag_and_304_until_a_store_changes(key_client):
    center = ServiceCenterFactory(code="E1")
    c = key_client(scopes=["centers:read"])
    first = c.get(FEED)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = c.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert c.get(FEED, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    services.center_update(center_id=center.pk, phone="021-99999999")
    changed = c.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["stores"][0]["phone"] == "021-99999999"


def test_feed_is_signed_with_the_partners_webhook_secret(key_client):
    ServiceCenterFactory(code="S1")
    c = key_client(scopes=["centers:read"])
    unsigned = c.get(FEED)
    assert "X-ServiceHub-Signature" not in unsigned  # no endpoint: no signature (documented)
    endpoint = WebhookEndpointFactory(partner=c.api_key.partner)
    r = c.get(FEED)
    msg_id, ts = r["X-ServiceHub-Signature-Id"], int(r["X-ServiceHub-Signature-Timestamp"])
    assert r["X-ServiceHub-Signature"] == sign(secret=endpoint.secret, msg_id=msg_id, timestamp=ts, body=r.content)
    assert r["X-ServiceHub-Signature"] != sign(secret="whsec_" + "A" * 32, msg_id=msg_id, timestamp=ts, body=r.content)


# --- the public page --------------------------------------------------------------------------------------

PAGE = "/centers/verify/report/"


def test_verify_page_links_to_the_report_with_what_was_typed(client):
    ServiceCenterFactory(name="上海南京东路服务中心", phone="021-63500000")
    r = client.get("/centers/verify/", {"phone": "021-12345678", "name": "华为维修"})
    html = r.content.decode()
    assert 'id="report-store"' in html
    assert "phone=021-12345678" in html
    r = client.get("/centers/verify/", {"phone": "021-63500000"})
    assert 'id="report-store"' not in r.content.decode()  # official: nothing to report
    page = client.get(PAGE, {"name": "华为维修", "phone": "021-12345678"})
    assert 'value="华为维修"' in page.content.decode() and 'value="021-12345678"' in page.content.decode()


def test_page_files_a_report_with_photos_and_shows_its_reference(client, django_assert_max_num_queries):
    region_chain()
    data = {
        "name": "官方维修中心",
        "address": "上海市黄浦区福州路 8 号",
        "phone": "",
        "note": "收了手机说要寄回总部",
        "contact": "",
        "photos": [upload(jpeg_with_gps()), upload(jpeg_with_gps((300, 300)), "b.jpg")],
    }
    with django_assert_max_num_queries(12):  # session/CSRF-free; region lookup, report, 2 photos, event
        r = client.post(PAGE, data)
    assert r.status_code == 302
    saved = StoreReport.objects.get()
    assert saved.photos.count() == 2 and saved.province.name == "上海市"
    done = client.get(r["Location"])
    assert saved.reference in done.content.decode()
    assert client.get(PAGE + "forged-token/").status_code == 404


def test_page_shows_a_bad_photo_error_and_keeps_nothing(client):
    data = {"name": "x", "address": "y", "note": "z", "photos": [upload(b"GIF89a broken", "x.gif", "image/gif")]}
    r = client.post(PAGE, data)
    assert r.status_code == 200
    assert "x.gif" in r.content.decode() and "is not a photo we can read" in r.content.decode()
    assert not StoreReport.objects.exists() and not StoreReportPhoto.objects.exists()


def test_page_and_api_share_the_throttle(client):
    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = dict(api_settings.DEFAULT_THROTTLE_RATES, store_reports="2/hour")
    try:
        data = {"name": "x", "address": "y", "note": "z"}
        assert APIClient().post(URL, data, format="json").status_code == 201
        assert client.post(PAGE, data).status_code == 302
        third = client.post(PAGE, data)
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
    assert third.status_code == 429 and "Too many reports" in third.content.decode()
    assert StoreReport.objects.count() == 2


# --- HQ's triage in the admin -------------------------------------------------------------------------------

ADMIN = "/admin/centers/storereport/"


@pytest.fixture
def hq_client(client):
    client.force_login(staff(None, "hq", username="hq1"))
    return client


def test_triage_list_filters_with_counts_in_a_fixed_number_of_queries(
    hq_client, django_assert_num_queries, django_assert_max_num_queries
):
    region_chain()
    report()
    with django_assert_max_num_queries(16) as one:  # with 1 report, then the same number with 6
        r = hq_client.get(ADMIN)
    assert r.status_code == 200
    n1 = len(one.captured_queries)
    for _ in range(4):
        report(photos=[upload(jpeg_with_gps((50, 50)))])
    report(address="村口")
    with django_assert_num_queries(n1):
        r = hq_client.get(ADMIN)
    html = r.content.decode()
    assert "上海市" in html and "(5)" in html  # facet counts: five reports in Shanghai
    assert hq_client.get(ADMIN, {"status__exact": "new"}).context["cl"].result_count == 6
    assert hq_client.get(ADMIN, {"status__exact": "dismissed"}).context["cl"].result_count == 0


def test_staff_of_a_center_and_the_public_cannot_see_reports_or_photos(client):
    r = report(photos=[upload(jpeg_with_gps((50, 50)))])
    photo = r.photos.get()
    url = f"{ADMIN}{r.pk}/photo/{photo.pk}/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(staff(ServiceCenterFactory(), "manager"))
    assert client.get(url).status_code == 403
    assert client.get(ADMIN).status_code == 403


def test_hq_sees_the_photo_on_the_change_page(hq_client):
    r = report(photos=[upload(jpeg_with_gps((50, 50)))])
    photo = r.photos.get()
    page = hq_client.get(f"{ADMIN}{r.pk}/change/").content.decode()
    url = f"{ADMIN}{r.pk}/photo/{photo.pk}/"
    assert url in page
    got = hq_client.get(url)
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    assert b"".join(got.streaming_content) == open(photo.image.path, "rb").read()
    assert hq_client.get(f"{ADMIN}{r.pk}/photo/{photo.pk + 1}/").status_code == 404


def test_change_page_sets_status_with_a_note(hq_client):
    r = report()
    url = f"{ADMIN}{r.pk}/change/"
    refused = hq_client.post(
        url, {"status": "dismissed", "triage_note": "", "photos-TOTAL_FORMS": 0, "photos-INITIAL_FORMS": 0}
    )
    assert refused.status_code == 200 and StoreReport.objects.get(pk=r.pk).status == "new"
    done = hq_client.post(
        url, {"status": "dismissed", "triage_note": "重复举报", "photos-TOTAL_FORMS": 0, "photos-INITIAL_FORMS": 0}
    )
    assert done.status_code == 302
    r.refresh_from_db()
    assert (r.status, r.triage_note, r.handled_by.username) == ("dismissed", "重复举报", "hq1")


def test_action_sets_status_and_export_is_excel_ready_csv(hq_client):
    region_chain()
    a = report(name='=HYPERLINK("x")')
    b = report(name="假店二号")
    report(name="不导出")
    r = hq_client.post(
        ADMIN,
        {"action": "mark_confirmed_unofficial", "_selected_action": [a.pk, b.pk], "note": "已核实"},
    )
    assert r.status_code == 302
    assert set(StoreReport.objects.filter(status="confirmed_unofficial").values_list("pk", flat=True)) == {a.pk, b.pk}

    export = hq_client.post(ADMIN, {"action": "export_csv", "_selected_action": [a.pk, b.pk]})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    raw = export.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "店名", "地址", "电话"]
    assert [row[0] for row in rows[1:]] == [a.reference, b.reference]
    assert rows[1][1] == '\'=HYPERLINK("x")'  # formula-neutral
    assert rows[2][1] == "假店二号" and rows[2][4] == "上海市" and rows[2][5] == "黄浦区"
    assert rows[2][9] == "确认非官方" and rows[2][10] == "已核实" and rows[2][11] == "hq1"


def test_demo_store_reports_are_idempotent():
    from centers import demo

    region_chain()
    out = io.StringIO()
    demo._demo_store_reports(out)
    demo._demo_store_reports(out)
    assert StoreReport.objects.count() == len(demo.DEMO_STORE_REPORTS)
    assert StoreReport.objects.get(name="华为官方授权维修中心").region.name == "黄浦区"
