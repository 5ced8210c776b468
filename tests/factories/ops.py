"""Known small data sets for the operations figures.

Tickets and timeline rows are written directly (not through ``ticket_transition``):
these tests check that reads count exactly what is in the tables.
"""

import datetime as dt
import itertools

from django.utils import timezone

from repairs.models import RepairTicket, TicketEvent
from tests.factories.centers import ServiceCenterFactory  # noqa: F401 (re-exported)
from tests.factories.repairs import CustomerFactory
from tests.factories.warranty import DeviceFactory

_seq = itertools.count(1)


def at(*args) -> dt.datetime:
    """Aware Asia/Shanghai datetime: ``at(2026, 3, 1, 9, 30)``."""
    return timezone.make_aware(dt.datetime(*args), timezone.get_default_timezone())


def ticket(
    center,
    *,
    status="received",
    name="王小明",
    phone=None,
    device=None,
    channel="walk_in",
    fault="screen",
    service_no=None,
    **fields,
):
    """One ticket at ``center``; timestamps (received_at, delivered_at, stage_*) as keyword arguments."""
    n = next(_seq)
    created_at = fields.pop("created_at", None)
    customer = CustomerFactory(name=name, phone=phone or f"+86139{n:08d}")
    t = RepairTicket.objects.create(
        service_no=service_no or f"SH{n:010d}",
        center=center,
        channel=channel,
        customer=customer,
        device=device or DeviceFactory(),
        fault_category=fault,
        status=status,
        **fields,
    )
    if created_at is not None:  # auto_now_add: set afterwards
        RepairTicket.objects.filter(pk=t.pk).update(created_at=created_at)
        t.created_at = created_at
    return t


def event(t, from_status, to_status, when, action="", entered=None, business=None):
    """One timeline row; ``entered``: when the ticket entered ``from_status`` (sets ``time_in_stage``);
    ``business``: its ``business_minutes_in_stage`` (None = a row written before that column existed)."""
    return TicketEvent.objects.create(
        ticket=t,
        action=action or f"{from_status}->{to_status}",
        from_status=from_status,
        to_status=to_status,
        at=when,
        time_in_stage=(when - entered) if entered is not None else None,
        business_minutes_in_stage=business,
    )
