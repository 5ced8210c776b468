"""Quick visits at the desk in a real browser (issue #22, visits), zh-Hans, on a 768 px tablet:

a front-desk worker on a Service Day records three visits in a few taps (UV disinfection of another brand's phone,
a free screen film for a phone, a rest-station group of 4); the same phone's second free film is refused in
words; the last tap is undone. The database holds exactly that; HQ opens the Service-Day reach figure and sees it.
"""

from __future__ import annotations

import re

import pytest
from django.db.models import Sum
from django.utils import timezone

from centers.choices import DEFAULT_SERVICE_DAY_PERKS
from centers.models import ServiceDay
from outreach.models import PerkRedemption, Visit
from outreach.visits import visit_catalog_ensure
from tests.factories.centers import ServiceCenterFactory
from tests.factories.repairs import staff
from tests.outreach.visits_fixtures import hq_user

from .conftest import assert_accessible, docs_img_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = docs_img_dir()
TABLET = {"width": 768, "height": 1024}
PHONE = "13812345678"


def tap(page, name: str) -> None:
    """One tap on a service button (its name in Chinese, as the desk reads it); the page reloads."""
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(re.escape(name))).click()


def test_service_day_desk_records_refuses_a_second_perk_and_undoes(staff_page, zh_translations, settings):  # noqa: F811
    settings.OPS_FIGURE_CACHE_SECONDS = 0
    visit_catalog_ensure()
    center = ServiceCenterFactory(code="SC-VD", name="上海南京东路服务中心")
    ServiceDay.objects.create(center=center, date=timezone.localdate(), perks=list(DEFAULT_SERVICE_DAY_PERKS))
    worker = staff(center, "front_desk", username="desk-vd")

    page = staff_page(worker)
    page.set_viewport_size(TABLET)
    page.goto("/admin/outreach/visit/")
    with page.expect_navigation():
        page.get_by_role("link", name="前台快速登记" if zh_translations else "Quick visits at the desk").click()
    if zh_translations:
        assert "服务日" in page.locator("#desk-day").inner_text()
    assert page.locator("#desk-service-day").count() == 1

    # 1. UV disinfection of another brand's phone: tick, type the brand, tap
    page.get_by_label("其他品牌设备" if zh_translations else "Another brand's device").check()
    page.locator("#visit-brand").fill("Apple")
    tap(page, "紫外线消毒")
    # 2. a free screen film: the phone, then tap
    page.locator("#visit-phone").fill(PHONE)
    tap(page, "贴膜")
    # 3. a rest-station group of 4
    page.locator("#visit-count").fill("4")
    tap(page, "纳凉休息")
    assert page.locator("#count-cool_rest").inner_text() == "4"
    assert page.locator("#desk-total").inner_text() == "6"
    assert_accessible(page)
    page.screenshot(path=str(DOCS_IMG / "outreach-visits-desk.png"), full_page=False)

    # the same phone's second free film: refused, in words
    page.locator("#visit-phone").fill("138 1234 5678")
    tap(page, "贴膜")
    error = page.locator(".messagelist .error").inner_text()
    assert ("本次服务日已享受过免费贴膜" in error) if zh_translations else ("already had the free" in error)
    assert Visit.objects.filter(service__code="free_screen_film").count() == 1

    # undo the last tap (the group of 4)
    undo = page.locator("#undo-last")
    if zh_translations:
        assert "纳凉休息" in undo.inner_text()
    with page.expect_navigation():
        undo.click()
    assert page.locator("#count-cool_rest").inner_text() == "0"

    recorded = Visit.objects.filter(center=center, status="recorded")
    assert sorted(recorded.values_list("service__code", flat=True)) == ["free_screen_film", "uv_disinfection"]
    uv = recorded.get(service__code="uv_disinfection")
    assert (uv.any_brand, uv.brand, uv.imei, uv.staff) == (True, "Apple", "", worker)
    film = recorded.get(service__code="free_screen_film")
    assert film.perk is True and PerkRedemption.objects.get(active=True).visit == film
    group = Visit.objects.get(service__code="cool_rest")
    assert (group.count, group.status) == (4, "voided")
    assert all(v.during_service_day for v in Visit.objects.all())
    reached = recorded.filter(during_service_day=True).aggregate(n=Sum("count"))["n"]
    assert reached == 2

    # HQ opens the reach figure
    hq = staff_page(hq_user("hq-vd"))
    hq.goto("/admin/ops/hq/")
    figure = hq.locator("#fig-service_day_reach")
    figure.scroll_into_view_if_needed()
    row = figure.locator("tbody tr").filter(has_text=center.province.name)
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == [center.province.name, str(reached), "0"]
    assert figure.locator("svg").count() == 1
