"""SF Express (顺丰) adapter, shaped after its open platform (丰桥 / sf-express open API).

Requests are form posts of ``partnerID``, ``requestID``, ``serviceCode``, ``timestamp``, ``msgData`` (JSON) and
``msgDigest`` = Base64(MD5(URL-encode(msgData + timestamp + checkWord))) in UTF-8. The order service is
``EXP_RECE_CREATE_ORDER``; the answer's ``apiResultCode`` is ``A1000`` when the call went through, and its
``apiResultData`` (a JSON string) holds ``success`` and ``msgData.waybillNoInfoList[].waybillNo``.

Route pushes (路由推送) arrive signed the same way (form fields ``msgData``, ``timestamp``, ``msgDigest``);
``msgData`` holds ``{"WaybillRoute": [{"id", "mailno", "opCode", "acceptTime", "remark", ...}]}``. Op codes:
50 picked up (收件), 30/31/36/44/204 in transit, 80/8000 delivered (签收); others are skipped. We answer
``{"return_code": "0000", "return_msg": "成功"}``.

No network in tests: the HTTP transport is injected (``transport(url, form) -> dict``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, quote_plus, urlencode
from urllib.request import Request, urlopen

from django.utils import timezone
from django.utils.translation import gettext as _

from .base import Booking, BookingRequest, CourierEvent, CourierUnavailable, PushRejected

SANDBOX_URL = "https://sfapi-sbox.sf-express.com/std/service"
CREATE_ORDER = "EXP_RECE_CREATE_ORDER"
OP_CODES = {
    "50": "picked_up",
    "30": "in_transit",
    "31": "in_transit",
    "36": "in_transit",
    "44": "in_transit",
    "204": "in_transit",
    "80": "delivered",
    "8000": "delivered",
}
PUSH_MAX_AGE = dt.timedelta(minutes=15)

Transport = Callable[[str, dict], dict]


def msg_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    """SF's request signature: Base64(MD5(URL-encode(msgData + timestamp + checkWord))), UTF-8."""
    raw = quote_plus(msg_data + timestamp + check_word, encoding="utf-8")
    return base64.b64encode(hashlib.md5(raw.encode("utf-8")).digest()).decode("ascii")  # noqa: S324 (SF's scheme)


def _http_transport(url: str, form: dict) -> dict:
    data = urlencode(form).encode()
    req = Request(url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})  # noqa: S310
    with urlopen(req, timeout=5) as resp:  # noqa: S310 (https URL from settings)
        return json.loads(resp.read().decode("utf-8"))


class SFExpressCourier:
    name = "sf_express"
    carrier = "sf_express"

    def __init__(
        self,
        *,
        partner_id: str,
        check_word: str,
        url: str = SANDBOX_URL,
        monthly_card: str = "",
        transport: Transport | None = None,
        clock: Callable[[], dt.datetime] = timezone.now,
    ) -> None:
        self.partner_id, self.check_word, self.url, self.monthly_card = partner_id, check_word, url, monthly_card
        self.transport = transport or _http_transport
        self.clock = clock

    # --- create order ---------------------------------------------------------------------------

    def order_form(
        self, request: BookingRequest, *, timestamp: str | None = None, request_id: str | None = None
    ) -> dict:
        msg = {
            "language": "zh-CN",
            "orderId": request.order_id,
            "cargoDetails": [{"name": request.cargo, "count": 1}],
            "contactInfoList": [
                {"contactType": 1, "contact": p.name, "tel": p.phone, "address": p.address}
                if i == 0
                else {"contactType": 2, "contact": p.name, "tel": p.phone, "address": p.address}
                for i, p in enumerate((request.sender, request.receiver))
            ],
            "expressTypeId": 1,
            "payMethod": 1,  # sender pays: the return leg is free for the customer
            "isReturnRoutelabel": 1,
            "monthlyCard": self.monthly_card,
            "remark": request.service_no,
        }
        msg_data = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
        timestamp = timestamp or str(int(self.clock().timestamp() * 1000))
        return {
            "partnerID": self.partner_id,
            "requestID": request_id or uuid.uuid4().hex,
            "serviceCode": CREATE_ORDER,
            "timestamp": timestamp,
            "msgData": msg_data,
            "msgDigest": msg_digest(msg_data, timestamp, self.check_word),
        }

    def book(self, request: BookingRequest) -> Booking:
        try:
            answer = self.transport(self.url, self.order_form(request))
        except (OSError, ValueError) as exc:  # network down, timeout, not JSON
            raise CourierUnavailable() from exc
        if answer.get("apiResultCode") != "A1000":
            raise CourierUnavailable()
        try:
            data = json.loads(answer.get("apiResultData") or "{}")
        except ValueError:
            raise CourierUnavailable() from None
        if not data.get("success"):
            raise CourierUnavailable()
        waybills = (data.get("msgData") or {}).get("waybillNoInfoList") or []
        number = next((w.get("waybillNo") for w in waybills if w.get("waybillType") in (1, None)), None)
        if not number:
            raise CourierUnavailable()
        return Booking(carrier=self.carrier, tracking_no=str(number), raw=data)

    # --- route push -----------------------------------------------------------------------------

    def parse_push(self, *, body: bytes, headers: Mapping[str, str]) -> list[CourierEvent]:
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            raise PushRejected() from None
        msg_data, timestamp, digest = form.get("msgData", ""), form.get("timestamp", ""), form.get("msgDigest", "")
        if not (msg_data and timestamp and digest):
            raise PushRejected()
        if not hmac.compare_digest(digest, msg_digest(msg_data, timestamp, self.check_word)):
            raise PushRejected()
        try:
            sent = dt.datetime.fromtimestamp(int(timestamp) / 1000, tz=dt.UTC)
        except (ValueError, OverflowError):
            raise PushRejected() from None
        if abs(self.clock() - sent) > PUSH_MAX_AGE:
            raise PushRejected(_("The push is too old (or from the future)."))
        try:
            routes = json.loads(msg_data).get("WaybillRoute") or []
        except (ValueError, AttributeError):
            raise PushRejected(_("Not a route push.")) from None
        if not isinstance(routes, list):
            raise PushRejected(_("Not a route push."))
        out = []
        tz = timezone.get_default_timezone()  # SF's acceptTime is Beijing time, without an offset
        for r in routes:
            if not isinstance(r, dict):
                continue
            kind = OP_CODES.get(str(r.get("opCode", "")))
            try:
                at = dt.datetime.strptime(str(r.get("acceptTime", "")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
            except ValueError:
                continue
            if kind is None or not r.get("mailno") or not r.get("id"):
                continue
            out.append(
                CourierEvent(
                    tracking_no=str(r["mailno"]),
                    event=kind,
                    at=at,
                    external_id=f"sf:{r['id']}",
                    note=str(r.get("remark", ""))[:300],
                )
            )
        return out

    def push_ack(self) -> dict:
        return {"return_code": "0000", "return_msg": "成功"}
