"""The invoicing-provider interface and the registry that picks one by setting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_PROVIDER = "accounting.invoicing.sandbox.SandboxInvoicingProvider"


@dataclass(frozen=True)
class InvoiceDraft:
    """What the provider needs to issue one fapiao. ``request_no`` is our idempotency key: a provider
    asked twice with the same number must answer with the same invoice, not issue a second one."""

    request_no: str
    buyer_type: str
    title: str
    tax_number: str
    email: str
    amount: Decimal
    item: str
    seller_center: str


@dataclass(frozen=True)
class InvoiceIssued:
    invoice_number: str
    pdf_url: str
    issued_at: dt.datetime
    document: str = ""  # the document itself, when the provider gives it to us (the sandbox's HTML)


class InvoicingError(Exception):
    """The provider refused or failed; ``message`` is kept on the request and shown to staff."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class InvoicingProvider(Protocol):
    name: str

    def issue(self, draft: InvoiceDraft) -> InvoiceIssued:
        """Issue the fapiao, or raise ``InvoicingError``. Must be idempotent on ``draft.request_no``."""
        ...


@cache
def _provider_class(path: str) -> type:
    return import_string(path)


def invoicing_provider() -> InvoicingProvider:
    """The configured provider (``ACCOUNTING_INVOICING_PROVIDER``), a fresh instance per call."""
    path = getattr(settings, "ACCOUNTING_INVOICING_PROVIDER", DEFAULT_PROVIDER)
    provider: InvoicingProvider = _provider_class(path)()
    return provider
