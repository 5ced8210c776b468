"""The customer's pay links: signed, expiring tokens for one ticket (shown on the tracking page when money is
due) and for one web plan order (the page the web checkout leads to, and the sandbox pay screen back to it).

Whoever may see the repair page (digits, the SMS link, "my service") may pay what is due; the token proves
that, so the pay page needs no second lookup. It only allows starting a WeChat Pay/Alipay QR payment.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "payments.pay"


def pay_token(ticket_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(ticket_id))


def pay_ticket_id(token: str) -> int | None:
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=settings.SERVICEHUB["SIGNED_LINK_MAX_AGE"])
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def pay_path(ticket_id: int) -> str:
    return reverse("payments:pay", args=[pay_token(ticket_id)])


PLAN_SALT = "payments.plan-order"


def plan_order_token(purchase_id: int) -> str:
    return signing.TimestampSigner(salt=PLAN_SALT).sign(str(purchase_id))


def plan_order_purchase_id(token: str) -> int | None:
    try:
        value = signing.TimestampSigner(salt=PLAN_SALT).unsign(
            token, max_age=settings.SERVICEHUB["SIGNED_LINK_MAX_AGE"]
        )
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def plan_order_path(purchase_id: int) -> str:
    return reverse("web_plan_order", args=[plan_order_token(purchase_id)])
