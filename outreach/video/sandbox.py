"""The sandbox video provider (``make run``, tests): no outside call; links on a made-up host.

The meeting id and both tokens are derived from the reference with HMAC (``SECRET_KEY``), so creating the
meeting of the same session twice gives the same links (a replayed event changes nothing) and the host token
cannot be worked out from the customer's link."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from .base import Meeting, MeetingRequest


class SandboxVideo:
    name = "sandbox"

    def __init__(self, base_url: str = "https://meet.sandbox.invalid", **_options) -> None:
        self.base_url = base_url.rstrip("/")

    def _token(self, purpose: str, reference: str, length: int) -> str:
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, f"video:{purpose}:{reference}".encode(), hashlib.sha256).hexdigest()[:length]

    def meeting_create(self, request: MeetingRequest) -> Meeting:
        meeting_id = self._token("id", request.reference, 12)
        return Meeting(
            provider=self.name,
            meeting_id=meeting_id,
            join_url=f"{self.base_url}/j/{meeting_id}?pwd={self._token('join', request.reference, 16)}",
            host_url=f"{self.base_url}/h/{meeting_id}?key={self._token('host', request.reference, 24)}",
        )
