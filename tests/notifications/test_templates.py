"""Every kind renders in every channel and language, without leftovers."""

import pytest
from django.utils import timezone

from notifications.choices import NotificationChannel, NotificationKind
from notifications.rendering import normalise_language, render_notification

CONTEXT = {
    "service_no": "SH2026ABC",
    "customer_name": "王小明",
    "center_name": "Center A",
    "center_address": "Road 1",
    "center_phone": "021-60000001",
    "device_model": "Phone 60",
    "link": "https://service.example/track/SH2026ABC/",
    "total": "129.00",
    "courier": "SF Express",
    "tracking_no": "SF1234567890",
    "due_at": timezone.now(),
    "loaner_model": "Loaner X",
    "start": timezone.now(),
    "date": "2026-12-04",
    "perks": ["Free screen film", "Free cleaning"],
    "status": "repairing",
    "stage_due_at": timezone.now(),
    "code": "123456",
    "minutes": 5,
    "event_title": "手机使用课堂",
    "venue_name": "曹杨新村社区中心",
    "venue_address": "兰溪路 100 号",
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("channel", NotificationChannel.values)
@pytest.mark.parametrize("kind", NotificationKind.values)
def test_every_kind_renders(kind, channel, language):
    rendered = render_notification(kind=kind, channel=channel, language=language, context=CONTEXT)
    assert rendered.body
    assert "{" not in rendered.body and "}" not in rendered.body
    assert "SH2026ABC" in rendered.body or kind in (
        "service_day_reminder",
        "verification_code",
        "event_registered",
        "event_reminder",
    )
    if kind in ("event_registered", "event_reminder"):  # no repair: the door code and the place instead
        assert "123456" in rendered.body and "曹杨新村社区中心" in rendered.body
    if channel == "email":
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.html_body.startswith("<!doctype html>")
    else:
        assert "\n" not in rendered.body  # an SMS is one line
        assert rendered.html_body == ""


def test_quote_ready_carries_the_approval_link_and_the_total():
    rendered = render_notification(kind="quote_ready", channel="sms", language="en", context=CONTEXT)
    assert rendered.body == (
        "[ServiceHub] The quote for repair SH2026ABC is ready: 129.00 CNY. We start repairing once you approve it. "
        "Review and approve: https://service.example/track/SH2026ABC/"
    )


def test_shipped_back_names_the_tracking_number():
    rendered = render_notification(kind="shipped_back", channel="sms", language="en", context=CONTEXT)
    assert "SF Express" in rendered.body and "tracking number SF1234567890" in rendered.body


def test_html_escapes_context_values():
    context = {**CONTEXT, "center_name": "<script>x</script>"}
    rendered = render_notification(kind="repair_ready", channel="email", language="en", context=context)
    assert "<script>" not in rendered.html_body
    assert "&lt;script&gt;" in rendered.html_body


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zh-hans", "zh-hans"), ("zh_CN", "zh-hans"), ("en", "en"), ("fr", "zh-hans"), (None, "zh-hans")],
)
def test_languages_fall_back_to_simplified_chinese(given, expected):
    assert normalise_language(given) == expected


def test_text_parts_are_not_html_escaped():
    context = {**CONTEXT, "center_name": "Tom & Jerry's"}
    rendered = render_notification(kind="repair_ready", channel="sms", language="en", context=context)
    assert "Tom & Jerry's" in rendered.body
