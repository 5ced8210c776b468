"""Demo data for ``python manage.py seed_demo``: the repair catalog and demo tickets at every stage.

Idempotent: catalog rows are keyed by (model, repair) and updated to the prices below; demo
tickets are keyed by their ``[demo N]`` description and created only when missing. Tickets go
through the real services (check-in, transitions, quotes), so their timelines are real.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Q

from servicehub.actors import SYSTEM, actor_for_user
from servicehub.errors import DomainError
from servicehub.money import money

from . import services
from .choices import REPAIR_FAULT, RepairKind, TicketStatus
from .models import RepairOperation, RepairTicket
from .tracking import tracking_url

K = RepairKind
# Operations offered per device category.
OPERATIONS = {
    "phone": [K.SCREEN, K.BATTERY, K.MAINBOARD, K.CAMERA, K.BACK_COVER, K.CHARGING_PORT, K.SOFTWARE],
    "tablet": [K.SCREEN, K.BATTERY, K.MAINBOARD, K.CHARGING_PORT, K.SOFTWARE],
    "pc": [K.SCREEN, K.BATTERY, K.MAINBOARD, K.SOFTWARE],
    "wearable": [K.SCREEN, K.BATTERY],
    "smart_screen": [K.SCREEN, K.MAINBOARD, K.SOFTWARE],
}
# New original part price (CNY) by category and tier: (flagship, standard).
PART_PRICE = {
    K.SCREEN: {
        "phone": ("1899", "899"),
        "tablet": ("1999", "999"),
        "pc": ("2599", "1499"),
        "wearable": ("799", "399"),
        "smart_screen": ("4999", "2999"),
    },
    K.BATTERY: {"phone": ("299", "199"), "tablet": ("399", "299"), "pc": ("599", "459"), "wearable": ("199", "129")},
    K.MAINBOARD: {
        "phone": ("3299", "1599"),
        "tablet": ("2899", "1499"),
        "pc": ("3999", "2499"),
        "smart_screen": ("2199", "1299"),
    },
    K.CAMERA: {"phone": ("899", "399")},
    K.BACK_COVER: {"phone": ("499", "199")},
    K.CHARGING_PORT: {"phone": ("199", "129"), "tablet": ("229", "149")},
    K.SOFTWARE: {"phone": ("0", "0"), "tablet": ("0", "0"), "pc": ("0", "0"), "smart_screen": ("0", "0")},
}
LABOR = {
    K.SCREEN: "100",
    K.BATTERY: "50",
    K.MAINBOARD: "150",
    K.CAMERA: "80",
    K.BACK_COVER: "50",
    K.CHARGING_PORT: "80",
    K.SOFTWARE: "0",
}
FIXED_SHARE = Decimal("0.60")  # screen/mainboard one-price offers ~40% below a new part
REFURBISHED_SHARE = Decimal("0.30")  # refurbished boards from 30% of new, 90-day warranty

NAMES = [
    "王小明",
    "李娜",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵磊",
    "黄敏",
    "周杰",
    "吴芳",
    "徐强",
    "孙丽",
    "马超",
    "朱婷",
    "胡军",
    "郭燕",
]
# How far each demo ticket goes (the steps are cut at the stage wanted).
STAGES = [
    TicketStatus.BOOKED,
    TicketStatus.RECEIVED,
    TicketStatus.DIAGNOSING,
    TicketStatus.AWAITING_APPROVAL,
    TicketStatus.REPAIRING,
    TicketStatus.AWAITING_PARTS,
    TicketStatus.QUALITY_CHECK,
    TicketStatus.READY,
    TicketStatus.DELIVERED,
    TicketStatus.CLOSED,
    TicketStatus.CANCELLED,
    TicketStatus.RETURNING,
]


def _battery_fixed(model) -> Decimal:
    """Battery one-price offer: 99 standard / 129 flagship / 359 foldables and PCs."""
    if model.category == "pc" or model.code.startswith("MATEX"):
        return Decimal("359.00")
    return Decimal("129.00") if model.tier == "flagship" else Decimal("99.00")


def seed_catalog(out) -> int:
    from warranty.models import DeviceModel

    n = 0
    for model in DeviceModel.objects.order_by("code"):
        tier_index = 0 if model.tier == "flagship" else 1
        for code in OPERATIONS.get(model.category, []):
            part = money(PART_PRICE[code][model.category][tier_index])
            fixed = None
            refurbished = None
            if code == K.BATTERY:
                fixed = _battery_fixed(model)
            elif code in (K.SCREEN, K.MAINBOARD):
                fixed = money(part * FIXED_SHARE)
            if code == K.MAINBOARD:
                refurbished = money(part * REFURBISHED_SHARE)
            RepairOperation.objects.update_or_create(
                device_model=model,
                code=code,
                defaults={
                    "name": str(RepairKind(code).label),
                    "fault_category": REPAIR_FAULT[code],
                    "part_price": part,
                    "refurbished_price": refurbished,
                    "labor": money(LABOR[code]),
                    "fixed_price": fixed,
                    "published": True,
                },
            )
            n += 1
    out.write(f"  repair catalog: {n} operations for {DeviceModel.objects.count()} models")
    return n


def _pay_at_counter(ticket, actor, *, method: str) -> None:
    """What the customer owes is paid before the hand-over (payments' rule): cash, card or a sandbox QR scan."""
    from payments.providers import sandbox
    from payments.selectors import ticket_money
    from payments.services import notification_receive, payment_create

    if ticket_money(ticket).amount_due <= 0:
        return
    payment = payment_create(actor=actor, ticket_id=ticket.pk, method=method, reference="DEMO-POS")
    if payment.status == "pending":
        headers, body = sandbox.notification_build(order_no=payment.order_no, amount=payment.amount)
        notification_receive(provider="sandbox", headers=headers, body=body, form={})


def _steps(stage, actors, lines, exclusions):
    desk, eng, qc = actors["desk"], actors["eng"], actors["qc"]
    path = [
        ("check_in", desk, {"accessories": ["case"]}),
        ("start_diagnosis", eng, {}),
        ("send_quote", eng, {"lines": lines, "exclusions": exclusions}),
        ("approve", desk, {}),
        ("start_repair", eng, {}),
        ("finish", eng, {}),
        ("qc_pass", qc, {}),
        ("hand_over", desk, {}),
        ("close", desk, {}),
    ]
    upto = {
        TicketStatus.BOOKED: 0,
        TicketStatus.RECEIVED: 1,
        TicketStatus.DIAGNOSING: 2,
        TicketStatus.AWAITING_APPROVAL: 3,
        TicketStatus.REPAIRING: 5,
        TicketStatus.QUALITY_CHECK: 6,
        TicketStatus.READY: 7,
        TicketStatus.DELIVERED: 8,
        TicketStatus.CLOSED: 9,
    }
    if stage == TicketStatus.AWAITING_PARTS:
        return path[:5] + [("await_parts", eng, {})]
    if stage == TicketStatus.CANCELLED:
        return path[:2] + [("cancel", desk, {"note": "customer changed their mind"})]
    if stage == TicketStatus.RETURNING:
        return path[:3] + [("decline", desk, {})]
    return path[: upto[stage]]


def seed_tickets(out, *, count: int) -> RepairTicket | None:
    from centers.models import ServiceCenter
    from warranty.models import Device

    User = get_user_model()
    center = ServiceCenter.objects.filter(code="SC-SH-001").first()
    desk_user = User.objects.filter(username="frontdesk").first()
    eng_user = User.objects.filter(username="engineer").first()
    qc_user = User.objects.filter(username="manager").first()
    devices = list(
        Device.objects.select_related("model")
        .filter(Q(imei__startswith="86920012") | Q(serial__startswith="DEMO-"))
        .order_by("pk")
    )
    if not (center and desk_user and eng_user and qc_user and devices):
        out.write("  repairs: demo center, staff or devices missing; no demo tickets")
        return None
    actors = {"desk": actor_for_user(desk_user), "eng": actor_for_user(eng_user), "qc": actor_for_user(qc_user)}
    created = 0
    show = None
    for i in range(count):
        marker = f"[demo {i + 1}]"
        existing = RepairTicket.objects.filter(fault_description__startswith=marker + " ").first()
        stage = STAGES[i % len(STAGES)]
        if existing is None:
            device = devices[i % len(devices)]
            ops = list(
                RepairOperation.objects.filter(device_model=device.model).exclude(code=K.SOFTWARE).order_by("code")
            )
            if not ops:
                continue
            op = ops[i % len(ops)]
            customer = services.customer_get_or_create(
                name=NAMES[i % len(NAMES)], phone=f"1380013{i + 1:04d}", language="zh-hans"
            )
            ticket = services.ticket_book(
                center=center,
                customer=customer,
                device=device,
                fault_category=op.fault_category,
                fault_description=f"{marker} {op.name}",
                channel="appointment" if i % 3 == 0 else "walk_in",
                actor=SYSTEM,
            )
            try:
                # Half the demo repairs are accidental damage, so quotes (and plans) come into play.
                accident = i % 2 == 1 or stage in (TicketStatus.AWAITING_APPROVAL, TicketStatus.RETURNING)
                exclusions = ["accidental_damage"] if accident else []
                for action, actor, params in _steps(stage, actors, [{"repair": op.code}], exclusions):
                    if action in ("approve", "decline") and ticket.status != TicketStatus.AWAITING_APPROVAL:
                        continue  # a free repair skipped approval
                    if action == "hand_over":
                        _pay_at_counter(ticket, actor, method=("cash", "wechat_pay", "card")[i % 3])
                    ticket = services.ticket_transition(ticket_id=ticket.pk, action=action, actor=actor, **params)
            except DomainError as exc:  # e.g. a free repair skipped approval: keep it where it stopped
                out.write(f"  repairs: demo ticket {ticket.service_no} stopped at {ticket.status} ({exc.code})")
            created += 1
            existing = RepairTicket.objects.get(pk=ticket.pk)
        if show is None and existing.status == TicketStatus.AWAITING_APPROVAL:
            show = existing
    out.write(f"  repair tickets: {created} new demo tickets (of {count}) at {center.code}")
    return show


def seed(*, out, options) -> None:
    seed_catalog(out)
    ticket = seed_tickets(out, count=int(options.get("tickets") or 0))
    if ticket is None:
        ticket = RepairTicket.objects.filter(fault_description__startswith="[demo ").order_by("pk").first()
    if ticket is not None:
        last4 = ticket.customer.phone[-4:]
        out.write(f"  Track a demo repair: {tracking_url(ticket.service_no)}?phone_last4={last4}")
