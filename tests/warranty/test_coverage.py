"""device_coverage: statutory boundaries (local dates, inclusive), exclusions, plans."""

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories.warranty import (
    DeviceFactory,
    DeviceModelFactory,
    StatutoryPolicyFactory,
    battery_care,
    care_plus,
    extended_warranty,
    purchase,
    screen_care,
    shanghai,
)
from warranty.selectors import device_coverage

pytestmark = pytest.mark.django_db


def phone(sold_at):
    return DeviceFactory(model=DeviceModelFactory(code="P1", category="phone"), sold_at=sold_at)


# --- return (7 days) / exchange (15 days): the sale day is day 0, the last day is inclusive ----------


def test_sale_at_2330_shanghai_counts_on_the_local_date_and_day_7_is_the_last_return_day():
    # Given a phone sold at 23:30 Shanghai time on 1 March (15:30 UTC the same day)
    device = phone(shanghai(2026, 3, 1, 23, 30))
    # When coverage is asked on day 7 (8 March) late in the evening, and on day 8 at midnight
    day7 = device_coverage(device=device, at=shanghai(2026, 3, 8, 23, 59))
    day8 = device_coverage(device=device, at=shanghai(2026, 3, 9, 0, 0))
    # Then return is possible until 8 March inclusive, not on 9 March
    assert day7.return_until == dt.date(2026, 3, 8)
    assert any("return" in r for r in day7.reasons)
    assert not any("return" in r for r in day8.reasons)


def test_sale_just_after_midnight_shanghai_is_still_the_same_local_day_not_the_utc_day():
    # 00:30 Shanghai on 2 March is 16:30 UTC on 1 March: the local date (2 March) counts
    device = phone(shanghai(2026, 3, 2, 0, 30))
    assert device_coverage(device=device, at=shanghai(2026, 3, 2, 1, 0)).return_until == dt.date(2026, 3, 9)


def test_exchange_day_15_inclusive_day_16_out():
    device = phone(shanghai(2026, 3, 1, 23, 30))
    c15 = device_coverage(device=device, at=shanghai(2026, 3, 16, 23, 59))
    c16 = device_coverage(device=device, at=shanghai(2026, 3, 17, 0, 1))
    assert c15.exchange_until == dt.date(2026, 3, 16)
    assert any("exchange" in r for r in c15.reasons)
    assert not any("exchange" in r for r in c16.reasons)


# --- free repair: 12 months, month arithmetic, leap years ------------------------------------------------


def test_month_12_in_month_13_out():
    device = phone(shanghai(2025, 3, 10, 10, 0))
    last = device_coverage(device=device, at=shanghai(2026, 3, 10, 23, 59), fault="screen")
    after = device_coverage(device=device, at=shanghai(2026, 3, 11, 0, 0), fault="screen")
    assert last.repair_until == dt.date(2026, 3, 10)
    assert (last.in_warranty, last.free_repair) == (True, True)
    assert (after.in_warranty, after.free_repair) == (False, False)


def test_sale_on_29_february_ends_on_28_february_next_year():
    device = phone(shanghai(2024, 2, 29, 12, 0))
    c = device_coverage(device=device, at=shanghai(2025, 2, 28, 23, 0))
    assert c.repair_until == dt.date(2025, 2, 28)
    assert c.in_warranty is True
    assert device_coverage(device=device, at=shanghai(2025, 3, 1, 0, 0)).in_warranty is False


def test_return_period_crosses_29_february_in_a_leap_year():
    device = phone(shanghai(2028, 2, 25, 9, 0))
    assert device_coverage(device=device, at=shanghai(2028, 2, 26)).return_until == dt.date(2028, 3, 3)


def test_sale_on_31_january_plus_one_month_clips_to_month_end():
    # A policy of one month (configurable) shows the clipping rule: 31 Jan + 1 month = 29 Feb 2028
    StatutoryPolicyFactory(category="wearable", repair_months=1)
    device = DeviceFactory(
        model=DeviceModelFactory(code="W1", category="wearable"), sold_at=shanghai(2028, 1, 31, 20, 0)
    )
    c = device_coverage(device=device, at=shanghai(2028, 2, 29, 23, 0))
    assert c.repair_until == dt.date(2028, 2, 29)
    assert c.in_warranty is True
    assert device_coverage(device=device, at=shanghai(2028, 3, 1, 0, 0)).in_warranty is False


