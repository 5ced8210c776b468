"""The domain events of warranty (like ``repairs.events``): announced, not acted on.

Called inside the plan service's transaction; the seller (a partner, or the partners operating
the selling center) hears of an activation through ``partners.subscribers`` after commit.
"""

from __future__ import annotations

from servicehub.events import emit

EVENT_TYPES = {
    "plan.activated": "A protection plan was bought for a device and is in force from its start date.",
}


def plan_activated(*, purchase, product, device, partner=None, center=None) -> None:
    """Announce a plan purchase; ``partner``/``center`` are who sold it (either may be None)."""
    emit(
        "plan.activated",
        {
            "purchase_id": purchase.pk,
            "plan": product.code,
            "imei": device.imei,
            "starts_on": purchase.starts_on.isoformat(),
            "ends_on": purchase.ends_on.isoformat(),
            "partner_id": partner.pk if partner is not None else None,
            "center_id": center.pk if center is not None else None,
        },
        center_id=center.pk if center is not None else None,
    )
