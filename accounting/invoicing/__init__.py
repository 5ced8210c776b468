"""Invoicing providers: who issues the electronic fapiao (电子发票).

One interface (``base.InvoicingProvider``), one provider in use, chosen by the setting
``ACCOUNTING_INVOICING_PROVIDER`` (a dotted path; default: the sandbox, which "issues" at once).
A real provider (a tax-control service platform, e.g. 百望云 / 航信 / 诺诺) is a class with the same
``issue`` method; see docs/accounting.md.
"""

from .base import InvoiceDraft, InvoiceIssued, InvoicingError, InvoicingProvider, invoicing_provider

__all__ = ["InvoiceDraft", "InvoiceIssued", "InvoicingError", "InvoicingProvider", "invoicing_provider"]
