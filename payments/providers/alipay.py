"""Alipay face-to-face precreate (a ``qr_code`` to scan) on ``python-alipay-sdk``.

Options (``PAYMENT_PROVIDER_OPTIONS["alipay"]``): ``APPID``, ``APP_PRIVATE_KEY`` (PEM, signs our
requests), ``ALIPAY_PUBLIC_KEY`` (PEM, verifies Alipay's answers and notifications), ``DEBUG`` (the
Alipay sandbox gateway). A notification (``POST /payments/notify/alipay/``) is a form post signed
RSA2 over the sorted ``k=v`` pairs without ``sign``/``sign_type``; Alipay expects the plain text
``success`` (anything else and it retries, up to 8 times over 25 hours).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .base import Answer, Notification, ProviderError, QrOrder, RefundResult

PAID_STATES = ("TRADE_SUCCESS", "TRADE_FINISHED")


class AlipayProvider:
    name = "alipay"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from alipay import AliPay

            o = self.options
            try:
                self._client = AliPay(
                    appid=o["APPID"],
                    app_notify_url=o.get("NOTIFY_URL"),
                    app_private_key_string=o["APP_PRIVATE_KEY"],
                    alipay_public_key_string=o["ALIPAY_PUBLIC_KEY"],
                    sign_type="RSA2",
                    debug=bool(o.get("DEBUG", False)),
                )
            except KeyError as exc:
                raise ProviderError(f"Alipay is not configured: {exc.args[0]} missing") from exc
        return self._client

    def qr_create(self, *, order_no: str, amount: Decimal, description: str, notify_url: str) -> QrOrder:
        result = self.client().api_alipay_trade_precreate(
            subject=description[:256] or order_no,
            out_trade_no=order_no,
            total_amount=str(amount),
            notify_url=notify_url,
        )
        if not result or result.get("code") != "10000" or not result.get("qr_code"):
            raise ProviderError(f"Alipay refused the order: {result}")
        return QrOrder(qr_payload=result["qr_code"])

    def notification_parse(self, *, headers: dict[str, str], body: bytes, form: dict[str, str]) -> Notification | None:
        data = dict(form)
        signature = data.pop("sign", "")
        if not signature or data.get("app_id") != self.options.get("APPID"):
            return None
        try:
            if not self.client().verify(dict(data), signature):
                return None
            amount = Decimal(data["total_amount"])
        except (KeyError, ValueError, InvalidOperation, Exception):  # noqa: BLE001 -- SDK errors mean "not verified"
            return None
        return Notification(
            notification_id=str(data.get("notify_id", "")),
            order_no=str(data.get("out_trade_no", "")),
            provider_txn_id=str(data.get("trade_no", "")),
            amount=amount,
            paid=data.get("trade_status") in PAID_STATES,
            payload={"trade_status": data.get("trade_status"), "total_amount": data.get("total_amount")},
        )

    def refund(
        self, *, order_no: str, provider_txn_id: str, refund_no: str, amount: Decimal, total: Decimal
    ) -> RefundResult:
        result = self.client().api_alipay_trade_refund(
            refund_amount=str(amount), out_trade_no=order_no, out_request_no=refund_no
        )
        if not result or result.get("code") != "10000":
            raise ProviderError(f"Alipay refused the refund: {result}")
        return RefundResult(succeeded=True, provider_refund_id=str(result.get("trade_no", "")))

    def answer(self, *, ok: bool) -> Answer:
        return Answer(200, "success" if ok else "failure", content_type="text/plain")
