"""RFC 9457 problem details for every API error.

Every error leaving ``/api/`` has the shape
``{"type", "title", "status", "code", "detail"}`` (+ ``errors`` for validation,
+ whatever a ``DomainError`` carries in ``extra``), served as
``application/problem+json``. Clients switch on ``code``; it never changes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from servicehub.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://servicehub.example/problems/"

# DRF exception class -> (code, title)
_CODES: list[tuple[type[Exception], str, str]] = [
    (exceptions.ValidationError, "validation_error", "Invalid input"),
    (exceptions.ParseError, "validation_error", "Malformed request body"),
    (exceptions.NotAuthenticated, "not_authenticated", "Not authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated", "Not authenticated"),
    (exceptions.PermissionDenied, "permission_denied", "Permission denied"),
    (exceptions.NotFound, "not_found", "Not found"),
    (exceptions.MethodNotAllowed, "method_not_allowed", "Method not allowed"),
    (exceptions.NotAcceptable, "not_acceptable", "Not acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type", "Unsupported media type"),
    (exceptions.Throttled, "throttled", "Too many requests"),
]

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
}


def problem(*, status_code: int, code: str, detail: str, title: str | None = None, **extra) -> dict:
    body = {
        "type": TYPE_BASE + code,
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "code": code,
        "detail": str(detail),
    }
    body.update(extra)
    return body


def problem_response(body: dict, headers: dict | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten_detail(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten_detail(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_flatten_detail(v)}" for k, v in detail.items())
    return str(detail)


def _validation_errors(detail) -> dict:
    """DRF's nested error detail as ``{field: [messages]}`` (dotted paths for nesting)."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for i, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{i}" if prefix else str(i), sub)
        else:
            msgs = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in msgs)

    walk("", detail)
    return out


def problem_exception_handler(exc, context):
    """DRF ``EXCEPTION_HANDLER``: any exception DRF catches becomes problem details."""
    if isinstance(exc, DomainError):
        set_rollback()
        extra = dict(exc.extra)
        if exc.field:
            extra.setdefault("errors", {exc.field: [exc.message]})
        return problem_response(problem(status_code=exc.status, code=exc.code, detail=exc.message, **extra))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django's 500 handling (and logging) see it

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    code, title = "error", None
    for cls, c, t in _CODES:
        if isinstance(exc, cls):
            code, title = c, t
            break
    # An APIException subclass may carry its own stable code.
    custom = getattr(exc, "problem_code", None)
    if custom:
        code = custom

    extra = {}
    if isinstance(exc, exceptions.ValidationError):
        extra["errors"] = _validation_errors(exc.detail)
        detail = "One or more fields are invalid: " + ", ".join(extra["errors"]) + "."
    else:
        detail = _flatten_detail(exc.detail)
    return problem_response(
        problem(status_code=exc.status_code, code=code, title=title, detail=detail, **extra),
        headers=headers,
    )


# --- Django-level handlers (URLs DRF never sees) -------------------------------


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def api_or_page_404(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            problem(status_code=404, code="not_found", detail="No such API endpoint."),
            status=404,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_or_page_500(request):
    if _is_api(request):
        return JsonResponse(
            problem(status_code=500, code="server_error", detail="Unexpected error; it was logged."),
            status=500,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    from django.views.defaults import server_error

    return server_error(request)


def api_or_page_400(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            problem(status_code=400, code="bad_request", detail="Bad request."),
            status=400,
            content_type=PROBLEM_CONTENT_TYPE,
        )
    from django.views.defaults import bad_request

    return bad_request(request, exception)


# Status used by views that answer a DomainError-like problem without raising.
HTTP_409 = status.HTTP_409_CONFLICT
