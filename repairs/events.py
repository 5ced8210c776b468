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


# --- customer verification (verified work) ---------------------------------------------------


def verification_code_issued(*, verification, code: str, minutes: int, language: str | None) -> None:
    """Queue the SMS carrying a one-time code, in the caller's transaction (``repairs.verification``).

    Sent to the phone that asked, customer or not, consent or not: the person asked for it.
    """
    from notifications.services import notification_enqueue

    notification_enqueue(
        kind="verification_code",
        to_phone=verification.phone,
        language=language,
        context={"code": code, "minutes": minutes},
        channels=("sms",),
        dedupe_key=f"verification:{verification.pk}",
    )


def tracking_locked(*, ticket, link: str, lock_id: str) -> None:
    """Tell the customer that digit lookups of their repair are locked (once per lock)."""
    from notifications.services import notification_enqueue

    notification_enqueue(
        kind="lookup_locked",
        customer=ticket.customer,
        context={"service_no": ticket.service_no, "link": link},
        channels=("sms",),
        dedupe_key=f"lookup_locked:{ticket.pk}:{lock_id}",
        ticket=ticket,
    )
