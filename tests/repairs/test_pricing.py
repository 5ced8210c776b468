"""The pricing rule book, each rule alone and in combination, with exact Decimals; quote versions and claims."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from centers.models import ServiceDay
from repairs.models import Quote
from servicehub.errors import DomainError
from tests.factories.repairs import run, walk_in
from tests.factories.warranty import DeviceFactory, care_plus, extended_warranty, purchase, screen_care
from warranty.models import PlanClaim

pytestmark = pytest.mark.django_db
D = Decimal


def quoted(center, people, device, lines, exclusions=(), fault="screen"):
    t = walk_in(center, people["desk"], device=device, fault=fault)
    t = run(
        t,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": lines, "exclusions": list(exclusions)}),
    )
    return t, Quote.objects.get(ticket=t, version=1)


def summary(quote):
    return [
        (ln.operation.code, ln.part_price, ln.labor, ln.amount, [r["code"] for r in ln.rules])
        for ln in quote.lines.select_related("operation").order_by("position")
    ]


def sold(days_ago, model):
    return DeviceFactory(model=model, sold_at=timezone.now() - dt.timedelta(days=days_ago))


def test_out_of_warranty_list_price_and_fixed_price(center, people, ops, old_device):
    t, q = quoted(center, people, old_device, [{"repair": "screen"}, {"repair": "camera"}])
    assert summary(q) == [
        ("screen", D("659.00"), D("0.00"), D("659.00"), ["fixed_price"]),
        ("camera", D("499.00"), D("80.00"), D("579.00"), []),
    ]
    assert q.total == D("1238.00")
    assert q.status == "pending"
    assert t.status == "awaiting_approval"
    line = q.lines.get(operation__code="screen")
    assert (line.list_part_price, line.list_labor) == (D("1099.00"), D("100.00"))
    assert "659.00" in line.rules[0]["reason"]


def test_statutory_warranty_makes_it_free_and_skips_approval(center, people, ops, model):
    t, q = quoted(center, people, sold(30, model), [{"repair": "screen"}])
    assert summary(q) == [("screen", D("0.00"), D("0.00"), D("0.00"), ["statutory_warranty"])]
    assert q.status == "auto_approved"
    assert t.status == "repairing"
    assert q.lines.get().rules[0]["reason"] == (
        f"Within the statutory warranty: free repair until {q.lines.get().rules[0]['params']['until']}."
    )
    assert q.lines.get().rules[0]["msg"] == "statutory_warranty"


def test_exclusion_voids_warranty_and_is_explained(center, people, ops, model):
    t, q = quoted(center, people, sold(30, model), [{"repair": "screen"}], exclusions=["accidental_damage"])
    assert summary(q) == [("screen", D("659.00"), D("0.00"), D("659.00"), ["warranty_excluded", "fixed_price"])]
    assert t.status == "awaiting_approval"
    excluded = next(r for r in q.lines.get().rules if r["code"] == "warranty_excluded")
    # The exclusion is named by its (translatable) label, not by its code.
    assert (
        excluded["reason"]
        == "In warranty, but accidental damage (drop, impact, crushed) is not covered by free repair."
    )


def test_liquid_damage_fault_implies_the_exclusion(center, people, ops, model):
    t, q = quoted(center, people, sold(30, model), [{"repair": "mainboard"}], fault="liquid_damage")
    assert q.exclusions == ["liquid_damage"]
    assert summary(q)[0][3] == D("1439.00")


def test_extended_warranty_after_statutory_ends(center, people, ops, model):
    device = sold(400, model)
    purchase(device=device, product=extended_warranty(12))
    _t, q = quoted(center, people, device, [{"repair": "camera"}])
    assert summary(q) == [("camera", D("0.00"), D("0.00"), D("0.00"), ["extended_warranty"])]


def _deliver_previous_repair(center, people, device, code, days_ago):
    prev = walk_in(center, people["desk"], device=device)
    prev = run(
        prev,
        ("start_diagnosis", people["eng"]),
        ("send_quote", people["eng"], {"lines": [{"repair": code}]}),
        ("approve", people["desk"]),
        ("start_repair", people["eng"]),
        ("finish", people["eng"]),
        ("qc_pass", people["eng2"]),
        ("pay", people["desk"]),
        ("hand_over", people["desk"]),
    )
    type(prev).objects.filter(pk=prev.pk).update(delivered_at=timezone.now() - dt.timedelta(days=days_ago))


def test_repair_warranty_same_repair_within_90_days_is_free(center, people, ops, old_device):
    _deliver_previous_repair(center, people, old_device, "screen", days_ago=89)
    _t, q = quoted(center, people, old_device, [{"repair": "screen"}, {"repair": "camera"}])
    assert summary(q)[0] == ("screen", D("0.00"), D("0.00"), D("0.00"), ["repair_warranty"])
    assert summary(q)[1][3] == D("579.00")  # another part is not covered
    assert q.total == D("579.00")


def test_repair_warranty_ends_after_90_days(center, people, ops, old_device):
    _deliver_previous_repair(center, people, old_device, "screen", days_ago=91)
    _t, q = quoted(center, people, old_device, [{"repair": "screen"}])
    assert summary(q)[0][4] == ["fixed_price"]


def test_screen_care_free_screen_claim_used_on_approve_released_on_cancel(center, people, ops, model):
    device = sold(100, model)
    plan = purchase(device=device, product=screen_care())
    t, q = quoted(
        center, people, device, [{"repair": "screen"}, {"repair": "camera"}], exclusions=["accidental_damage"]
    )
    assert summary(q) == [
        ("screen", D("0.00"), D("0.00"), D("0.00"), ["warranty_excluded", "screen_care"]),
        ("camera", D("499.00"), D("80.00"), D("579.00"), ["warranty_excluded"]),
    ]
    assert q.lines.get(operation__code="screen").plan_purchase_id == plan.pk
    # the claim is NOT used while the customer has not approved
    assert PlanClaim.objects.count() == 0
    t = run(t, ("approve", people["desk"]))
    plan.refresh_from_db()
    assert plan.claims_used == 1
    assert PlanClaim.objects.get().status == "active"
    # cancelled (while waiting for parts): the claim is given back
    t = run(t, ("start_repair", people["eng"]), ("await_parts", people["eng"]), ("cancel", people["desk"]))
    plan.refresh_from_db()
    assert plan.claims_used == 0
    assert PlanClaim.objects.get().status == "released"
    assert t.status == "cancelled"


def test_care_plus_fixed_fee_one_claim_for_the_whole_quote(center, people, ops, model):
    device = sold(100, model)
    plan = purchase(device=device, product=care_plus())
    t, q = quoted(
        center, people, device, [{"repair": "screen"}, {"repair": "camera"}], exclusions=["accidental_damage"]
    )
    assert summary(q) == [
        ("screen", D("99.00"), D("0.00"), D("99.00"), ["warranty_excluded", "care_plus"]),
        ("camera", D("0.00"), D("0.00"), D("0.00"), ["warranty_excluded", "care_plus"]),
    ]
    assert q.total == D("99.00")
    run(t, ("approve", people["desk"]))
    plan.refresh_from_db()
    assert plan.claims_used == 1


def test_care_plus_is_a_warranty_without_accident_and_a_fee_with_one(center, people, ops, model):
    device = sold(400, model)  # statutory warranty over, Care+ (24 months) running
    purchase(device=device, product=care_plus())
    _t, q = quoted(center, people, device, [{"repair": "camera"}])
    assert summary(q) == [("camera", D("0.00"), D("0.00"), D("0.00"), ["extended_warranty"])]
    _t, q = quoted(center, people, device, [{"repair": "camera"}], exclusions=["accidental_damage"])
    assert summary(q) == [("camera", D("299.00"), D("0.00"), D("299.00"), ["warranty_excluded", "care_plus"])]


def test_service_day_waives_labor(center, people, ops, old_device):
    ServiceDay.objects.create(center=center, date=timezone.localdate(), perks=["labor_waived"])
    _t, q = quoted(center, people, old_device, [{"repair": "camera"}])
    assert summary(q) == [("camera", D("499.00"), D("0.00"), D("499.00"), ["service_day"])]


def test_inactive_service_day_does_not_count(center, people, ops, old_device):
    ServiceDay.objects.create(center=center, date=timezone.localdate(), perks=[], active=False)
    _t, q = quoted(center, people, old_device, [{"repair": "camera"}])
    assert q.total == D("579.00")


@pytest.mark.parametrize(("opened_days_ago", "waived"), [(0, True), (29, True), (30, False)])
def test_new_store_month_waives_labor(center, people, ops, old_device, opened_days_ago, waived):
    center.opened_on = timezone.localdate() - dt.timedelta(days=opened_days_ago)
    center.save()
    _t, q = quoted(center, people, old_device, [{"repair": "camera"}])
    assert summary(q)[0][4] == (["new_store_month"] if waived else [])
    assert q.total == (D("499.00") if waived else D("579.00"))


def test_combination_refurbished_board_fixed_battery_and_service_day(center, people, ops, old_device):
    ServiceDay.objects.create(center=center, date=timezone.localdate(), perks=["labor_waived"])
    _t, q = quoted(
        center,
        people,
        old_device,
        [{"repair": "mainboard", "grade": "refurbished"}, {"repair": "battery"}, {"repair": "camera"}],
        fault="mainboard",
    )
    assert summary(q) == [
        ("mainboard", D("719.70"), D("0.00"), D("719.70"), ["refurbished_part", "service_day"]),
        ("battery", D("129.00"), D("0.00"), D("129.00"), ["fixed_price"]),
        ("camera", D("499.00"), D("0.00"), D("499.00"), ["service_day"]),
    ]
    assert q.total == D("1347.70")


def test_refurbished_grade_not_offered_is_400(center, people, ops, old_device):
    t = run(walk_in(center, people["desk"], device=old_device), ("start_diagnosis", people["eng"]))
    with pytest.raises(DomainError) as exc:
        run(t, ("send_quote", people["eng"], {"lines": [{"repair": "camera", "grade": "refurbished"}]}))
    assert (exc.value.code, exc.value.field) == ("validation_error", "lines")
    assert Quote.objects.count() == 0


def test_quote_revision_needs_a_new_approval(center, people, ops, old_device):
    t, v1 = quoted(center, people, old_device, [{"repair": "screen"}])
    t = run(t, ("send_quote", people["eng"], {"lines": [{"repair": "screen"}, {"repair": "camera"}]}))
    v1.refresh_from_db()
    v2 = Quote.objects.get(ticket=t, version=2)
    assert (v1.status, v2.status, v2.total) == ("superseded", "pending", D("1238.00"))
    assert t.status == "awaiting_approval"
    # approving the old version (e.g. an old link) is refused
    with pytest.raises(DomainError) as exc:
        run(t, ("approve", people["desk"], {"quote_id": v1.pk}))
    assert exc.value.code == "quote_outdated"
    t.refresh_from_db()
    assert t.status == "awaiting_approval"
    t = run(t, ("approve", people["desk"], {"quote_id": v2.pk}))
    assert t.status == "repairing"


def test_revision_during_repair_goes_back_to_approval_and_releases_claims(center, people, ops, model):
    device = sold(100, model)
    plan = purchase(device=device, product=screen_care())
    t, _q = quoted(
        center, people, device, [{"repair": "screen"}, {"repair": "camera"}], exclusions=["accidental_damage"]
    )
    t = run(t, ("approve", people["desk"]), ("start_repair", people["eng"]))
    plan.refresh_from_db()
    assert plan.claims_used == 1
    t = run(
        t,
        (
            "send_quote",
            people["eng"],
            {"lines": [{"repair": "screen"}, {"repair": "mainboard"}], "exclusions": ["accidental_damage"]},
        ),
    )
    assert t.status == "awaiting_approval"
    plan.refresh_from_db()
    assert plan.claims_used == 0  # given back until the new version is approved
    run(t, ("approve", people["desk"]))
    plan.refresh_from_db()
    assert plan.claims_used == 1


def test_approval_fails_atomically_when_the_claim_is_gone(center, people, ops, model):
    device = sold(100, model)
    plan = purchase(device=device, product=screen_care())
    t, q = quoted(
        center, people, device, [{"repair": "screen"}, {"repair": "camera"}], exclusions=["accidental_damage"]
    )
    # the only claim is used by another repair meanwhile
    other, _q2 = quoted(
        center, people, device, [{"repair": "screen"}, {"repair": "camera"}], exclusions=["accidental_damage"]
    )
    run(other, ("approve", people["desk"]))
    with pytest.raises(DomainError) as exc:
        run(t, ("approve", people["desk"]))
    assert exc.value.code == "not_eligible"
    t.refresh_from_db()
    q.refresh_from_db()
    assert (t.status, q.status) == ("awaiting_approval", "pending")
    assert t.events.filter(action="approve").count() == 0
    plan.refresh_from_db()
    assert plan.claims_used == 1
