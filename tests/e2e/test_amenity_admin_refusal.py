"""The Amenity admin in a real browser (issue #22), zh-Hans, at 1280 px: a manager sets a negative deposit, sees the
refusal next to the deposit with what was typed still in the form, fixes it and saves. The database then holds the
fixed values and the count's stock history row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loaners.models import Amenity, AmenityStockMove
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1280, "height": 900}


def test_manager_sees_the_deposit_refused_fixes_it_and_saves(staff_page, zh_translations):
    center = ServiceCenterFactory(code="SC-AR", name="上海徐家汇服务中心")
    umbrellas = Amenity.objects.create(
        center=center, kind="umbrella", name_zh="雨伞", name_en="Umbrella", deposit=Decimal("20.00"), on_hand=6
    )
    manager = staff(center, "manager", username="mgr-ar")

    page = staff_page(manager)
    page.set_viewport_size(SCREEN)
    page.goto(f"/admin/loaners/amenity/{umbrellas.pk}/change/")
    page.locator("#id_name_zh").fill("长柄雨伞")
    page.locator("#id_on_hand").fill("8")
    page.locator("#id_deposit").fill("-5")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()

    # refused: the error sits with the deposit, and what was typed is still there
    error = page.locator(".field-deposit .errorlist").inner_text()
    assert error == ("押金不能为负数。" if zh_translations else "The deposit cannot be negative.")
    assert page.locator("#id_deposit").input_value() == "-5"
    assert page.locator("#id_name_zh").input_value() == "长柄雨伞"
    assert page.locator("#id_on_hand").input_value() == "8"
    assert Amenity.objects.get(pk=umbrellas.pk).deposit == Decimal("20.00")
    assert_accessible(page)

    page.locator("#id_deposit").fill("15.00")
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    assert page.locator(".messagelist .success").count() == 1
    assert page.locator(".errorlist").count() == 0

    saved = Amenity.objects.get(pk=umbrellas.pk)
    assert (saved.name_zh, saved.deposit, saved.on_hand) == ("长柄雨伞", Decimal("15.00"), 8)
    move = AmenityStockMove.objects.get()
    assert (move.reason, move.delta, move.on_hand_after, move.by) == ("count", 2, 8, manager)
