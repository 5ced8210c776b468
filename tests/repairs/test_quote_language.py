"""Quote lines and their reasons are stored as codes + parameters and put into words when shown,
in the language of the page (not the language the quote was made in)."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from repairs.models import QuoteLine
from repairs.pricing import rule_reason
from tests.factories.repairs import run, walk_in

pytestmark = pytest.mark.django_db

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def zh(settings, tmp_path):
    """The zh-Hans catalog compiled from the .po (the .mo in the tree may be older than the branch)."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None, "gettext's msgfmt is needed for the Chinese assertions"
    out = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    subprocess.run([msgfmt, "-o", str(out / "django.mo"), str(PO)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]


def _quoted(center, people, device, lines):
    t = walk_in(center, people["desk"], device=device, phone="13812345678", name="王小明")
    return run(t, ("start_diagnosis", people["eng"]), ("send_quote", people["eng"], {"lines": lines}))


def test_a_quote_made_in_chinese_reads_in_english_and_back(zh, center, people, ops, old_device):
    with translation.override("zh-hans"):
        ticket = _quoted(
            center, people, old_device, [{"repair": "screen"}, {"repair": "mainboard", "grade": "refurbished"}]
        )
    screen, board = QuoteLine.objects.filter(quote__ticket=ticket).select_related("operation").order_by("position")
    assert (screen.code, board.code) == ("screen", "mainboard")
    # Stored: the code, the message and its parameters, and the words of the moment (Chinese here).
    assert screen.rules == [
        {
            "code": "fixed_price",
            "msg": "fixed_price",
            "params": {"price": "659.00"},
            "reason": "此型号一口价：659.00 元（含人工费）。",
        }
    ]
    with translation.override("en"):
        assert screen.description_display == "Screen replacement"
        assert [r["reason"] for r in screen.rules_display] == [
            "One-price offer for this model: 659.00 CNY including labor."
        ]
        assert [r["reason"] for r in board.rules_display] == ["Refurbished original part with a 90-day warranty."]
    with translation.override("zh-hans"):
        zh_screen = screen.description_display
        zh_reason = screen.rules_display[0]["reason"]
    assert (
        zh_screen != "Screen replacement" and zh_reason != "One-price offer for this model: 659.00 CNY including labor."
    )
    assert "659.00" in zh_reason


def test_the_tracking_page_shows_the_quote_in_the_page_language(zh, client, center, people, ops, old_device):
    ticket = _quoted(center, people, old_device, [{"repair": "screen"}])
    client.cookies["django_language"] = "en"
    en = client.get(f"/track/{ticket.service_no}/", {"phone_last4": "5678"}).content.decode()
    assert "Screen replacement" in en and "One-price offer for this model: 659.00 CNY including labor." in en
    assert '<s><span class="visually-hidden">list price </span>¥1099.00</s>' in en  # a struck price is labelled
    client.cookies["django_language"] = "zh-hans"
    zh_html = client.get(f"/track/{ticket.service_no}/", {"phone_last4": "5678"}).content.decode()
    assert "One-price offer" not in zh_html and "Screen replacement" not in zh_html
    with translation.override("zh-hans"):
        assert QuoteLine.objects.get(quote__ticket=ticket).rules_display[0]["reason"] in zh_html


def test_old_rows_without_codes_show_what_was_stored():
    line = QuoteLine(description="换屏（旧）", code="", rules=[{"code": "fixed_price", "reason": "旧的说明"}])
    with translation.override("en"):
        assert line.description_display == "换屏（旧）"
        assert line.rules_display == [{"code": "fixed_price", "reason": "旧的说明"}]


def test_plan_rules_name_the_kind_never_the_product_code():
    rule = {"code": "screen_care", "msg": "plan_claim", "params": {"kind": "screen_care"}, "reason": "x SCREEN12"}
    with translation.override("en"):
        assert rule_reason(rule) == "Covered by your Screen care plan (one claim used on approval)."
    rule = {"code": "warranty_excluded", "msg": "warranty_excluded", "params": {"exclusion": "liquid_damage"}}
    with translation.override("en"):
        assert rule_reason(rule) == "In warranty, but liquid damage is not covered by free repair."


def test_the_api_gives_reasons_in_the_request_language(
    zh, center, people, ops, old_device, django_assert_max_num_queries
):
    from rest_framework.test import APIClient

    from tests.factories.repairs import staff

    ticket = _quoted(center, people, old_device, [{"repair": "battery"}])
    api = APIClient()
    api.force_authenticate(staff(center, "front_desk"))
    with django_assert_max_num_queries(20):
        body = api.get(f"/api/v1/tickets/{ticket.service_no}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["quote"]["lines"][0]["rules"] == [
        {"code": "fixed_price", "reason": "One-price offer for this model: 129.00 CNY including labor."}
    ]