def test_policy_is_configurable_per_category():
    StatutoryPolicyFactory(category="pc", return_days=7, exchange_days=15, repair_months=24)
    device = DeviceFactory(model=DeviceModelFactory(code="PC1", category="pc"), sold_at=shanghai(2025, 1, 5, 10, 0))
    assert device_coverage(device=device, at=shanghai(2026, 6, 1)).repair_until == dt.date(2027, 1, 5)


def test_battery_fault_uses_the_battery_period_six_months():
    device = phone(shanghai(2025, 1, 10, 10, 0))
    in6 = device_coverage(device=device, at=shanghai(2025, 7, 10, 20, 0), fault="battery")
    out7 = device_coverage(device=device, at=shanghai(2025, 7, 11, 9, 0), fault="battery")
    screen = device_coverage(device=device, at=shanghai(2025, 7, 11, 9, 0), fault="screen")
    assert in6.free_repair is True
    assert out7.free_repair is False
    assert out7.in_warranty is True  # the main unit is still in warranty
    assert screen.free_repair is True


def test_accessory_component_periods():
    device = phone(shanghai(2025, 1, 10, 10, 0))
    at = shanghai(2025, 5, 1)
    assert device_coverage(device=device, at=at, component="charger").free_repair is True
    assert device_coverage(device=device, at=at, component="cable").free_repair is False  # 3 months
    assert device_coverage(device=device, at=at, component="earphones").free_repair is False


def test_unknown_sale_date_means_no_statutory_warranty():
    device = phone(None)
    c = device_coverage(device=device, at=shanghai(2026, 1, 1))
    assert (c.return_until, c.repair_until, c.in_warranty, c.free_repair) == (None, None, False, False)


# --- exclusions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exclusion", ["accidental_damage", "liquid_damage", "unauthorized_disassembly", "cosmetic_wear"]
)
def test_each_exclusion_voids_free_repair_but_not_the_warranty(exclusion):
    device = phone(shanghai(2026, 1, 10, 10, 0))
    c = device_coverage(device=device, at=shanghai(2026, 2, 1), fault="screen", exclusions=[exclusion])
    assert c.in_warranty is True
    assert c.free_repair is False
    assert c.excluded_reason == exclusion


def test_liquid_damage_fault_implies_the_liquid_exclusion():
    device = phone(shanghai(2026, 1, 10, 10, 0))
    c = device_coverage(device=device, at=shanghai(2026, 2, 1), fault="liquid_damage")
    assert (c.free_repair, c.excluded_reason) == (False, "liquid_damage")


def test_no_exclusion_means_free_repair():
    device = phone(shanghai(2026, 1, 10, 10, 0))
    c = device_coverage(device=device, at=shanghai(2026, 2, 1), fault="mainboard")
    assert (c.free_repair, c.excluded_reason) == (True, None)


def test_unknown_exclusion_is_a_validation_error():
    from servicehub.errors import DomainError

    device = phone(shanghai(2026, 1, 10, 10, 0))
    with pytest.raises(DomainError) as exc:
        device_coverage(device=device, exclusions=["dropped_in_soup"])
    assert (exc.value.code, exc.value.field) == ("validation_error", "exclusions")


# --- plans -------------------------------------------------------------------------------------------------


