"""Settlement providers: what the card acquirer, WeChat Pay and Alipay say they settled for a center's day.

One interface (``SettlementProvider``), chosen by ``ACCOUNTING_SETTLEMENT_PROVIDER`` (dotted path; default
the sandbox). A real one downloads the provider's statement (WeChat Pay 交易账单, Alipay 对账单, the acquirer's
settlement file) and sums it per center (sub-merchant / terminal) and day.

The sandbox answers the ledger's own totals, plus ``ACCOUNTING_SANDBOX_SETTLEMENT_DIFFERENCE``
(``{"wechat_pay": "-1.00"}``) so the demo and the tests can show a difference.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from payments.choices import Method

DEFAULT_PROVIDER = "accounting.settlement.SandboxSettlementProvider"
# The methods a provider settles (cash is counted at the drawer).
SETTLED_METHODS: tuple[str, ...] = (Method.CARD, Method.WECHAT_PAY, Method.ALIPAY)


class SettlementProvider(Protocol):
    def settled_totals(
        self, *, center_id: int, business_date: dt.date, ledger: dict[str, Decimal]
    ) -> dict[str, Decimal]:
        """``{method: total}`` for ``SETTLED_METHODS``. ``ledger`` is what our ledger expects (the sandbox
        echoes it; a real provider ignores it)."""
        ...


class SandboxSettlementProvider:
    def settled_totals(
        self, *, center_id: int, business_date: dt.date, ledger: dict[str, Decimal]
    ) -> dict[str, Decimal]:
        extra = getattr(settings, "ACCOUNTING_SANDBOX_SETTLEMENT_DIFFERENCE", {}) or {}
        return {m: ledger.get(m, Decimal("0.00")) + Decimal(str(extra.get(m, "0"))) for m in SETTLED_METHODS}


@cache
def _provider_class(path: str) -> type:
    return import_string(path)


def settlement_provider() -> SettlementProvider:
    path = getattr(settings, "ACCOUNTING_SETTLEMENT_PROVIDER", DEFAULT_PROVIDER)
    provider: SettlementProvider = _provider_class(path)()
    return provider
