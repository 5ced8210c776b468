"""Receipt links: a signed token per payment for the public verify page ``/receipts/<token>/``.

The token is ``django.core.signing`` over the payment id (salted): it cannot be guessed or altered, and
the page shows the payment with the customer's name masked -- enough to check a paper receipt is real.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.receipt"


def receipt_token(payment_id: int) -> str:
    return signing.dumps(payment_id, salt=SALT, compress=False)


def receipt_payment_id(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def receipt_path(payment_id: int) -> str:
    return reverse("payments:receipt-verify", args=[receipt_token(payment_id)])


def receipt_url(payment_id: int) -> str:
    return settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/") + receipt_path(payment_id)