def test_extended_warranty_12_months_starts_after_statutory_and_makes_repair_free():
    device = phone(shanghai(2025, 3, 10, 10, 0))
    ext = extended_warranty(12)
    p = purchase(device=device, product=ext, purchased_at=shanghai(2025, 3, 10, 11, 0))
    assert (p.starts_on, p.ends_on) == (dt.date(2026, 3, 11), dt.date(2027, 3, 10))
    during_statutory = device_coverage(device=device, at=shanghai(2025, 12, 1), fault="screen")
    assert during_statutory.extended_until is None  # not started yet
    c = device_coverage(device=device, at=shanghai(2027, 3, 10, 23, 0), fault="screen")
    assert (c.in_warranty, c.free_repair, c.extended_until) == (True, True, dt.date(2027, 3, 10))
    assert c.plans[0].kind == "extended_warranty"
    assert c.plans[0].claims_remaining is None
    assert c.plans[0].fee_per_claim is None
    assert device_coverage(device=device, at=shanghai(2027, 3, 11, 0, 0)).in_warranty is False


def test_extended_warranty_6_months_and_exclusions_still_apply():
    device = phone(shanghai(2025, 3, 10, 10, 0))
    p = purchase(device=device, product=extended_warranty(6), purchased_at=shanghai(2025, 4, 1))
    assert p.ends_on == dt.date(2026, 9, 10)
    c = device_coverage(device=device, at=shanghai(2026, 8, 1), fault="liquid_damage")
    assert (c.in_warranty, c.free_repair, c.excluded_reason) == (True, False, "liquid_damage")


def test_extended_warranty_does_not_cover_the_battery():
    device = phone(shanghai(2025, 3, 10, 10, 0))
    purchase(device=device, product=extended_warranty(12), purchased_at=shanghai(2025, 3, 10, 12, 0))
    c = device_coverage(device=device, at=shanghai(2026, 6, 1), fault="battery")
    assert (c.in_warranty, c.free_repair) == (True, False)


def test_screen_care_one_free_screen_in_12_months():
    device = phone(shanghai(2026, 1, 10, 10, 0))
    p = purchase(device=device, product=screen_care(), purchased_at=shanghai(2026, 1, 20, 10, 0))
    assert (p.starts_on, p.ends_on, p.claims_allowed) == (dt.date(2026, 1, 20), dt.date(2027, 1, 20), 1)
    c = device_coverage(device=device, at=shanghai(2026, 6, 1), fault="screen", exclusions=["accidental_damage"])
    assert c.free_repair is False  # the warranty does not pay for a dropped phone ...
    (plan,) = c.plans  # ... but the screen plan does
    assert (plan.code, plan.kind, plan.claims_remaining, plan.fee_per_claim) == (
        "SCREEN12",
        "screen_care",
        1,
        Decimal("0.00"),
    )
    assert plan.valid_until == dt.date(2027, 1, 20)
    assert device_coverage(device=device, at=shanghai(2027, 1, 21, 0, 0)).plans == ()


def test_care_plus_24_months_warranty_and_fees_per_fault():
    device = phone(shanghai(2026, 1, 10, 10, 0))
    purchase(device=device, product=care_plus(), purchased_at=shanghai(2026, 1, 10, 10, 30))
    screen = device_coverage(device=device, at=shanghai(2027, 6, 1), fault="screen", exclusions=["accidental_damage"])
    other = device_coverage(device=device, at=shanghai(2027, 6, 1), fault="mainboard", exclusions=["accidental_damage"])
    plain = device_coverage(device=device, at=shanghai(2027, 6, 1), fault="camera")
    assert screen.extended_until == dt.date(2028, 1, 10)
    assert screen.plans[0].fee_per_claim == Decimal("99.00")
    assert screen.plans[0].claims_remaining == 2
    assert other.plans[0].fee_per_claim == Decimal("299.00")
    assert (plain.in_warranty, plain.free_repair) == (True, True)  # month 17: Care+ is the warranty


def test_battery_care_one_battery():
    device = phone(shanghai(2026, 1, 10, 10, 0))
    purchase(device=device, product=battery_care(), purchased_at=shanghai(2026, 1, 12, 10, 0))
    c = device_coverage(device=device, at=shanghai(2027, 6, 1), fault="battery")
    assert c.free_repair is False
    assert [(p.kind, p.claims_remaining, p.fee_per_claim) for p in c.plans] == [("battery_care", 1, Decimal("0.00"))]
