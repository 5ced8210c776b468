"""The one error type services raise.

Views never build error responses by hand: a service raises ``DomainError`` and
the API's exception handler (``servicehub.api.errors``) turns it into RFC 9457
problem details; pages and the admin show ``message``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the request.

    ``code`` is stable and machine-readable (clients switch on it), ``message``
    is for people (translatable), ``status`` is the HTTP status the API answers
    with, ``extra`` is merged into the problem document (e.g. ``allowed_actions``).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.status = status
        self.field = field
        self.extra = extra

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"DomainError({self.code!r}, {self.message!r}, status={self.status})"


class NotFound(DomainError):
    def __init__(self, message: str = "Not found.", **extra: Any) -> None:
        super().__init__("not_found", message, status=404, **extra)


class Conflict(DomainError):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(code, message, status=409, **extra)
