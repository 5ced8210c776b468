"""The real providers' notification checks, with keys generated here: good, tampered, repeated.

WeChat Pay API v3 signs ``timestamp\\nnonce\\nbody\\n`` with the platform key (RSA-SHA256) and encrypts the
transaction with the merchant's APIv3 key (AES-256-GCM); Alipay signs the sorted form pairs (RSA2).
The notifications go through ``POST /payments/notify/<provider>/`` like the providers' own.
"""

import base64
import json
import secrets
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payments import services
from payments.choices import EntryKind, PaymentStatus
from payments.models import LedgerEntry, ProviderNotification
from payments.providers.registry import provider_get

pytestmark = pytest.mark.django_db

APIV3_KEY = "0123456789abcdef0123456789abcdef"
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"


def _pem_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, private, public


@pytest.fixture(scope="module")
def keys():
    return {"merchant": _pem_pair(), "platform": _pem_pair(), "alipay": _pem_pair(), "app": _pem_pair()}


@pytest.fixture
def real_providers(settings, keys):
    settings.PAYMENT_PROVIDERS = {"wechat_pay": "wechat_pay", "alipay": "alipay"}
    settings.PAYMENT_PROVIDER_OPTIONS = {
        "wechat_pay": {
            "MCHID": "1900000109",
            "APPID": "wxd678efh567hg6787",
            "PRIVATE_KEY": keys["merchant"][1],
            "CERT_SERIAL_NO": "444F4864EA9B34415",
            "APIV3_KEY": APIV3_KEY,
            "PUBLIC_KEY": keys["platform"][2],
            "PUBLIC_KEY_ID": PUBLIC_KEY_ID,
        },
        "alipay": {
            "APPID": "2021000000000001",
            "APP_PRIVATE_KEY": keys["app"][1],
            "ALIPAY_PUBLIC_KEY": keys["alipay"][2],
        },
    }
    provider_get.cache_clear()
    yield
    provider_get.cache_clear()


def _pending(ready, people, method, monkeypatch):
    """A pending QR payment; the provider's order call is stubbed (no network in tests)."""
    from payments.providers.base import QrOrder

    impl = provider_get(method)
    monkeypatch.setattr(impl, "qr_create", lambda **kw: QrOrder(qr_payload=f"weixin://wxpay/bizpayurl?pr={method}"))
    return services.payment_create(actor=people["desk"], ticket_id=ready.pk, method=method)


