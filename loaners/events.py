"""The domain events of loaners (like ``repairs.events``): announced, not acted on.

Called inside the loan service's transaction; the partners operating the center hear of an overdue
loan through ``partners.subscribers`` (the ``loan.overdue`` webhook), after commit.
"""

from __future__ import annotations

from django.utils import timezone

from servicehub.events import emit

EVENT_TYPES = {
    "loan.overdue": "A loan passed its due time without the loaner coming back (late fees accrue).",
}


def loan_overdue(*, loan) -> None:
    """Announce an overdue loan. No customer data: ids, codes and the due time."""
    emit(
        "loan.overdue",
        {
            "loan_id": loan.pk,
            "ticket_id": loan.ticket_id,
            "service_no": loan.ticket.service_no,
            "center": loan.center.code,
            "center_id": loan.center_id,
            "tier": loan.tier,
            "due_at": timezone.localtime(loan.due_at).isoformat(),
            "status": loan.status,
        },
        center_id=loan.center_id,
    )
