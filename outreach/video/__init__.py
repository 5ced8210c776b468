"""Video-session providers for the sign-language service, chosen by setting (like ``logistics.couriers``).

``OUTREACH_VIDEO = {"default": "sandbox", "sandbox": {"base_url": "https://meet.sandbox.invalid"}}``.
``video_provider()`` is the configured one; ``video_provider(name)`` a named one. Unknown names raise
``LookupError``. A provider does no database work: ``outreach.signlang`` calls it and stores the meeting.
"""

from __future__ import annotations

from django.conf import settings

from .base import Meeting, MeetingRequest, VideoProvider, VideoUnavailable

__all__ = ["Meeting", "MeetingRequest", "VideoProvider", "VideoUnavailable", "video_provider"]


def _conf() -> dict:
    return dict(getattr(settings, "OUTREACH_VIDEO", None) or {})


def video_provider(name: str | None = None) -> VideoProvider:
    conf = _conf()
    name = name or conf.get("default") or "sandbox"
    options = dict(conf.get(name) or {})
    if name == "sandbox":
        from .sandbox import SandboxVideo

        return SandboxVideo(**options)
    raise LookupError(f"unknown video provider {name!r}")
