"""Broken object-level authorization matrix: every /api/v1/ route, two partners.

``MATRIX`` has one case per (route, method) found in the URL resolver. A route
without a case fails ``test_every_route_has_a_case``, so a new endpoint cannot ship
without saying who owns what it serves. Each case checks that partner A, holding
every scope, gets 404 (never the data, never a change) for partner B's object, that
B's objects never show up in A's lists, and -- as a control that the case really
reaches an object -- that B itself gets its object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from partners.choices import PartnerKind

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


# --- the route walk ---------------------------------------------------------------


def _norm(route: str) -> str:
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return route.replace("^", "").replace("$", "")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def api_routes() -> dict[tuple[str, str], type]:
    """{(METHOD, normalized route): view class} for every route under /api/v1/."""
    out = {}
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        path = "/" + _norm(route)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        actions = getattr(callback, "actions", None)
        if actions:
            methods = [m for m in actions if m != "head"]  # DRF adds HEAD (= GET) to the dict on first use
        else:
            methods = [m for m in METHODS if hasattr(cls, m)]
        for m in methods:
            out[(m.upper(), path)] = cls
    return out


# --- the world: two partners, each owning one of everything ---------------------------


@dataclass
class Side:
    partner: object
    client: APIClient
    center: object
    ticket: object
    loan: object
    shipment: object
    webhook: object
    delivery: object
    device: object
    purchase: object


def _side(name: str, key_client, n: int) -> Side:
    from django.utils import timezone

    from loaners.services import loan_checkout
    from logistics.models import Shipment
    from partners.webhooks import webhook_event_emit
    from servicehub.actors import SYSTEM
    from tests.factories.centers import ServiceCenterFactory
    from tests.factories.loaners import LoanerFactory, ticket
    from tests.factories.partners import PartnerFactory, WebhookEndpointFactory
    from tests.factories.warranty import DeviceFactory, DeviceModelFactory, screen_care
    from warranty.services import plan_purchase_create

    partner = PartnerFactory(name=f"BOLA {name}", kind=PartnerKind.RETAILER)
    center = ServiceCenterFactory(code=f"BOLA{n}")
    partner.centers.add(center)
    client = key_client(partner=partner)  # every scope
    t = ticket(center=center, status="repairing", service_no=f"BOLA{n}TICKET")
    LoanerFactory(home_center=center)
    loan = loan_checkout(ticket_id=t.pk, tier="flagship", payment_method="cash", actor=SYSTEM)
    shipment = Shipment.objects.create(ticket=t, leg="hub_to_customer", courier_partner=partner, origin_center=center)
    webhook = WebhookEndpointFactory(partner=partner, events=["loan.overdue"])
    webhook_event_emit(event_type="loan.overdue", payload={"n": n}, partner_ids=[partner.pk])
    delivery = webhook.deliveries.get()
    model = DeviceModelFactory(code="BOLA-MODEL")
    device = DeviceFactory(model=model, retailer=partner, sold_at=timezone.now() - timezone.timedelta(days=3))
    product = screen_care()
    purchase = plan_purchase_create(
        device=device, plan_code=product.code, channel="partner", partner=partner, actor=SYSTEM
    )
    return Side(partner, client, center, t, loan, shipment, webhook, delivery, device, purchase)


@pytest.fixture
def world(key_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "key": "100000/min", "tracking": "100000/min"},
    }
    from decimal import Decimal

    from tests.factories.loaners import DepositRuleFactory

    DepositRuleFactory(tier="flagship", deposit=Decimal("1000.00"))
    return {"A": _side("A", key_client, 1), "B": _side("B", key_client, 2)}


# --- case kinds -----------------------------------------------------------------------


@dataclass
class Case:
    kind: str  # "public" | "shared" | "object" | "list" | "own_create"
    url: Callable[[Side], str] | str = ""
    body: Callable[[Side], dict] | None = None
    ident: Callable[[Side], str] | None = None  # list: what marks B's row in a response
    reason: str = ""
    control: bool = True  # run B on its own object (skip for one-shot destructive calls checked otherwise)


def _call(client, method, url, body=None):
    fn = getattr(client, method.lower())
    if method in ("POST", "PUT", "PATCH"):
        return fn(url, body or {}, format="json")
    return fn(url)


def PUBLIC(reason):
    return Case("public", reason=reason)


def SHARED(reason):
    return Case("shared", reason=reason)


def _payment(side):
    """B's succeeded cash payment (made once per side, on its ticket)."""
    from payments.models import Payment
    from tests.factories.payments import pay

    return Payment.objects.filter(ticket=side.ticket).first() or pay(side.ticket, "100.00")