def wechat_notification(keys, *, order_no, total_cents, event_id=None, state="SUCCESS", signer=None):
    txn = {
        "out_trade_no": order_no,
        "transaction_id": "4200000" + secrets.token_hex(8),
        "trade_state": state,
        "amount": {"total": total_cents, "payer_total": total_cents, "currency": "CNY"},
        "mchid": "1900000109",
    }
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), json.dumps(txn).encode(), b"transaction")
    body = json.dumps(
        {
            "id": event_id or secrets.token_hex(16),
            "create_time": "2026-12-01T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }
    )
    timestamp, sig_nonce = str(int(time.time())), secrets.token_hex(16)
    message = f"{timestamp}\n{sig_nonce}\n{body}\n".encode()
    key = signer or keys["platform"][0]
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers = {
        "HTTP_WECHATPAY_SIGNATURE": signature,
        "HTTP_WECHATPAY_TIMESTAMP": timestamp,
        "HTTP_WECHATPAY_NONCE": sig_nonce,
        "HTTP_WECHATPAY_SERIAL": PUBLIC_KEY_ID,
        "HTTP_WECHATPAY_SIGNATURE_TYPE": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body


def alipay_notification(keys, *, order_no, total, notify_id=None, signer=None, status="TRADE_SUCCESS"):
    data = {
        "app_id": "2021000000000001",
        "notify_id": notify_id or secrets.token_hex(12),
        "notify_time": "2026-12-01 10:00:00",
        "out_trade_no": order_no,
        "trade_no": "2026120122001" + secrets.token_hex(6),
        "trade_status": status,
        "total_amount": total,
        "charset": "utf-8",
    }
    message = "&".join(f"{k}={data[k]}" for k in sorted(data)).encode()
    key = signer or keys["alipay"][0]
    data["sign"] = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    data["sign_type"] = "RSA2"
    return data


def test_wechat_pay_notification_good_bad_and_repeated(client, ready, people, keys, real_providers, monkeypatch):
    payment = _pending(ready, people, "wechat_pay", monkeypatch)
    assert payment.provider == "wechat_pay"
    cents = int(payment.amount * 100)
    url = "/payments/notify/wechat_pay/"

    # signed by someone else: refused with WeChat's FAIL answer, nothing recorded
    headers, body = wechat_notification(keys, order_no=payment.order_no, total_cents=cents, signer=keys["alipay"][0])
    answer = client.post(url, data=body, content_type="application/json", **headers)
    assert answer.status_code == 400 and answer.json()["code"] == "FAIL"
    assert not ProviderNotification.objects.exists()

    # tampered body (the amount inside changed after signing): the signature no longer holds
    headers, body = wechat_notification(keys, order_no=payment.order_no, total_cents=cents, event_id="EV-1")
    forged = body.replace('"EV-1"', '"EV-2"')
    assert client.post(url, data=forged, content_type="application/json", **headers).status_code == 400

    # the genuine one settles; WeChat repeats it: answered 200, nothing done twice
    for _time in range(2):
        answer = client.post(url, data=body, content_type="application/json", **headers)
        assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.provider_txn_id.startswith("4200000")
    assert list(ProviderNotification.objects.values_list("notification_id", "result")) == [("EV-1", "settled")]
    assert LedgerEntry.objects.filter(payment=payment, kind=EntryKind.PAID).count() == 1


def test_wechat_pay_amount_mismatch_is_recorded_not_settled(client, ready, people, keys, real_providers, monkeypatch):
    payment = _pending(ready, people, "wechat_pay", monkeypatch)
    headers, body = wechat_notification(keys, order_no=payment.order_no, total_cents=1)
    assert (
        client.post("/payments/notify/wechat_pay/", data=body, content_type="application/json", **headers).status_code
        == 200
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert ProviderNotification.objects.get().result == "amount_mismatch"


def test_alipay_notification_good_bad_and_repeated(client, ready, people, keys, real_providers, monkeypatch):
    payment = _pending(ready, people, "alipay", monkeypatch)
    url = "/payments/notify/alipay/"
    forged = alipay_notification(keys, order_no=payment.order_no, total=str(payment.amount), signer=keys["app"][0])
    answer = client.post(url, data=forged)
    assert (answer.status_code, answer.content) == (200, b"failure")
    assert not ProviderNotification.objects.exists()

    good = alipay_notification(keys, order_no=payment.order_no, total=str(payment.amount), notify_id="N-1")
    tampered = {**good, "total_amount": "0.01"}
    assert client.post(url, data=tampered).content == b"failure"

    for _time in range(2):
        assert client.post(url, data=good).content == b"success"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert list(ProviderNotification.objects.values_list("notification_id", "result")) == [("N-1", "settled")]


def test_wechat_pay_adapter_reads_the_sdk_answers(real_providers, monkeypatch):
    impl = provider_get("wechat_pay")
    client = impl.client()
    monkeypatch.setattr(client, "pay", lambda **kw: (200, json.dumps({"code_url": "weixin://wxpay/bizpayurl?pr=X"})))
    assert impl.qr_create(order_no="P1", amount=Decimal("12.30"), description="d", notify_url="").qr_payload.startswith(
        "weixin://"
    )
    seen = {}

    def refund(**kw):
        seen.update(kw)
        return 200, json.dumps({"status": "PROCESSING", "refund_id": "5030"})

    monkeypatch.setattr(client, "refund", refund)
    result = impl.refund(
        order_no="P1", provider_txn_id="", refund_no="F1", amount=Decimal("2.50"), total=Decimal("12.30")
    )
    assert (result.succeeded, result.provider_refund_id) == (False, "5030")
    assert seen["amount"] == {"refund": 250, "total": 1230, "currency": "CNY"}


def test_the_sandbox_refuses_to_create_orders_when_disabled(settings):
    from payments.providers.base import ProviderError

    settings.PAYMENT_SANDBOX_ENABLED = False
    with pytest.raises(ProviderError):
        provider_get("sandbox").qr_create(order_no="P1", amount=Decimal("1.00"), description="", notify_url="")
