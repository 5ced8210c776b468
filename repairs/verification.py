"""Customers are who they say they are: SMS one-time codes, "my service" sessions, tracking lockout.

- ``verification_code_send`` / ``verification_code_check``: a 6-digit code sent by SMS (through
  the notifications outbox), valid 5 minutes, at most 5 tries, stored as an HMAC, compared in
  constant time, used once; sending is rate-limited per phone and per client address.
- ``me_session_*``: the customer's own short session (30 min) after a code -- a signed cookie
  holding the customer id and a random key that lives in the cache (so logging out ends it).
  Not a Django user, not the staff session.
- ``track_lookup``: the service number + last 4 digits lookup with a lock per service number:
  after 10 wrong digits within an hour, from any number of addresses, that number's digit
  lookups answer ``lookup_locked`` (429) for an hour and the customer gets one SMS with a
  signed link (``track_access_url``) that still opens the repair.

Counters live in the cache (Redis in production). Cache keys carry a keyed digest of the phone
or service number, never the value itself. The threat model is in docs/security.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from servicehub.errors import DomainError
from servicehub.locking import lock

from . import events
from .models import Customer, PhoneVerification, RepairTicket

DEFAULTS = {
    "CODE_TTL_SECONDS": 300,
    "CODE_MAX_ATTEMPTS": 5,
    "CODES_PER_PHONE_PER_HOUR": 5,
    "CODES_PER_ADDRESS_PER_HOUR": 20,
    "ME_SESSION_SECONDS": 30 * 60,
    "LOOKUP_FAILURES_BEFORE_LOCK": 10,
    "LOOKUP_LOCK_SECONDS": 3600,
}
ME_COOKIE = "sh_me"
_ME_SALT = "repairs.me-session"
_ACCESS_SALT = "repairs.track-access"


def conf(name: str) -> int:
    return int(getattr(settings, "VERIFICATION", {}).get(name, DEFAULTS[name]))


def _digest(kind: str, value: str) -> str:
    """A keyed digest for cache keys: counters never spell out a phone or service number."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def _window_count(key: str, *, window: int) -> int:
    """Add one hit to a fixed window starting at the first hit; the hits so far (this one included)."""
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, window)
        return 1


def throttled_error() -> DomainError:
    return DomainError("throttled", _("Too many codes requested. Please wait and try again later."), status=429)


# --- one-time codes ------------------------------------------------------------------------