def _amenity_loan(side):
    """B's umbrella lent at its center (made once per side), the amenity loans' object."""
    from loaners.models import Amenity, AmenityLoan
    from loaners.services import amenity_lend
    from servicehub.actors import SYSTEM

    amenity, _new = Amenity.objects.get_or_create(
        center=side.center, kind="umbrella", defaults={"name_zh": "雨伞", "name_en": "Umbrella", "on_hand": 5}
    )
    return AmenityLoan.objects.filter(center=side.center).first() or amenity_lend(
        amenity_id=amenity.pk, borrower_name="BOLA", borrower_phone=f"1380000{side.center.pk % 10000:04d}", actor=SYSTEM
    )


def OBJ(url, body=None, control=True):
    return Case("object", url=url, body=body, control=control)


def LIST(url, ident):
    return Case("list", url=url, ident=ident)


def OWN_CREATE(url, body, reason):
    return Case("own_create", url=url, body=body, reason=reason)


MATRIX: dict[tuple[str, str], Case] = {
    # centers: the public directory and calendar
    ("GET", "/api/v1/centers/"): PUBLIC("the public directory of official sites"),
    ("GET", "/api/v1/centers/verify/"): PUBLIC("anti-counterfeit check of a store or phone"),
    ("GET", "/api/v1/centers/{code}/"): PUBLIC("a site's public page"),
    ("GET", "/api/v1/centers/{code}/slots/"): PUBLIC("appointment slot availability"),
    ("GET", "/api/v1/service-days/"): PUBLIC("the Service Days calendar"),
    ("GET", "/api/v1/coverage/"): SHARED("network-wide coverage statistics, no per-partner data"),
    ("GET", "/api/v1/official-stores/feed/"): SHARED("the public list of official sites for map providers"),
    ("POST", "/api/v1/store-reports/"): PUBLIC("the public reports a suspected store; nothing is read back"),
    # outreach
    ("GET", "/api/v1/events/"): PUBLIC("public community events and classes with places left; no sign-ups shown"),
    ("POST", "/api/v1/events/{pk}/registrations/"): PUBLIC("a customer signs up for a public event; nothing read back"),
    ("GET", "/api/v1/visits/summary/"): OBJ(lambda s: f"/api/v1/visits/summary/?center={s.center.code}"),
    # A's key naming B's center is 404; the control is off: recording needs a visit service of the catalog,
    # which this world does not seed (tests/outreach/test_visits.py covers B's own posts).
    ("POST", "/api/v1/visits/"): OBJ(
        "/api/v1/visits/", body=lambda s: {"center": s.center.code, "service": "uv_disinfection"}, control=False
    ),
    # warranty
    ("GET", "/api/v1/devices/{imei}/coverage/"): PUBLIC("warranty status by IMEI, no owner data"),
    ("GET", "/api/v1/catalog/models/"): PUBLIC("the device catalog"),
    ("GET", "/api/v1/catalog/repairs/"): PUBLIC("published repair prices"),
    ("GET", "/api/v1/plans/"): PUBLIC("plans on sale"),
    ("POST", "/api/v1/devices/"): OBJ(
        "/api/v1/devices/",
        body=lambda s: {"imei": s.device.imei, "model": "BOLA-MODEL", "sold_at": "2026-01-01T10:00:00+08:00"},
        control=False,
    ),
    ("GET", "/api/v1/plan-purchases/"): LIST("/api/v1/plan-purchases/", ident=lambda s: f'"id":{s.purchase.pk},'),
    ("POST", "/api/v1/plan-purchases/"): OBJ(
        "/api/v1/plan-purchases/",
        body=lambda s: {"imei": s.device.imei, "plan": "SCREEN12"},
        control=False,
    ),
    ("GET", "/api/v1/plan-purchases/{pk}/"): OBJ(lambda s: f"/api/v1/plan-purchases/{s.purchase.pk}/"),
    ("POST", "/api/v1/plan-purchases/{pk}/refund/"): OBJ(
        lambda s: f"/api/v1/plan-purchases/{s.purchase.pk}/refund/",
        body=lambda s: {},
        control=False,
    ),
    # repairs
    ("GET", "/api/v1/track/{service_no}/"): PUBLIC("tracking needs the service number and the phone's last 4 digits"),
    # booking: an appointment's page data (with the sign-language video link) answers the tracking lookup rules
    ("GET", "/api/v1/appointments/{service_no}/"): PUBLIC("needs the service number and the phone's last 4 digits"),
    # the hotline's queue is network-wide and for staff people: every partner key is refused with 403
    # (tests/booking/test_callbacks.py::test_api_refuses_a_partner_key), a staff key reaches only the tickets
    # of its centers (::test_api_logs_outcome_for_staff_key)
    ("POST", "/api/v1/callbacks/{pk}/outcome/"): SHARED("staff only: partner keys get 403 whatever the request"),
    ("POST", "/api/v1/verification-codes/"): PUBLIC("sends a code to the phone given; nothing is read back"),
    ("GET", "/api/v1/tickets/"): LIST("/api/v1/tickets/", ident=lambda s: s.ticket.service_no),
    ("POST", "/api/v1/tickets/"): OBJ(
        "/api/v1/tickets/",
        body=lambda s: {
            "center": s.center.code,
            "channel": "walk_in",
            "customer": {"name": "张三", "phone": "13700001111"},
            "device": {"imei": s.device.imei, "model": "BOLA-MODEL"},
            "fault": {"category": "screen"},
        },
        control=False,
    ),
    ("GET", "/api/v1/tickets/{service_no}/"): OBJ(lambda s: f"/api/v1/tickets/{s.ticket.service_no}/"),
    ("POST", "/api/v1/tickets/{service_no}/transition/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/transition/",
        body=lambda s: {"action": "finish"},
        control=False,
    ),
    # payments: A may neither take money on B's ticket nor refund B's payment (B's ticket owes nothing: B's own
    # call answers payment_not_due; B's payment is created for the case, and refunded by B in the control)
    ("POST", "/api/v1/tickets/{service_no}/payments/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/payments/",
        body=lambda s: {"method": "cash", "amount": "1.00"},
        control=False,
    ),
    ("POST", "/api/v1/payments/{pk}/refund/"): OBJ(
        lambda s: f"/api/v1/payments/{_payment(s).pk}/refund/",
        body=lambda s: {"amount": "1.00", "reason": "BOLA"},
    ),
    # accounting: a ticket's fapiao (nothing is paid on these tickets: B's own call answers nothing_to_invoice)
    ("GET", "/api/v1/tickets/{service_no}/fapiao/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/fapiao/", control=False
    ),
    ("POST", "/api/v1/tickets/{service_no}/fapiao/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/fapiao/",
        body=lambda s: {"buyer_type": "person", "title": "王小明"},
        control=False,
    ),
    ("POST", "/api/v1/tickets/{service_no}/quote/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/quote/",
        body=lambda s: {"lines": [{"repair": "X"}]},
        control=False,
    ),
    ("POST", "/api/v1/tickets/{service_no}/quote/approve/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/quote/approve/",
        body=lambda s: {},
        control=False,
    ),
    ("POST", "/api/v1/tickets/{service_no}/quote/decline/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/quote/decline/",
        body=lambda s: {},
        control=False,
    ),
    ("GET", "/api/v1/tickets/{service_no}/custody/"): OBJ(lambda s: f"/api/v1/tickets/{s.ticket.service_no}/custody/"),
    # parts
    ("GET", "/api/v1/centers/{code}/stock/"): OBJ(lambda s: f"/api/v1/centers/{s.center.code}/stock/"),
    # loaners
    ("GET", "/api/v1/loaners/availability/"): OBJ(lambda s: f"/api/v1/loaners/availability/?center={s.center.code}"),
    ("GET", "/api/v1/loans/"): LIST("/api/v1/loans/", ident=lambda s: f'"id":{s.loan.pk},'),
    ("POST", "/api/v1/loans/"): OBJ(
        "/api/v1/loans/",
        body=lambda s: {
            "ticket": s.ticket.service_no,
            "tier": "flagship",
            "payment_method": "cash",
            "terms_accepted": True,
        },
        control=False,
    ),
    ("GET", "/api/v1/loans/{pk}/"): OBJ(lambda s: f"/api/v1/loans/{s.loan.pk}/"),
    ("POST", "/api/v1/loans/{pk}/return/"): OBJ(
        lambda s: f"/api/v1/loans/{s.loan.pk}/return/",
        body=lambda s: {"condition": "ok", "deductions": []},
        control=False,
    ),
    ("POST", "/api/v1/loans/{pk}/return-preview/"): OBJ(
        lambda s: f"/api/v1/loans/{s.loan.pk}/return-preview/",
        body=lambda s: {"condition": "ok", "deductions": []},
    ),
    # amenities lent at the desk (issue #22): B's loan is absent from A's list and 404 to return; A's key naming
    # B's center cannot lend there
    ("GET", "/api/v1/amenity-loans/"): LIST(
        lambda s: (_amenity_loan(s), "/api/v1/amenity-loans/")[1], ident=lambda s: f'"id":{_amenity_loan(s).pk},'
    ),
    ("POST", "/api/v1/amenity-loans/"): OBJ(
        "/api/v1/amenity-loans/",
        body=lambda s: (
            _amenity_loan(s),
            {"center": s.center.code, "kind": "umbrella", "borrower_name": "X", "borrower_phone": "13911112222"},
        )[1],
    ),
    ("POST", "/api/v1/amenity-loans/{pk}/return/"): OBJ(
        lambda s: f"/api/v1/amenity-loans/{_amenity_loan(s).pk}/return/", body=lambda s: {}
    ),
    ("POST", "/api/v1/amenity-loans/{pk}/lost/"): OBJ(
        lambda s: f"/api/v1/amenity-loans/{_amenity_loan(s).pk}/lost/", body=lambda s: {}
    ),
    # sign-language sessions (issue #22 item 4) are for staff people: every partner key is refused with 403; a
    # staff user of one center gets 404 for another center's session and never sees it listed
    # (tests/outreach/test_signlang_api.py::test_bola_matrix_for_staff_of_two_centers)
    ("GET", "/api/v1/sign-sessions/"): SHARED("staff only: partner keys get 403 whatever the request"),
    ("POST", "/api/v1/sign-sessions/{pk}/prepared/"): SHARED("staff only: partner keys get 403 whatever the request"),
    ("POST", "/api/v1/sign-sessions/{pk}/outcome/"): SHARED("staff only: partner keys get 403 whatever the request"),
    # booking (anonymous customers)
    ("POST", "/api/v1/appointments/"): PUBLIC("a customer books for themself; no partner-owned object is named"),
    ("POST", "/api/v1/mail-in-requests/"): PUBLIC("a customer requests a pickup; no partner-owned object is named"),
    # partners
    ("GET", "/api/v1/webhooks/"): LIST("/api/v1/webhooks/", ident=lambda s: f'"id":{s.webhook.pk},'),
    ("POST", "/api/v1/webhooks/"): OWN_CREATE(
        "/api/v1/webhooks/",
        body=lambda s: {"url": "https://93.184.215.14/h", "events": ["loan.overdue"]},
        reason="the endpoint is created for the caller's own partner; no other partner can be named",
    ),
    ("GET", "/api/v1/webhooks/{pk}/"): OBJ(lambda s: f"/api/v1/webhooks/{s.webhook.pk}/"),
    ("DELETE", "/api/v1/webhooks/{pk}/"): OBJ(lambda s: f"/api/v1/webhooks/{s.webhook.pk}/", control=False),
    ("POST", "/api/v1/webhooks/{pk}/rotate-secret/"): OBJ(
        lambda s: f"/api/v1/webhooks/{s.webhook.pk}/rotate-secret/",
        body=lambda s: {},
        control=False,
    ),
    ("GET", "/api/v1/webhooks/{pk}/deliveries/"): OBJ(lambda s: f"/api/v1/webhooks/{s.webhook.pk}/deliveries/"),
    ("POST", "/api/v1/webhook-deliveries/{pk}/redeliver/"): OBJ(
        lambda s: f"/api/v1/webhook-deliveries/{s.delivery.pk}/redeliver/",
        body=lambda s: {},
        control=False,
    ),
    # logistics
    ("GET", "/api/v1/shipments/"): LIST("/api/v1/shipments/", ident=lambda s: f'"id":{s.shipment.pk},'),
    ("POST", "/api/v1/shipments/"): OBJ(
        "/api/v1/shipments/",
        body=lambda s: {"ticket": s.ticket.service_no, "leg": "customer_to_hub"},
        control=False,
    ),
    ("GET", "/api/v1/shipments/{pk}/"): OBJ(lambda s: f"/api/v1/shipments/{s.shipment.pk}/"),
    ("POST", "/api/v1/couriers/{provider}/push/"): PUBLIC("signed by the courier provider; nothing is read back"),
    # returns (三包): partner keys hold no staff role, so B's own call is refused too (no control)
    ("POST", "/api/v1/tickets/{service_no}/inspection/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/inspection/",
        body=lambda s: {"performance_fault": True, "findings": "x"},
        control=False,
    ),
    ("POST", "/api/v1/tickets/{service_no}/return-decision/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/return-decision/",
        body=lambda s: {"kind": "repair", "reason": "x"},
        control=False,
    ),
    ("GET", "/api/v1/tickets/{service_no}/return-decision/"): OBJ(
        lambda s: f"/api/v1/tickets/{s.ticket.service_no}/return-decision/", control=False
    ),
    ("POST", "/api/v1/shipments/{pk}/events/"): OBJ(
        lambda s: f"/api/v1/shipments/{s.shipment.pk}/events/",
        body=lambda s: {"event": "picked_up", "at": "2026-01-01T10:00:00+08:00", "seal_no": "X"},
        control=False,
    ),
}


