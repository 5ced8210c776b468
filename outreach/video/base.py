"""What a video provider does for ServiceHub: create a meeting for a time and give its two links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

from servicehub.errors import DomainError


@dataclass(frozen=True)
class MeetingRequest:
    """One meeting to create: our reference (unique per session), when it starts and how long it lasts."""

    reference: str
    starts_at: dt.datetime
    minutes: int
    topic: str


@dataclass(frozen=True)
class Meeting:
    provider: str
    meeting_id: str
    join_url: str  # the customer's
    host_url: str  # the signer's (staff only)


class VideoUnavailable(DomainError):
    """The provider did not answer: the booking event is dispatched again by the outbox sweep."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__("video_unavailable", message or _("The video service did not answer."), status=503)


class VideoProvider(Protocol):
    name: str

    def meeting_create(self, request: MeetingRequest) -> Meeting: ...
