"""WeChat Pay API v3 (Native pay: a ``code_url`` QR) on the maintained SDK ``wechatpayv3``.

Options (``PAYMENT_PROVIDER_OPTIONS["wechat_pay"]``): ``MCHID``, ``APPID``, ``PRIVATE_KEY`` (the
merchant API key, PEM), ``CERT_SERIAL_NO`` (its certificate serial), ``APIV3_KEY`` (32 bytes, decrypts
notifications), and the WeChat Pay platform public key ``PUBLIC_KEY`` (PEM) + ``PUBLIC_KEY_ID``, which
verifies notifications without downloading platform certificates. The SDK client is built lazily so a
misconfigured provider fails where it is used, not at start-up.

A notification (``POST /payments/notify/wechat_pay/``) is RSA-SHA256 signed over
``timestamp\\nnonce\\nbody\\n`` and carries the transaction AES-256-GCM encrypted with the APIv3 key;
``wechatpayv3`` checks the one and decrypts the other. WeChat expects HTTP 200/204 for success and a
JSON ``{"code": "FAIL", "message": ...}`` with a 4xx/5xx otherwise (then it retries).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .base import Answer, Notification, ProviderError, QrOrder, RefundResult

CENTS = Decimal(100)


def _cents(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value())


class WechatPayProvider:
    name = "wechat_pay"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from wechatpayv3 import WeChatPay, WeChatPayType

            o = self.options
            try:
                self._client = WeChatPay(
                    wechatpay_type=WeChatPayType.NATIVE,
                    mchid=o["MCHID"],
                    private_key=o["PRIVATE_KEY"],
                    cert_serial_no=o["CERT_SERIAL_NO"],
                    appid=o["APPID"],
                    apiv3_key=o["APIV3_KEY"],
                    notify_url=o.get("NOTIFY_URL"),
                    public_key=o["PUBLIC_KEY"],
                    public_key_id=o["PUBLIC_KEY_ID"],
                    timeout=(5, 10),
                )
            except KeyError as exc:
                raise ProviderError(f"WeChat Pay is not configured: {exc.args[0]} missing") from exc
        return self._client

    def qr_create(self, *, order_no: str, amount: Decimal, description: str, notify_url: str) -> QrOrder:
        code, message = self.client().pay(
            description=description[:127] or order_no,
            out_trade_no=order_no,
            amount={"total": _cents(amount), "currency": "CNY"},
            notify_url=notify_url,
        )
        data = json.loads(message or "{}")
        if code != 200 or not data.get("code_url"):
            raise ProviderError(f"WeChat Pay refused the order: {code} {data.get('message', '')}")
        return QrOrder(qr_payload=data["code_url"])

    def notification_parse(self, *, headers: dict[str, str], body: bytes, form: dict[str, str]) -> Notification | None:
        try:
            data = self.client().callback(headers=headers, body=body)
        except Exception:  # noqa: BLE001 -- the SDK raises bare Exception for unknown algorithms: not verified
            return None
        if not data:
            return None
        event_type = data.get("event_type", "")
        txn = data.get("resource") or {}
        if not event_type.startswith("TRANSACTION.") or not txn.get("out_trade_no"):
            return None
        amount = (txn.get("amount") or {}).get("total")
        if not isinstance(amount, int):
            return None
        return Notification(
            notification_id=str(data.get("id", "")),
            order_no=str(txn["out_trade_no"]),
            provider_txn_id=str(txn.get("transaction_id", "")),
            amount=Decimal(amount) / CENTS,
            paid=txn.get("trade_state") == "SUCCESS",
            payload={"event_type": event_type, "trade_state": txn.get("trade_state"), "amount": amount},
        )

    def refund(
        self, *, order_no: str, provider_txn_id: str, refund_no: str, amount: Decimal, total: Decimal
    ) -> RefundResult:
        code, message = self.client().refund(
            out_refund_no=refund_no,
            amount={"refund": _cents(amount), "total": _cents(total), "currency": "CNY"},
            out_trade_no=order_no,
        )
        data = json.loads(message or "{}")
        if code != 200:
            raise ProviderError(f"WeChat Pay refused the refund: {code} {data.get('message', '')}")
        return RefundResult(succeeded=data.get("status") == "SUCCESS", provider_refund_id=data.get("refund_id", ""))

    def answer(self, *, ok: bool) -> Answer:
        if ok:
            return Answer(200, "")
        return Answer(400, json.dumps({"code": "FAIL", "message": "rejected"}))