# --- the tests ------------------------------------------------------------------------


def test_every_route_has_a_case():
    routes = api_routes()
    missing = sorted(f"{m} {p}" for m, p in routes if (m, p) not in MATRIX)
    stale = sorted(f"{m} {p}" for m, p in MATRIX if (m, p) not in routes)
    assert missing == [], "routes without a BOLA case (add one to MATRIX): " + ", ".join(missing)
    assert stale == [], "cases for routes that no longer exist: " + ", ".join(stale)


def test_public_cases_are_really_public_views():
    routes = api_routes()
    lying = [
        f"{m} {p}"
        for (m, p), case in MATRIX.items()
        if case.kind == "public" and (m, p) in routes and not getattr(routes[(m, p)], "public", False)
    ]
    assert lying == []


def _snapshot(side: Side) -> dict:
    """What a refused call must not have changed."""
    from loaners.models import AmenityLoan, Loan
    from logistics.models import ShipmentEvent
    from partners.models import WebhookEndpoint
    from payments.models import Payment, Refund
    from repairs.models import RepairTicket
    from warranty.models import Device, PlanPurchase

    return {
        "ticket": RepairTicket.objects.filter(pk=side.ticket.pk).values_list("status", flat=True).get(),
        "refunds": Refund.objects.filter(payment__ticket=side.ticket).count(),
        "paid": Payment.objects.filter(ticket=side.ticket, status="succeeded").count(),
        "tickets": RepairTicket.objects.filter(center=side.center).count(),
        "loan": Loan.objects.filter(pk=side.loan.pk).values_list("status", flat=True).get(),
        "loans": Loan.objects.filter(ticket=side.ticket).count(),
        "webhook": WebhookEndpoint.objects.filter(pk=side.webhook.pk).values_list("active", "secret").get(),
        "delivery": side.webhook.deliveries.values_list("status", "next_attempt_at").get(),
        "device": Device.objects.filter(pk=side.device.pk).values_list("retailer_id", "sold_at").get(),
        "purchase": PlanPurchase.objects.filter(pk=side.purchase.pk).values_list("status", flat=True).get(),
        "purchases": PlanPurchase.objects.filter(device=side.device).count(),
        "shipments": side.ticket.shipments.count(),
        "events": ShipmentEvent.objects.filter(shipment=side.shipment).count(),
        "amenity_loans": sorted(AmenityLoan.objects.filter(center=side.center).values_list("pk", "status")),
    }


