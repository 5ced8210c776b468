"""Courier providers (logistics.couriers): the sandbox, the SF Express adapter against fixture payloads (no
network), the desk's ship-back booking and the push endpoint (idempotent, signature checked)."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlencode

import pytest
from django.utils import timezone

from logistics import services
from logistics.couriers import BookingRequest, CourierUnavailable, Party, PushRejected, courier_provider
from logistics.couriers.sandbox import SandboxCourier
from logistics.couriers.sf_express import SFExpressCourier, msg_digest
from logistics.models import Shipment, ShipmentEvent
from notifications.models import Notification
from repairs.models import RepairTicket
from servicehub.errors import DomainError

REQ = BookingRequest(
    order_id="SHT1-7",
    service_no="T1",
    sender=Party("广东寄修中心", "020-1234", "广州市天河区"),
    receiver=Party("王小明", "13812345678", "上海市黄浦区南京东路 1 号"),
)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def test_sf_msg_digest_matches_the_fixture():
    # Base64(MD5(URL-encode(msgData + timestamp + checkWord))), computed once by hand for this fixture.
    assert msg_digest('{"orderId":"SH1"}', "1764590400000", "fc34c561a34f") == "S6NQx7qXaVSZWPkk8AOjQw=="


def test_sf_create_order_form_is_signed_and_the_answer_gives_the_waybill():
    sent = {}

    def transport(url, form):
        sent.update(form, url=url)
        return {
            "apiResultCode": "A1000",
            "apiResultData": json.dumps(
                {"success": True, "msgData": {"waybillNoInfoList": [{"waybillType": 1, "waybillNo": "SF1234567890"}]}}
            ),
        }

    sf = SFExpressCourier(partner_id="SH_PARTNER", check_word="cw", transport=transport, clock=lambda: NOW)
    booking = sf.book(REQ)
    assert (booking.carrier, booking.tracking_no) == ("sf_express", "SF1234567890")
    assert sent["serviceCode"] == "EXP_RECE_CREATE_ORDER" and sent["partnerID"] == "SH_PARTNER"
    assert sent["timestamp"] == str(int(NOW.timestamp() * 1000))
    assert sent["msgDigest"] == msg_digest(sent["msgData"], sent["timestamp"], "cw")
    msg = json.loads(sent["msgData"])
    assert msg["orderId"] == "SHT1-7" and [c["contactType"] for c in msg["contactInfoList"]] == [1, 2]
    assert msg["contactInfoList"][1]["address"] == "上海市黄浦区南京东路 1 号"


@pytest.mark.parametrize(
    "answer",
    [
        {"apiResultCode": "A1001", "apiResultData": None},
        {"apiResultCode": "A1000", "apiResultData": json.dumps({"success": False, "errorCode": "8016"})},
        {"apiResultCode": "A1000", "apiResultData": "not json"},
        OSError("timed out"),
    ],
)
def test_sf_refusals_and_outages_are_courier_unavailable(answer):
    def transport(url, form):
        if isinstance(answer, Exception):
            raise answer
        return answer

    with pytest.raises(CourierUnavailable) as err:
        SFExpressCourier(partner_id="p", check_word="cw", transport=transport).book(REQ)
    assert (err.value.code, err.value.status) == ("courier_unavailable", 503)


def sf_push(routes, *, check_word="cw", at=NOW):
    msg = json.dumps({"WaybillRoute": routes}, ensure_ascii=False)
    ts = str(int(at.timestamp() * 1000))
    return urlencode({"msgData": msg, "timestamp": ts, "msgDigest": msg_digest(msg, ts, check_word)}).encode()


ROUTES = [
    {"id": "1001", "mailno": "SF1", "opCode": "50", "acceptTime": "2026-12-01 19:30:00", "remark": "已收取快件"},
    {"id": "1002", "mailno": "SF1", "opCode": "99", "acceptTime": "2026-12-01 19:40:00", "remark": "未知"},
    {"id": "1003", "mailno": "SF1", "opCode": "80", "acceptTime": "2026-12-02 10:00:00", "remark": "已签收"},
]


def test_sf_route_push_verified_and_read_in_beijing_time():
    sf = SFExpressCourier(partner_id="p", check_word="cw", clock=lambda: NOW)
    events = sf.parse_push(body=sf_push(ROUTES), headers={})
    assert [(e.event, e.external_id) for e in events] == [("picked_up", "sf:1001"), ("delivered", "sf:1003")]
    assert events[0].at == dt.datetime(2026, 12, 1, 11, 30, tzinfo=dt.UTC)  # 19:30 in Shanghai
    assert sf.push_ack() == {"return_code": "0000", "return_msg": "成功"}


@pytest.mark.parametrize(
    "body",
    [
        sf_push(ROUTES, check_word="forged"),
        sf_push(ROUTES, at=NOW - dt.timedelta(hours=1)),
        b"msgData=x",
    ],
)
def test_sf_forged_or_stale_pushes_are_rejected(body):
    with pytest.raises(PushRejected):
        SFExpressCourier(partner_id="p", check_word="cw", clock=lambda: NOW).parse_push(body=body, headers={})


def test_sf_tampered_msgdata_is_rejected():
    form = {k: v[0] for k, v in parse_qs(sf_push(ROUTES).decode()).items()}
    form["msgData"] = form["msgData"].replace("SF1", "SF2")
    with pytest.raises(PushRejected):
        SFExpressCourier(partner_id="p", check_word="cw", clock=lambda: NOW).parse_push(
            body=urlencode(form).encode(), headers={}
        )


def test_sandbox_books_stable_numbers_and_can_be_down():
    sandbox = SandboxCourier()
    assert sandbox.book(REQ).tracking_no == sandbox.book(REQ).tracking_no
    assert sandbox.book(REQ).tracking_no.startswith("SBX")
    with pytest.raises(CourierUnavailable):
        SandboxCourier(down=True).book(REQ)


def test_registry_by_setting(settings):
    settings.LOGISTICS_COURIERS = {"default": "sf_express", "sf_express": {"partner_id": "p", "check_word": "c"}}
    assert courier_provider().name == "sf_express" and courier_provider("sandbox").name == "sandbox"
    with pytest.raises(LookupError):
        courier_provider("dhl")
    settings.LOGISTICS_COURIERS = {"default": "sf_express"}
    with pytest.raises(LookupError):
        courier_provider()


# --- the desk's ship back and the push endpoint --------------------------------------------------------


@pytest.fixture
def ready_mail_in(db):
    from servicehub.actors import actor_for_user
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.partners import make_ticket
    from tests.factories.repairs import staff

    hub = ServiceCenterFactory(code="HUB-GD", kind="mail_in_hub", phone="020-1234", address="广州市天河区")
    desk = actor_for_user(staff(hub, "front_desk", username="hubdesk"))
    ticket = make_ticket(center=hub, status="ready", channel="mail_in", phone="+8613812345678")
    Shipment.objects.create(
        ticket=ticket, leg="customer_to_hub", address="上海市黄浦区南京东路 1 号", status="delivered", delivered_at=NOW
    )
    return ticket, desk


@pytest.mark.django_db
def test_ship_back_books_the_sandbox_courier_and_the_sms_has_the_number(ready_mail_in, sms_outbox):
    ticket, desk = ready_mail_in
    shipment = services.ticket_ship_back(ticket_id=ticket.pk, actor=desk)
    assert shipment.leg == "hub_to_customer" and shipment.tracking_no.startswith("SBX")
    assert shipment.address == "上海市黄浦区南京东路 1 号" and shipment.courier == "sf_express"
    assert RepairTicket.objects.get(pk=ticket.pk).status == "returning"
    sms = Notification.objects.get(ticket=ticket, kind="shipped_back", channel="sms")
    assert shipment.tracking_no in sms.body


@pytest.mark.django_db
def test_ship_back_with_the_courier_down_writes_nothing_then_the_typed_number_works(ready_mail_in, settings):
    ticket, desk = ready_mail_in
    settings.LOGISTICS_COURIERS = {"sandbox": {"down": True}}
    with pytest.raises(DomainError) as err:
        services.ticket_ship_back(ticket_id=ticket.pk, actor=desk)
    assert err.value.code == "courier_unavailable"
    assert not Shipment.objects.filter(ticket=ticket, leg="hub_to_customer").exists()
    assert RepairTicket.objects.get(pk=ticket.pk).status == "ready"
    shipment = services.ticket_ship_back(ticket_id=ticket.pk, actor=desk, tracking_no="JD0001", courier="JD Logistics")
    assert (shipment.tracking_no, shipment.courier) == ("JD0001", "JD Logistics")


@pytest.mark.django_db
def test_ship_back_refusals(ready_mail_in):
    ticket, desk = ready_mail_in
    Shipment.objects.filter(ticket=ticket).update(address="")
    with pytest.raises(DomainError) as err:
        services.ticket_ship_back(ticket_id=ticket.pk, actor=desk)
    assert (err.value.code, err.value.field) == ("validation_error", "address")
    RepairTicket.objects.filter(pk=ticket.pk).update(status="repairing")
    with pytest.raises(DomainError) as err:
        services.ticket_ship_back(ticket_id=ticket.pk, actor=desk, address="x")
    assert err.value.code == "invalid_transition"


@pytest.mark.django_db
def test_push_endpoint_moves_the_ticket_to_delivered_once(ready_mail_in, api_client):
    ticket, desk = ready_mail_in
    shipment = services.ticket_ship_back(ticket_id=ticket.pk, actor=desk)
    sandbox = SandboxCourier()
    now = timezone.now()
    body, headers = sandbox.push_body(
        (shipment.tracking_no, "picked_up", now - dt.timedelta(hours=2), "e1"),
        (shipment.tracking_no, "delivered", now - dt.timedelta(minutes=5), "e2"),
    )
    url = "/api/v1/couriers/sandbox/push/"
    extra = {"HTTP_X_SANDBOX_SIGNATURE": headers["X-Sandbox-Signature"]}
    for _ in range(2):  # the courier pushes the same batch twice
        response = api_client.post(url, data=body, content_type="application/json", **extra)
        assert response.status_code == 200 and response.json() == {"ok": True}
    assert list(ShipmentEvent.objects.filter(shipment=shipment).values_list("event", flat=True)) == [
        "picked_up",
        "delivered",
    ]
    assert RepairTicket.objects.get(pk=ticket.pk).status == "delivered"
    forged = api_client.post(url, data=body, content_type="application/json", HTTP_X_SANDBOX_SIGNATURE="00")
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_signature")
    assert api_client.post("/api/v1/couriers/dhl/push/", data=body, content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_pickup_number_shows_on_the_tracking_api_as_soon_as_booked_despite_the_cache(
    ready_mail_in, api_client, django_assert_max_num_queries
):
    ticket, _desk = ready_mail_in
    RepairTicket.objects.filter(pk=ticket.pk).update(status="booked")
    pickup = Shipment.objects.get(ticket=ticket)
    Shipment.objects.filter(pk=pickup.pk).update(status="created", delivered_at=None)
    url = f"/api/v1/track/{ticket.service_no}/?phone_last4=5678"
    first = api_client.get(url).json()["shipments"]
    assert first == [{"leg": "pickup", "carrier": "", "carrier_display": "", "tracking_no": "", "status": "created"}]
    with django_assert_max_num_queries(3):  # cached: the lookup with its version columns
        api_client.get(url)
    services.shipment_tracking_assign(
        shipment_id=pickup.pk, tracking_no="SF7777", courier="sf_express", actor=services.SYSTEM
    )
    legs = api_client.get(url).json()["shipments"]
    assert (legs[0]["tracking_no"], legs[0]["carrier"]) == ("SF7777", "sf_express")


@pytest.mark.parametrize("body", [b"\xff\xfe", b'{"events": 3}', b'{"events": [1, {"id": "x"}]}', b"[]"])
def test_garbage_pushes_are_refused_or_empty_never_a_crash(body):
    sandbox = SandboxCourier()
    try:
        assert sandbox.parse_push(body=body, headers={"X-Sandbox-Signature": sandbox.sign(body)}) == []
    except PushRejected as exc:
        assert exc.code == "invalid_signature"
    sf = SFExpressCourier(partner_id="p", check_word="cw", clock=lambda: NOW)
    with pytest.raises(PushRejected):
        sf.parse_push(body=body, headers={})