def _code_hash(*, phone: str, code: str, salt: str) -> str:
    # Keyed with the server secret: 10^6 codes are trivial to try against a bare hash.
    return hmac.new(settings.SECRET_KEY.encode(), f"{salt}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def verification_code_send(*, phone: str, address: str, language: str | None = None, now=None) -> PhoneVerification:
    """Send a new 6-digit code by SMS to ``phone`` (any valid number, customer or not).

    Changes: earlier unused codes of that phone stop working; a ``PhoneVerification`` row
    (HMAC of the code, expiry in ``CODE_TTL_SECONDS``) and an SMS in the outbox, one
    transaction. Refuses: ``validation_error`` (field ``phone``); ``throttled`` (429) past
    ``CODES_PER_ADDRESS_PER_HOUR`` for ``address`` or ``CODES_PER_PHONE_PER_HOUR`` for the phone.
    """
    from servicehub.phones import phone_normalize

    e164 = phone_normalize(phone)
    # The address first: a client spraying many phones is stopped without using up their budgets.
    if _window_count(f"otp:addr:{_digest('addr', address or '-')}", window=3600) > conf("CODES_PER_ADDRESS_PER_HOUR"):
        raise throttled_error()
    if _window_count(f"otp:phone:{_digest('phone', e164)}", window=3600) > conf("CODES_PER_PHONE_PER_HOUR"):
        raise throttled_error()
    now = now or timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    ttl = conf("CODE_TTL_SECONDS")
    with transaction.atomic():
        PhoneVerification.objects.filter(phone=e164, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        row = PhoneVerification.objects.create(
            phone=e164,
            code_hash=_code_hash(phone=e164, code=code, salt=salt),
            salt=salt,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl),
        )
        customer = Customer.objects.filter(phone=e164).only("language").first()
        events.verification_code_issued(
            verification=row,
            code=code,
            minutes=ttl // 60,
            language=language or (customer.language if customer is not None else None),
        )
    return row


def verification_failed() -> DomainError:
    return DomainError(
        "verification_failed",
        _("The code is wrong, has expired or was already used. Ask for a new code."),
        status=400,
        field="code",
    )


def verification_code_check(*, phone: str, code: str, now=None) -> str:
    """Use the phone's current code; returns the phone in E.164 when ``code`` is right.

    Changes: counts the try (committed even when the code is wrong); a right code is marked
    used. Refuses ``verification_failed`` (400, field ``code``): no live code, expired, used,
    ``CODE_MAX_ATTEMPTS`` tries spent, or wrong -- all alike. A bad phone is
    ``verification_failed`` too (the form asked for the code, not the phone).
    """
    from servicehub.phones import phone_normalize

    try:
        e164 = phone_normalize(phone)
    except DomainError:
        raise verification_failed() from None
    code = str(code or "").strip()
    now = now or timezone.now()
    ok = False
    with transaction.atomic():
        # The phone's unused codes (a handful at most: codes are rate-limited) locked in one query;
        # the newest is the one that counts.
        unused = lock(PhoneVerification.objects.filter(phone=e164, used_at__isnull=True))
        row = max(unused, key=lambda r: (r.created_at, r.pk), default=None)
        if row is None or row.expires_at <= now or row.attempts >= conf("CODE_MAX_ATTEMPTS"):
            raise verification_failed()
        row.attempts += 1
        given = _code_hash(phone=e164, code=code, salt=row.salt) if (len(code) == 6 and code.isdigit()) else ""
        ok = hmac.compare_digest(given, row.code_hash)
        if ok:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
    if not ok:
        raise verification_failed()
    return e164


# --- "my service" session ----------------------------------------------------------------


def me_session_start(*, response, customer_id: int) -> None:
    """Sign the customer in on ``response``: a signed cookie ``<customer id>:<random key>``.

    The key lives in the cache for ``ME_SESSION_SECONDS``; ``me_session_end`` deletes it, so a
    copied cookie stops working at logout. Never touches the staff session.
    """
    ttl = conf("ME_SESSION_SECONDS")
    key = secrets.token_urlsafe(18)
    cache.set(f"me:{key}", int(customer_id), ttl)
    response.set_signed_cookie(
        ME_COOKIE,
        f"{int(customer_id)}:{key}",
        salt=_ME_SALT,
        max_age=ttl,
        httponly=True,
        samesite="Lax",
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        path="/",
    )


def _me_parts(request) -> tuple[int, str] | None:
    try:
        value = request.get_signed_cookie(ME_COOKIE, default=None, salt=_ME_SALT, max_age=conf("ME_SESSION_SECONDS"))
    except signing.BadSignature:
        return None
    if not value:
        return None
    customer_id, _sep, key = value.partition(":")
    if not customer_id.isdigit() or not key:
        return None
    return int(customer_id), key


def me_customer_id(request) -> int | None:
    """The signed-in customer's id (verified by SMS code within the session time), else None. No query."""
    if hasattr(request, "_me_customer_id"):
        return request._me_customer_id
    parts = _me_parts(request)
    found = None
    if parts is not None and cache.get(f"me:{parts[1]}") == parts[0]:
        found = parts[0]
    request._me_customer_id = found
    return found


def me_session_end(*, request, response) -> None:
    parts = _me_parts(request)
    if parts is not None:
        cache.delete(f"me:{parts[1]}")
    response.delete_cookie(ME_COOKIE, path="/", samesite="Lax")
    request._me_customer_id = None


# --- tracking: signed access link and the lock per service number ---------------------------


def track_access_token(*, ticket) -> str:
    """A signed, expiring token opening this ticket's tracking page without the phone digits."""
    return signing.TimestampSigner(salt=_ACCESS_SALT).sign(f"{ticket.service_no}:{ticket.customer_id}")


def track_access_check(*, token: str, service_no: str, customer_id: int) -> bool:
    try:
        value = signing.TimestampSigner(salt=_ACCESS_SALT).unsign(
            token or "", max_age=settings.SERVICEHUB["SIGNED_LINK_MAX_AGE"]
        )
    except signing.BadSignature:
        return False
    return hmac.compare_digest(value, f"{service_no}:{customer_id}")


def track_access_url(*, ticket) -> str:
    base = settings.SERVICEHUB["PUBLIC_BASE_URL"].rstrip("/")
    path = reverse("repairs:track-detail", kwargs={"service_no": ticket.service_no})
    return f"{base}{path}?k={track_access_token(ticket=ticket)}"


def lookup_locked_error() -> DomainError:
    return DomainError(
        "lookup_locked",
        _(
            "Too many wrong phone digits were tried for this service number, so looking it up by the digits "
            "is paused for an hour. We sent the customer a text message with a link that opens the repair; "
            "you can also sign in to “My service” with your phone."
        ),
        status=429,
    )


def track_lock_key(service_no: str) -> str:
    """The cache key that locks digit lookups of ``service_no`` (set after too many wrong digits)."""
    from .services import service_no_normalize

    return f"track:lock:{_digest('track', service_no_normalize(service_no))}"


def track_locked(*, service_no: str) -> bool:
    return bool(cache.get(track_lock_key(service_no)))


def track_lookup(
    *,
    service_no: str,
    phone_last4: str,
    annotate: Callable[[], dict] | None = None,
    locked: bool | None = None,
) -> RepairTicket | None:
    """``selectors.ticket_track`` behind the lock per service number.

    Returns the ticket (right number and digits) or None (unknown number or wrong digits,
    alike). Changes: a wrong answer counts against the number for an hour; the
    ``LOOKUP_FAILURES_BEFORE_LOCK``-th locks it for ``LOOKUP_LOCK_SECONDS`` and, when the number
    exists, queues one SMS to its customer (``tracking_locked``). Unknown numbers count and lock
    exactly like known ones. Refuses ``lookup_locked`` (429) while locked, whatever the digits.
    ``annotate``: a function giving extra columns for the ticket query (``selectors.ticket_track``).
    ``locked``: whether ``track_lock_key`` was set, when the caller read it already (the API reads it with its
    throttles' histories, in one round trip); None reads it here.
    """
    from .selectors import ticket_track
    from .services import service_no_normalize

    number = service_no_normalize(service_no)
    digest = _digest("track", number)
    lock_key = f"track:lock:{digest}"
    if cache.get(lock_key) if locked is None else locked:
        raise lookup_locked_error()
    ticket = ticket_track(service_no=number, phone_last4=phone_last4, annotate=annotate)
    if ticket is not None:
        return ticket
    failures = _window_count(f"track:fail:{digest}", window=conf("LOOKUP_LOCK_SECONDS"))
    if failures >= conf("LOOKUP_FAILURES_BEFORE_LOCK") and cache.add(lock_key, 1, conf("LOOKUP_LOCK_SECONDS")):
        # First to lock: tell the real customer once per lock (nobody when the number is unknown).
        real = RepairTicket.objects.select_related("customer").filter(service_no=number).first()
        if real is not None:
            with transaction.atomic():
                events.tracking_locked(ticket=real, lock_id=secrets.token_hex(6))
    return None
