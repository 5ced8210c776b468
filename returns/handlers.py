"""What a 三包 decision hands to the apps below it, registered in ``ReturnsConfig.ready()``.

The device the customer gave back (a return or an exchange) goes into the center's open return batch to the
maker (``parts.services.return_batch_line_add``, a whole-device line by IMEI), in the decision's transaction:
the batch line and the decision commit together. It is added as the system, not as the desk worker: putting
a returned device in the maker batch is part of the decision, whoever may decide.
"""

from __future__ import annotations

from parts.services import return_batch_line_add
from servicehub.actors import SYSTEM


def maker_return_to_batch(*, decision, actor) -> str:
    """Add the returned device to the maker batch of the ticket's center; returns the batch number."""
    ticket = decision.ticket
    line = return_batch_line_add(
        actor=SYSTEM,
        location_id=ticket.center_id,
        imei=decision.device.imei,
        ticket_id=ticket.pk,
        reason=f"三包 {decision.kind} {ticket.service_no}",
    )
    return line.batch.code