@pytest.mark.parametrize("method, path", sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)])
def test_partner_a_cannot_reach_partner_b(world, method, path, django_capture_on_commit_callbacks):
    case = MATRIX[(method, path)]
    a, b = world["A"], world["B"]
    if case.kind in ("public", "shared"):
        assert case.reason
        return
    url = case.url(b) if callable(case.url) else case.url
    body = case.body(b) if case.body else None
    before = _snapshot(b)
    with django_capture_on_commit_callbacks(execute=False):
        r = _call(a.client, method, url, body)
    if case.kind == "list":
        assert r.status_code == 200
        assert case.ident(b) not in r.content.decode()
        own = _call(b.client, method, url)
        assert case.ident(b) in own.content.decode(), "control: B must see its own row"
        return
    if case.kind == "own_create":
        assert r.status_code == 201
        from partners.models import WebhookEndpoint

        assert WebhookEndpoint.objects.get(pk=r.json()["id"]).partner == a.partner
        return
    # object: another partner's object is 404 (or refused as unknown input), and nothing changed
    assert r.status_code in (400, 404, 409, 422), (r.status_code, r.content[:300])
    if r.status_code != 404:
        # A create naming B's object is refused. device_exists: an IMEI's registration is public anyway
        # (GET /devices/{imei}/coverage/), and B's device is left untouched (snapshot below).
        assert r.json()["code"] in ("validation_error", "not_found", "not_eligible", "device_exists"), r.json()
    text = r.content.decode()
    for secret in (b.ticket.customer.phone, b.ticket.customer.name, b.webhook.secret):
        assert secret not in text
    assert _snapshot(b) == before
    if case.control:
        own = _call(b.client, method, url, body)
        assert own.status_code in (200, 201), (own.status_code, own.content[:300])
