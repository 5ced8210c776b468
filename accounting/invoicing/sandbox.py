"""The sandbox invoicing provider: "issues" at once, with a number and an HTML document.

For ``make run``, the demo and the tests. The number is derived from the request number (so asking
twice gives the same invoice, as the interface requires); the document is rendered from
``accounting/fapiao_document.html`` and served from our signed link (``accounting.urls``).
Set ``ACCOUNTING_SANDBOX_INVOICING_FAIL = True`` to make it refuse (to see the failed -> retry path).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from .base import InvoiceDraft, InvoiceIssued, InvoicingError


class SandboxInvoicingProvider:
    name = "sandbox"

    def issue(self, draft: InvoiceDraft) -> InvoiceIssued:
        if getattr(settings, "ACCOUNTING_SANDBOX_INVOICING_FAIL", False):
            raise InvoicingError("sandbox: configured to refuse (ACCOUNTING_SANDBOX_INVOICING_FAIL)")
        digest = int(hashlib.sha256(draft.request_no.encode()).hexdigest(), 16)
        number = f"SBX{digest % 10**17:017d}"  # 20 characters, like a fully digital fapiao number
        issued_at = timezone.now()
        document = render_to_string(
            "accounting/fapiao_document.html", {"draft": draft, "number": number, "issued_at": issued_at}
        )
        # The link is ours (the sandbox has no server); fapiao_issue fills it in from the request's token.
        return InvoiceIssued(invoice_number=number, pdf_url="", issued_at=issued_at, document=document)
