"""Payment providers for web checkouts (plans).

The default is a clearly labelled SANDBOX that never charges anything: it approves every
payment except the documented test card ``4000 0000 0000 0002`` (declined), so both paths
can be shown and tested. A real provider implements the same two members and is chosen with
the ``PAYMENT_PROVIDER`` setting (dotted path).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

DECLINED_TEST_CARD = "4000000000000002"


@dataclass(frozen=True)
class PaymentResult:
    ok: bool
    reference: str
    message: str = ""


class PaymentProvider(Protocol):
    code: str
    label: str
    sandbox: bool

    def charge(self, *, amount: Decimal, description: str, card: str) -> PaymentResult: ...


class SandboxPaymentProvider:
    code = "sandbox"
    label = _("SANDBOX payment - no money is charged")
    sandbox = True

    def charge(self, *, amount: Decimal, description: str, card: str) -> PaymentResult:
        digits = "".join(ch for ch in card if ch.isdigit())
        if digits == DECLINED_TEST_CARD:
            return PaymentResult(ok=False, reference="", message=str(_("The sandbox declined this test card.")))
        return PaymentResult(ok=True, reference="SANDBOX-" + secrets.token_hex(6).upper())


def payment_provider() -> PaymentProvider:
    path = getattr(settings, "PAYMENT_PROVIDER", "booking.payments.SandboxPaymentProvider")
    return import_string(path)()
