"""Warranty admin: device look-up with inlines, HQ-only configuration, counter sale, refund action."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from servicehub.actors import SYSTEM
from tests.factories.centers import ServiceCenterFactory, StaffMembershipFactory
from tests.factories.users import StaffUserFactory
from tests.factories.warranty import DeviceFactory, DeviceModelFactory, purchase, repair_ticket, screen_care
from warranty import services
from warranty.models import PlanPurchase

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    user.save()  # the user factory sets the password without saving it; the session hash needs it stored
    client.force_login(user, backend=BACKEND)


@pytest.fixture
def center():
    return ServiceCenterFactory(code="SH001")


@pytest.fixture
def front_desk(client, center):
    user = StaffMembershipFactory(center=center, role="front_desk").user
    login(client, user)
    client.user = user
    return client


@pytest.fixture
def hq():
    from django.test import Client

    client = Client()
    login(client, StaffUserFactory(is_superuser=True))
    return client


@pytest.fixture
def device():
    return DeviceFactory(
        model=DeviceModelFactory(code="MATE70PRO", name="Mate 70 Pro"), sold_at=timezone.now() - dt.timedelta(days=2)
    )


def test_front_desk_finds_a_device_by_imei(front_desk, device, django_assert_max_num_queries):
    DeviceFactory()  # another device that must not match
    with django_assert_max_num_queries(12):
        r = front_desk.get(reverse("admin:warranty_device_changelist"), {"q": device.imei})
    assert r.status_code == 200
    assert list(r.context["cl"].result_list) == [device]


def test_device_page_shows_own_center_repairs_plans_claims_and_coverage(front_desk, center, device):
    p = purchase(device=device, product=screen_care())
    mine = repair_ticket(device=device, center=center)
    theirs = repair_ticket(device=device, center=ServiceCenterFactory(code="BJ001"))
    services.plan_claim_use(purchase_id=p.pk, ticket=mine, actor=SYSTEM)
    r = front_desk.get(reverse("admin:warranty_device_change", args=[device.pk]))
    assert r.status_code == 200
    inlines = {f.opts.__class__.__name__: f for f in r.context["inline_admin_formsets"]}
    assert list(inlines["RepairTicketInline"].formset.queryset) == [mine]  # not the other center's repair
    assert list(inlines["DevicePlanPurchaseInline"].formset.queryset) == [p]
    html = r.content.decode()
    assert mine.service_no in html  # inline repair + claims table
    assert theirs.service_no not in html  # another center's repair is not shown
    assert "SCREEN12" in html or "screen_care" in html
    assert reverse("admin:warranty_planpurchase_sell") in html


def test_only_hq_edits_the_catalog_and_policies(front_desk, hq):
    model = DeviceModelFactory(code="NOVA13")
    assert front_desk.get(reverse("admin:warranty_devicemodel_add")).status_code == 403
    r = front_desk.post(reverse("admin:warranty_devicemodel_change", args=[model.pk]), {"code": "X"})
    assert r.status_code == 403
    model.refresh_from_db()
    assert model.code == "NOVA13"
    assert hq.get(reverse("admin:warranty_statutorypolicy_add")).status_code == 200


def test_counter_sale_creates_a_store_purchase(front_desk, center, device):
    screen_care()
    r = front_desk.post(
        reverse("admin:warranty_planpurchase_sell"),
        {"imei": device.imei, "plan": screen_care().pk, "center": center.pk, "price": "", "payment_method": "cash"},
    )
    assert r.status_code == 302
    p = PlanPurchase.objects.get()
    assert (p.channel, p.center, p.sold_by, str(p.price_paid)) == ("store", center, front_desk.user, "199.00")
    # paid at the counter through payments, in the sale's transaction
    from payments.models import Payment

    paid = Payment.objects.get(plan_purchase=p)
    assert (paid.method, paid.status, str(paid.amount)) == ("cash", "succeeded", "199.00")
    assert r["Location"] == reverse("admin:warranty_planpurchase_change", args=[p.pk])


def test_counter_sale_shows_the_services_refusal_as_a_form_error(front_desk, center):
    product = screen_care()
    old = DeviceFactory(model=DeviceModelFactory(code="MATE60"), sold_at=timezone.now() - dt.timedelta(days=90))
    r = front_desk.post(
        reverse("admin:warranty_planpurchase_sell"),
        {"imei": old.imei, "plan": product.pk, "center": center.pk, "payment_method": "cash"},
    )
    assert r.status_code == 200
    assert r.context["form"].non_field_errors()
    assert PlanPurchase.objects.count() == 0


def test_counter_sale_unknown_device_is_a_form_error(front_desk, center):
    product = screen_care()
    r = front_desk.post(
        reverse("admin:warranty_planpurchase_sell"),
        {"serial": "NOPE", "plan": product.pk, "center": center.pk, "payment_method": "cash"},
    )
    assert r.status_code == 200
    assert r.context["form"].non_field_errors()


def test_counter_sale_needs_a_counter_role(client, device):
    engineer = StaffMembershipFactory(role="engineer").user
    login(client, engineer)
    assert client.get(reverse("admin:warranty_planpurchase_sell")).status_code == 403


def test_refund_action_refunds_and_reports_refusals(hq, device):
    ok = purchase(device=device, product=screen_care())
    other = DeviceFactory(model=device.model, sold_at=timezone.now() - dt.timedelta(days=1))
    used = purchase(device=other, product=screen_care())
    services.plan_claim_use(purchase_id=used.pk, ticket=repair_ticket(device=other), actor=SYSTEM)
    r = hq.post(
        reverse("admin:warranty_planpurchase_changelist"),
        {"action": "refund_selected", "_selected_action": [ok.pk, used.pk]},
        follow=True,
    )
    assert r.status_code == 200
    ok.refresh_from_db()
    used.refresh_from_db()
    assert (ok.status, used.status) == ("refunded", "used_up")
    levels = sorted(m.level_tag for m in r.context["messages"])
    assert levels == ["error", "success"]


def test_front_desk_sees_only_its_centers_counter_sales(front_desk, center, device):
    screen_care()
    mine = services.plan_purchase_create(device=device, plan_code="SCREEN12", center=center, actor=SYSTEM)
    other_device = DeviceFactory(model=device.model, sold_at=timezone.now() - dt.timedelta(days=1))
    services.plan_purchase_create(
        device=other_device, plan_code="SCREEN12", center=ServiceCenterFactory(code="GZ001"), actor=SYSTEM
    )
    r = front_desk.get(reverse("admin:warranty_planpurchase_changelist"))
    assert list(r.context["cl"].result_list) == [mine]


def test_counter_sale_page_is_prefilled_from_the_device(front_desk, center, device):
    screen_care()
    r = front_desk.get(reverse("admin:warranty_planpurchase_sell"), {"device": device.pk})
    assert r.status_code == 200
    form = r.context["form"]
    assert (form.initial["imei"], form.initial["center"]) == (device.imei, center)
    assert [p.code for p in r.context["plans"]] == ["SCREEN12"]
