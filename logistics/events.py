"""The one place where side effects of a shipment change are written (like ``repairs.events``).

Called inside the service's transaction: whatever is written here (notification
outbox rows) commits or rolls back with the change.
"""

from __future__ import annotations

from .choices import Leg


def shipment_created(*, shipment) -> None:
    """A courier pickup at the customer's door: tell the customer the pickup window."""
    if shipment.leg != Leg.CUSTOMER_TO_HUB:
        return
    from notifications.services import notifications_for_shipment

    notifications_for_shipment(shipment=shipment, what="pickup_scheduled")


def shipment_tracking_assigned(*, shipment) -> None:
    """The courier's number became known: tell the customer of a pickup or a return to them."""
    if shipment.leg not in (Leg.CUSTOMER_TO_HUB,):
        return  # the return leg's number is in the "shipped back" message (notifications.selectors)
    from notifications.services import notifications_for_shipment

    notifications_for_shipment(shipment=shipment, what="courier_assigned")
