"""warranty.services: registration, purchase windows, refunds, claims and their release."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from servicehub.actors import SYSTEM
from servicehub.errors import DomainError
from tests.factories.warranty import (
    DeviceFactory,
    DeviceModelFactory,
    PlanProductFactory,
    care_plus,
    extended_warranty,
    make_imei,
    repair_ticket,
    screen_care,
    shanghai,
)
from warranty import services
from warranty.models import Device, PlanClaim, PlanPurchase, PlanPurchaseEvent

pytestmark = pytest.mark.django_db


def refused(code, fn, **kwargs):
    with pytest.raises(DomainError) as exc:
        fn(**kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value


@pytest.fixture
def mate():
    return DeviceModelFactory(code="MATE70", category="phone", tier="flagship")


# --- device_get_or_register (contract) -------------------------------------------------------------------


def test_get_or_register_finds_an_existing_device_unchanged(mate):
    device = DeviceFactory(model=mate, imei=make_imei(1), sold_at=shanghai(2026, 1, 1, 10, 0))
    found = services.device_get_or_register(imei=make_imei(1), model_code="OTHER", sold_at=shanghai(2026, 2, 1, 10, 0))
    assert found.pk == device.pk
    found.refresh_from_db()
    assert found.sold_at == shanghai(2026, 1, 1, 10, 0)


def test_get_or_register_creates_at_check_in_with_proof_of_purchase(mate):
    device = services.device_get_or_register(
        imei="86 0123450 000019"[:0] + make_imei(2),
        model_code="MATE70",
        sold_at=shanghai(2026, 3, 1, 0, 0),
        proof_note="Invoice JD-123 shown; device never registered by the shop",
    )
    assert (device.channel, device.proof_of_purchase_note, device.retailer) == (
        "unregistered",
        "Invoice JD-123 shown; device never registered by the shop",
        None,
    )
    assert device.sold_at == shanghai(2026, 3, 1, 0, 0)


def test_get_or_register_by_serial_for_a_device_without_imei():
    DeviceModelFactory(code="MBXPRO", category="pc")
    device = services.device_get_or_register(serial=" SN-ABC-1 ", model_code="MBXPRO")
    assert (device.imei, device.serial, device.sold_at) == (None, "SN-ABC-1", None)
    assert services.device_get_or_register(serial="SN-ABC-1").pk == device.pk


def test_get_or_register_accepts_spaces_and_dashes_in_the_imei(mate):
    imei = make_imei(3)
    spaced = f"{imei[:2]} {imei[2:8]}-{imei[8:14]}-{imei[14]}"
    assert services.device_get_or_register(imei=spaced, model_code="MATE70").imei == imei


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"imei": "12345678901234"}, "imei"),
        ({"imei": "860123450000011"}, "imei"),  # Luhn fails (…1 vs the right check digit)
        ({}, "imei"),
        ({"imei": "make", "model_code": "NOPE"}, "model"),
        ({"imei": "make", "model_code": "MATE70", "sold_at": "future"}, "sold_at"),
    ],
)
def test_get_or_register_refuses_bad_input_naming_the_field(mate, kwargs, field):
    if kwargs.get("imei") == "make":
        kwargs["imei"] = make_imei(4)
    if kwargs.get("sold_at") == "future":
        kwargs["sold_at"] = timezone.now() + dt.timedelta(days=2)
    if kwargs.get("imei") == "860123450000011":
        from stdnum import imei as stdnum_imei

        assert not stdnum_imei.is_valid(kwargs["imei"])
    err = refused("validation_error", services.device_get_or_register, **kwargs)
    assert err.field == field
    assert Device.objects.count() == 0


def test_register_sale_twice_is_device_exists(mate):
    services.device_register_sale(imei=make_imei(5), model_code="MATE70", sold_at=shanghai(2026, 1, 1, 10, 0))
    err = refused(
        "device_exists",
        services.device_register_sale,
        imei=make_imei(5),
        model_code="MATE70",
        sold_at=shanghai(2026, 1, 2, 10, 0),
    )
    assert err.status == 409


def test_imei_and_serial_absent_is_refused_by_the_database_too(mate):
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(model=mate)


# --- purchase windows ----------------------------------------------------------------------------------------


def test_with_device_only_window_zero_means_the_sale_day_in_local_time(mate):
    PlanProductFactory(code="WITHDEV", purchase_window_days=0)
    device = DeviceFactory(model=mate, sold_at=shanghai(2026, 3, 1, 23, 30))
    late_same_day = services.plan_purchase_create(
        device=device, plan_code="WITHDEV", purchased_at=shanghai(2026, 3, 1, 23, 50), actor=SYSTEM
    )
    assert late_same_day.starts_on == dt.date(2026, 3, 1)
    other = DeviceFactory(model=mate, sold_at=shanghai(2026, 3, 1, 23, 30))
    err = refused(
        "not_eligible",
        services.plan_purchase_create,
        device=other,
        plan_code="WITHDEV",
        purchased_at=shanghai(2026, 3, 2, 0, 10),
        actor=SYSTEM,
    )
    assert (err.status, err.extra["reason"]) == (422, "window_passed")


def test_window_of_30_days_day_30_in_day_31_out(mate):
    screen_care()  # 30-day window
    d30 = DeviceFactory(model=mate, sold_at=shanghai(2026, 1, 1, 23, 30))
    assert services.plan_purchase_create(
        device=d30, plan_code="SCREEN12", purchased_at=shanghai(2026, 1, 31, 23, 59), actor=SYSTEM
    ).pk
    d31 = DeviceFactory(model=mate, sold_at=shanghai(2026, 1, 1, 23, 30))
    err = refused(
        "not_eligible",
        services.plan_purchase_create,
        device=d31,
        plan_code="SCREEN12",
        purchased_at=shanghai(2026, 2, 1, 0, 0),
        actor=SYSTEM,
    )
    assert err.extra["reason"] == "window_passed"
    assert "2026-01-31" in err.message


def test_model_list_restricts_eligibility(mate):
    product = PlanProductFactory(code="MATEONLY")
    other = DeviceModelFactory(code="NOVA13", category="phone", tier="standard")
    product.eligible_models.set([other])
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=1))
    assert refused(
        "not_eligible", services.plan_purchase_create, device=device, plan_code="MATEONLY", actor=SYSTEM
    ).extra["reason"] == ("model_not_eligible")


def test_device_without_sale_date_cannot_buy(mate):
    screen_care()
    device = DeviceFactory(model=mate, sold_at=None)
    assert (
        refused("not_eligible", services.plan_purchase_create, device=device, plan_code="SCREEN12", actor=SYSTEM).extra[
            "reason"
        ]
        == "no_sale_date"
    )


def test_no_price_for_the_tier_is_not_eligible():
    PlanProductFactory(code="FLAGONLY", prices={"flagship": "99.00"})
    device = DeviceFactory(model=DeviceModelFactory(code="NOVA12SE", tier="standard"), sold_at=timezone.now())
    assert (
        refused("not_eligible", services.plan_purchase_create, device=device, plan_code="FLAGONLY", actor=SYSTEM).extra[
            "reason"
        ]
        == "no_price"
    )


def test_not_on_sale(mate):
    PlanProductFactory(code="OLD", on_sale=False)
    device = DeviceFactory(model=mate, sold_at=timezone.now())
    assert (
        refused("not_eligible", services.plan_purchase_create, device=device, plan_code="OLD", actor=SYSTEM).extra[
            "reason"
        ]
        == "not_on_sale"
    )


def test_price_defaults_to_the_tier_list_price_and_ledger_row_written(mate):
    screen_care()
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(hours=1))
    p = services.plan_purchase_create(device=device, plan_code="SCREEN12", actor=SYSTEM)
    assert p.price_paid == Decimal("199.00")
    assert list(PlanPurchaseEvent.objects.values_list("action", "to_status")) == [("purchase", "active")]


def test_an_expired_purchase_does_not_block_buying_again(mate):
    product = screen_care(purchase_window_days=400)
    device = DeviceFactory(model=mate, sold_at=shanghai(2024, 1, 10, 10, 0))
    first = services.plan_purchase_create(
        device=device, plan_code=product.code, purchased_at=shanghai(2024, 1, 10, 11, 0), actor=SYSTEM
    )
    # Given the term ended (2025-01-10) but the row is still "active" (the job has not run)
    product.purchase_window_days = 10000
    product.save()
    second = services.plan_purchase_create(device=device, plan_code=product.code, actor=SYSTEM)
    first.refresh_from_db()
    assert (first.status, second.status) == ("expired", "active")


def test_one_active_purchase_per_device_and_plan_is_a_database_rule(mate):
    screen_care()
    device = DeviceFactory(model=mate, sold_at=timezone.now())
    p = services.plan_purchase_create(device=device, plan_code="SCREEN12", actor=SYSTEM)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanPurchase.objects.create(
            device=device,
            product=p.product,
            purchased_at=p.purchased_at,
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            price_paid=0,
            channel="store",
        )


def test_extended_warranty_after_statutory_end_is_refused(mate):
    extended_warranty(12, purchase_window_days=800)
    device = DeviceFactory(model=mate, sold_at=shanghai(2024, 1, 10, 10, 0))
    err = refused(
        "not_eligible",
        services.plan_purchase_create,
        device=device,
        plan_code="EXT12",
        purchased_at=shanghai(2025, 1, 11, 9, 0),
        actor=SYSTEM,
    )
    assert err.extra["reason"] == "warranty_ended"


# --- refunds -------------------------------------------------------------------------------------------------


def bought(mate, *, at=None, product=None):
    product = product or screen_care()
    device = DeviceFactory(model=mate, sold_at=at or shanghai(2026, 3, 1, 23, 30))
    return services.plan_purchase_create(
        device=device, plan_code=product.code, purchased_at=at or shanghai(2026, 3, 1, 23, 40), actor=SYSTEM
    )


def test_refund_on_the_last_cooling_off_day(mate):
    p = bought(mate)  # cooling-off 7 days from 2026-03-01 (local)
    r = services.plan_purchase_refund(purchase_id=p.pk, at=shanghai(2026, 3, 8, 23, 59), actor=SYSTEM)
    assert (r.status, r.refunded_amount) == ("refunded", Decimal("199.00"))
    assert list(r.events.values_list("action", flat=True)) == ["purchase", "refund"]


def test_refund_after_cooling_off_is_refused_and_nothing_changes(mate):
    p = bought(mate)
    err = refused(
        "not_eligible", services.plan_purchase_refund, purchase_id=p.pk, at=shanghai(2026, 3, 9, 0, 0), actor=SYSTEM
    )
    assert err.extra["reason"] == "cooling_off_passed"
    p.refresh_from_db()
    assert (p.status, p.refunded_amount, p.events.count()) == ("active", None, 1)


def test_no_refund_after_a_claim_but_refund_after_the_claim_was_given_back(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(hours=2))
    ticket = repair_ticket(device=p.device)
    services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    assert (
        refused("not_eligible", services.plan_purchase_refund, purchase_id=p.pk, actor=SYSTEM).extra["reason"]
        == "claim_used"
    )
    services.plan_claims_release(ticket=ticket, actor=SYSTEM)
    assert services.plan_purchase_refund(purchase_id=p.pk, actor=SYSTEM).status == "refunded"


def test_cancel_voids_without_refund(mate):
    p = bought(mate)
    c = services.plan_purchase_cancel(purchase_id=p.pk, note="wrong device", actor=SYSTEM)
    assert (c.status, c.refunded_amount) == ("cancelled", None)
    assert (
        refused("not_eligible", services.plan_purchase_refund, purchase_id=p.pk, actor=SYSTEM).extra["reason"]
        == "not_active"
    )


# --- claims --------------------------------------------------------------------------------------------------


def test_screen_care_claim_used_once_then_used_up(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    t1, t2 = repair_ticket(device=p.device), repair_ticket(device=p.device)
    claim = services.plan_claim_use(purchase_id=p.pk, ticket=t1, actor=SYSTEM)
    p.refresh_from_db()
    assert (claim.status, claim.fee, p.claims_used, p.status) == ("active", Decimal("0.00"), 1, "used_up")
    err = refused("not_eligible", services.plan_claim_use, purchase_id=p.pk, ticket=t2, actor=SYSTEM)
    assert err.extra["reason"] == "no_claims_left"
    assert PlanClaim.objects.count() == 1


def test_claim_use_is_idempotent_per_ticket(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1), product=care_plus())
    ticket = repair_ticket(device=p.device, fault_category="screen")
    first = services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    again = services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    p.refresh_from_db()
    assert (first.pk, first.fee, p.claims_used, p.status) == (again.pk, Decimal("99.00"), 1, "active")


def test_care_plus_two_claims_at_fixed_fees(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1), product=care_plus())
    c1 = services.plan_claim_use(
        purchase_id=p.pk, ticket=repair_ticket(device=p.device, fault_category="screen"), actor=SYSTEM
    )
    c2 = services.plan_claim_use(
        purchase_id=p.pk, ticket=repair_ticket(device=p.device, fault_category="mainboard"), actor=SYSTEM
    )
    p.refresh_from_db()
    assert (c1.fee, c2.fee, p.claims_used, p.status) == (Decimal("99.00"), Decimal("299.00"), 2, "used_up")
    assert (
        refused(
            "not_eligible",
            services.plan_claim_use,
            purchase_id=p.pk,
            ticket=repair_ticket(device=p.device),
            actor=SYSTEM,
        ).extra["reason"]
        == "no_claims_left"
    )


def test_claim_for_another_devices_ticket_is_refused(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    other = DeviceFactory(model=mate)
    assert (
        refused(
            "not_eligible", services.plan_claim_use, purchase_id=p.pk, ticket=repair_ticket(device=other), actor=SYSTEM
        ).extra["reason"]
        == "other_device"
    )
    p.refresh_from_db()
    assert p.claims_used == 0


def test_claim_after_the_term_is_refused(mate):
    p = bought(mate, at=shanghai(2024, 1, 10, 10, 0))  # ended 2025-01-10
    assert (
        refused(
            "not_eligible",
            services.plan_claim_use,
            purchase_id=p.pk,
            ticket=repair_ticket(device=p.device),
            actor=SYSTEM,
        ).extra["reason"]
        == "expired"
    )


def test_claim_on_extended_warranty_is_unlimited(mate):
    ext = extended_warranty(12, purchase_window_days=400)
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=400))
    p = services.plan_purchase_create(
        device=device, plan_code=ext.code, purchased_at=device.sold_at + dt.timedelta(days=1), actor=SYSTEM
    )
    for _ in range(3):
        services.plan_claim_use(purchase_id=p.pk, ticket=repair_ticket(device=device), actor=SYSTEM)
    p.refresh_from_db()
    assert (p.claims_used, p.status, p.claims_remaining) == (3, "active", None)


def test_release_gives_the_claim_back_and_reactivates(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    ticket = repair_ticket(device=p.device)
    services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    assert services.plan_claims_release(ticket=ticket, actor=SYSTEM) == 1
    p.refresh_from_db()
    claim = PlanClaim.objects.get()
    assert (p.claims_used, p.status, claim.status) == (0, "active", "released")
    assert claim.released_at is not None
    assert list(p.events.values_list("action", flat=True)) == ["purchase", "claim_use", "claim_release"]
    # and it can be used again (by another repair, or the same ticket re-opened)
    services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    assert PlanClaim.objects.filter(status="active").count() == 1


def test_release_without_claims_is_zero_and_writes_nothing(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    assert services.plan_claims_release(ticket=repair_ticket(device=p.device), actor=SYSTEM) == 0
    assert p.events.count() == 1


def test_claims_used_cannot_exceed_allowed_in_the_database(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanPurchase.objects.filter(pk=p.pk).update(claims_used=2)


def test_one_ticket_one_active_claim_per_purchase_in_the_database(mate):
    p = bought(mate, at=timezone.now() - dt.timedelta(days=1), product=care_plus())
    ticket = repair_ticket(device=p.device)
    services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanClaim.objects.create(purchase=p, ticket=ticket, used_at=timezone.now())


def test_expire_job_marks_ended_terms_and_is_idempotent(mate):
    old = bought(mate, at=shanghai(2024, 1, 10, 10, 0))
    current = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    assert services.plan_purchases_expire() == 1
    assert services.plan_purchases_expire() == 0
    old.refresh_from_db()
    current.refresh_from_db()
    assert (old.status, current.status) == ("expired", "active")


def test_eligibility_check_is_read_only_and_agrees_with_the_sale(mate):
    product = screen_care()
    fresh = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=1))
    old = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=60))
    assert services.plan_eligibility_check(product=product, device=fresh) == Decimal("199.00")
    assert refused("not_eligible", services.plan_eligibility_check, product=product, device=old).extra["reason"] == (
        "window_passed"
    )
    assert PlanPurchase.objects.count() == 0


def test_purchase_and_claim_query_counts_are_bounded(mate, django_assert_max_num_queries):
    screen_care()
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=1))
    # incl. the plan.activated event's outbox row and its dispatch at commit (savepoint, claim, read), and on
    # PostgreSQL one SET LOCAL lock_timeout per lock taken (the device and the plan order: servicehub.locking)
    with django_assert_max_num_queries(18):
        p = services.plan_purchase_create(device=device, plan_code="SCREEN12", actor=SYSTEM)
    ticket = repair_ticket(device=device)
    # incl. 2 savepoint pairs (the test runs inside a transaction) and on PostgreSQL the lock's SET LOCAL lock_timeout
    with django_assert_max_num_queries(12):
        services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)


def test_get_or_register_finds_a_serial_only_device_when_the_imei_is_read_later():
    DeviceModelFactory(code="MATEPAD115", category="tablet")
    by_serial = services.device_get_or_register(serial="SN-PAD-1", model_code="MATEPAD115")
    found = services.device_get_or_register(imei=make_imei(77), serial="SN-PAD-1", model_code="MATEPAD115")
    assert found.pk == by_serial.pk
    assert Device.objects.count() == 1


def test_too_long_serial_is_a_validation_error_not_a_database_error(mate):
    err = refused("validation_error", services.device_get_or_register, serial="X" * 65, model_code="MATE70")
    assert err.field == "serial"


# --- scope: the services check the actor themselves ------------------------------------------------------


def test_refund_and_cancel_by_staff_of_another_center_are_not_found_and_change_nothing(mate):
    from servicehub.actors import Actor
    from tests.factories.centers import ServiceCenterFactory

    # Given a counter sale at SH and a front desk working at BJ only
    sh, bj = ServiceCenterFactory(code="WSH01"), ServiceCenterFactory(code="WBJ01")
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=1))
    p = services.plan_purchase_create(device=device, plan_code=screen_care().code, center=sh, actor=SYSTEM)
    outsider = Actor(center_ids=frozenset({bj.pk}), roles={bj.pk: {"front_desk"}})
    # When they refund or cancel it, Then it does not exist for them
    refused("not_found", services.plan_purchase_refund, purchase_id=p.pk, actor=outsider)
    refused("not_found", services.plan_purchase_cancel, purchase_id=p.pk, actor=outsider)
    p.refresh_from_db()
    assert p.status == "active"
    assert list(p.events.values_list("action", flat=True)) == ["purchase"]
    # ... while the selling center's desk may
    insider = Actor(center_ids=frozenset({sh.pk}), roles={sh.pk: {"front_desk"}})
    assert services.plan_purchase_refund(purchase_id=p.pk, actor=insider).status == "refunded"


def test_a_sale_at_a_center_the_actor_cannot_see_is_not_found(mate):
    from servicehub.actors import Actor
    from tests.factories.centers import ServiceCenterFactory

    sh, bj = ServiceCenterFactory(code="WSH02"), ServiceCenterFactory(code="WBJ02")
    device = DeviceFactory(model=mate, sold_at=timezone.now() - dt.timedelta(days=1))
    outsider = Actor(center_ids=frozenset({bj.pk}), roles={bj.pk: {"front_desk"}})
    refused(
        "not_found",
        services.plan_purchase_create,
        device=device,
        plan_code=screen_care().code,
        center=sh,
        actor=outsider,
    )
    assert not PlanPurchase.objects.exists()


def test_claims_of_a_ticket_at_a_center_the_actor_cannot_see_are_not_found(mate):
    from servicehub.actors import Actor
    from tests.factories.centers import ServiceCenterFactory

    p = bought(mate, at=timezone.now() - dt.timedelta(days=1))
    ticket = repair_ticket(device=p.device)
    outsider = Actor(center_ids=frozenset({ServiceCenterFactory(code="WBJ03").pk}))
    refused("not_found", services.plan_claim_use, purchase_id=p.pk, ticket=ticket, actor=outsider)
    services.plan_claim_use(purchase_id=p.pk, ticket=ticket, actor=SYSTEM)
    refused("not_found", services.plan_claims_release, ticket=ticket, actor=outsider)
    assert PlanClaim.objects.get(purchase=p).status == "active"


def test_warranty_services_refuse_to_run_for_nobody(mate):
    p = bought(mate)
    with pytest.raises(TypeError, match="SYSTEM"):
        services.plan_purchase_refund(purchase_id=p.pk, actor=None)
