"""The one place where side effects of a ticket change are written.

Every repairs service that changes a ticket calls ``ticket_changed`` inside its
transaction, after writing the ``TicketEvent``. Whatever is written here (outbox
rows: notifications, webhook deliveries) commits or rolls back with the change.

Owners: the jobs work adds the notification call, the platform work adds the
webhook call; each edits only its own clearly marked block below.
"""

from __future__ import annotations


def ticket_changed(*, ticket, event) -> None:
    """React to ``event`` (a saved ``TicketEvent``) of ``ticket``, in the caller's transaction."""
    # --- notifications (jobs work) ---------------------------------------
    from notifications.services import notifications_for_ticket_event

    notifications_for_ticket_event(ticket=ticket, event=event)
    # --- end notifications -----------------------------------------------
    # --- webhooks (platform work) ----------------------------------------
    from partners.webhooks import ticket_webhooks_emit  # ticket.status_changed, quote.ready

    ticket_webhooks_emit(ticket=ticket, event=event)
    # --- end webhooks ----------------------------------------------------
    return None
