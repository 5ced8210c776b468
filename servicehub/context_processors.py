"""Template context every page needs (the footer's hotline)."""

from __future__ import annotations

from django.conf import settings


def hotline_tel(number: str) -> str:
    """``tel:`` target of a displayed number: digits and a leading + only (RFC 3966 global number aside)."""
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


def site(request) -> dict:
    hotline = settings.SERVICEHUB.get("HOTLINE", "")
    return {"hotline": hotline, "hotline_tel": hotline_tel(hotline)}
