"""Reads for loaners. The repairs app asks these before closing or handing back a ticket."""


def ticket_has_open_loan(*, ticket_id: int) -> bool:
    """True when a loaner lent for this ticket has not been returned yet.

    Contract used by ``repairs.services.ticket_transition`` (close is refused
    while this is true). Implemented by the loaners work once ``Loan`` exists.
    """
    from django.apps import apps

    try:
        Loan = apps.get_model("loaners", "Loan")
    except LookupError:
        return False
    return Loan.objects.filter(ticket_id=ticket_id, returned_at__isnull=True).exists()
