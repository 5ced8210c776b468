"""``Idempotency-Key`` for every POST under ``/api/v1/`` (a middleware, stored in the database).

A client that retries a POST with the same ``Idempotency-Key`` gets the first
response back (status, body, content type) with ``Idempotent-Replayed: true``
instead of a second booking, loan or event. Records live in the database
(``servicehub.models.IdempotencyRecord``), not in Redis, so a cache outage cannot turn a
retry into a duplicate; they are kept ``TTL`` (24 h) and purged hourly
(``partners.tasks.idempotency_records_purge``).

Keys are scoped to their holder, so one partner's keys are invisible to another:

- an API key: ``key:<prefix>`` (the key is verified here first -- a forged prefix
  gets no idempotency, and the view answers 401; the check is the one partners
  registers with ``servicehub.api.keys.key_verifier_register``);
- a staff session: ``user:<id>``;
- anonymous public POSTs: ``anon:<sha256 of method, path and body>``. An IP address
  is not enough (shared NATs, mobile carriers): two strangers choosing the same key
  would see each other's answers. Scoped by the body hash, a replay needs the same
  key AND the same body, which only the original client has. The cost: for
  anonymous callers "same key, different body" cannot be told apart from another
  client's key, so it is processed as a new request instead of answering 422.

Outcomes: same key + same request -> replay; same key + different method/path/body
-> 422 ``idempotency_key_reused``; same key while the first request is still being
processed -> 409 ``idempotency_key_in_flight`` (retry later). Responses that are
not a result (401, 403, 429, 5xx) are not stored, so the client can simply retry.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.api.errors import PROBLEM_CONTENT_TYPE, problem
from servicehub.api.keys import key_verified_prefix
from servicehub.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
# A request still "in flight" after this long was abandoned (worker killed): the next retry takes over.
STALE_AFTER = timedelta(minutes=5)
NOT_STORED = {401, 403, 408, 429}
MAX_KEY_LENGTH = 255
KEY_PATTERN = r"^[ -~]*[!-~][ -~]*$"


def _problem(status: int, code: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status, code=code, detail=detail, **extra), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def request_fingerprint(request, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        h.update(part.encode())
        h.update(b"\0")
    h.update(body)
    return h.hexdigest()


def key_holder(request, fingerprint: str) -> str | None:
    """Who owns the key; None when the request carries a bad API key (no idempotency: the view answers 401)."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:7].lower() == "bearer ":
        prefix = key_verified_prefix(auth[7:].strip())
        return None if prefix is None else f"key:{prefix}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"anon:{fingerprint}"


def _valid_key(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and value.isascii() and value.isprintable()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or not request.path.startswith("/api/v1/") or HEADER not in request.headers:
            return self.get_response(request)
        key = request.headers[HEADER].strip()
        if not _valid_key(key):
            return _problem(
                400,
                "validation_error",
                _("%(header)s must be 1-%(max)d printable ASCII characters.")
                % {"header": HEADER, "max": MAX_KEY_LENGTH},
                errors={HEADER: [_("Invalid idempotency key.")]},
            )
        body = request.body
        fingerprint = request_fingerprint(request, body)
        holder = key_holder(request, fingerprint)
        if holder is None:
            return self.get_response(request)
        record, answer = claim(holder=holder, key=key, fingerprint=fingerprint, request=request)
        if answer is not None:
            return answer
        try:
            response = self.get_response(request)
        except BaseException:
            release(record)
            raise
        store(record, response)
        return response


def claim(*, holder: str, key: str, fingerprint: str, request, _depth: int = 0):
    """Insert the in-flight record (the unique constraint decides races); return ``(record, None)`` to proceed
    or ``(None, response)`` to answer at once (replay, 409, 422)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                holder=holder,
                key=key,
                request_hash=fingerprint,
                method=request.method,
                path=request.path[:500],
                in_flight=True,
                created_at=now,
                expires_at=now + TTL,
            )
        return record, None
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(holder=holder, key=key).first()
    if existing is None or existing.expires_at <= now:
        if existing is not None:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
        if _depth < 2:
            return claim(holder=holder, key=key, fingerprint=fingerprint, request=request, _depth=_depth + 1)
        return None, _problem(409, "idempotency_key_in_flight", _("This idempotency key is being used; retry shortly."))
    if not hmac.compare_digest(existing.request_hash, fingerprint):
        return None, _problem(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used with a different request; use a new key for a new request."),
        )
    if existing.in_flight:
        if existing.created_at < now - STALE_AFTER:
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, in_flight=True, created_at=existing.created_at
            ).update(created_at=now, expires_at=now + TTL)
            if taken:
                existing.created_at = now
                return existing, None
        response = _problem(
            409,
            "idempotency_key_in_flight",
            _("A request with this Idempotency-Key is still being processed; retry shortly."),
        )
        response["Retry-After"] = "1"
        return None, response
    replay = HttpResponse(
        bytes(existing.response_body or b""),
        status=existing.response_status,
        content_type=existing.content_type or None,
    )
    replay[REPLAY_HEADER] = "true"
    return None, replay


def release(record) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, in_flight=True).delete()


def store(record, response) -> None:
    """Keep the response for replays, or drop the record when the outcome is not final."""
    if getattr(response, "streaming", False) or response.status_code >= 500 or response.status_code in NOT_STORED:
        release(record)
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        in_flight=False,
        response_status=response.status_code,
        response_body=bytes(response.content),
        content_type=response.get("Content-Type", "")[:100],
    )


# --- OpenAPI: every POST documents the header and its two errors ----------------------------


def schema_postprocessing_hook(result, generator, request, public):
    """drf-spectacular hook: add ``Idempotency-Key`` and its 409/422 answers to every POST operation."""
    param = {
        "in": "header",
        "name": HEADER,
        "required": False,
        # What _valid_key accepts: printable ASCII (space to ~), at least one non-space character
        # (surrounding spaces are stripped), at most 255 characters.
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY_LENGTH,
            "pattern": KEY_PATTERN,
            "example": "3f1c9a7e-2b4d-4c8e-9a31-5d0e7b6f2a10",
        },
        "description": (
            "1-255 printable ASCII characters (a UUID is a good choice); anything else is 400 `validation_error`. "
            "Makes a retry safe: the first response is stored 24 h and replayed (header "
            "`Idempotent-Replayed: true`). Same key with a different body: 422 `idempotency_key_reused`; "
            "while the first request is running: 409 `idempotency_key_in_flight`."
        ),
    }
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in result.get("paths", {}).items():
        post = ops.get("post")
        if not post or not path.startswith("/api/v1/"):
            continue
        params = post.setdefault("parameters", [])
        if not any(p.get("name") == HEADER for p in params):
            params.append(param)
        responses = post.setdefault("responses", {})
        if "422" not in responses:
            responses["422"] = {"description": "idempotency_key_reused", "content": problem_ref}
        else:
            responses["422"]["description"] += "; idempotency_key_reused"
        if "409" not in responses:
            responses["409"] = {"description": "idempotency_key_in_flight", "content": problem_ref}
        else:
            responses["409"]["description"] += "; idempotency_key_in_flight"
    return result
