"""Shared fixtures. Per-app factories live in tests/factories/<app>.py."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient

from tests.sms import SENT_SMS, MemorySMSBackend

IS_POSTGRES = settings.IS_POSTGRES


def _emulate_outbox_commits() -> None:
    """Inside a ``db`` test everything runs in the test's own transaction, which never commits, so
    ``transaction.on_commit`` callbacks never fire. Domain events (``servicehub.events.emit``) are
    dispatched after commit; to keep the production order in these tests, the outbox's after-commit
    callbacks run when the code's outermost ``atomic`` block exits cleanly (its "commit"), exactly
    when they would run in production. Only outbox callbacks: sending SMS and webhooks stays after the
    real commit, as the tests of those paths expect. ``transaction=True`` tests commit for real and
    need none of this.
    """
    from django.db import transaction

    original_exit = transaction.Atomic.__exit__

    def __exit__(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = transaction.get_connection(self.using)
        blocks = connection.atomic_blocks
        if (
            exc_type is None
            and blocks
            and all(getattr(b, "_from_testcase", False) for b in blocks)
            and not connection.needs_rollback
        ):
            pending = [c for c in connection.run_on_commit if getattr(c[1], "servicehub_outbox", False)]
            if pending:
                connection.run_on_commit = [c for c in connection.run_on_commit if c not in pending]
                for _sids, func, _robust in pending:
                    func()
        return result

    transaction.Atomic.__exit__ = __exit__


_emulate_outbox_commits()


def pytest_collection_modifyitems(config, items):
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL row locks (SELECT ... FOR UPDATE); set DATABASE_URL=postgres://... to run"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Tests assert the English source strings. The site's default language is zh-hans and the
    # compiled catalog (locale/zh_Hans) translates them, so every test runs in English unless it
    # says otherwise; tests/i18n/ puts the real default back and checks the Chinese pages.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and idempotency records live in the cache: start clean (and the process-local
    # template fragments: a test may have rendered them under its own settings or translations).
    from servicehub.fragments import fragments_clear

    cache.clear()
    fragments_clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _reset_throttle_rates():
    """Undo what a test did to throttle rates, including the shadow attributes it left behind.

    Tests lower a rate by assigning ``THROTTLE_RATES`` on a throttle class. Restoring "the old
    value" on a subclass leaves a copy in that subclass's ``__dict__``, which then hides any later
    change made on ``SimpleRateThrottle`` itself: later throttle tests would silently not throttle.
    """
    from rest_framework.throttling import SimpleRateThrottle

    from servicehub.api import throttling

    original = SimpleRateThrottle.THROTTLE_RATES
    yield
    SimpleRateThrottle.THROTTLE_RATES = original
    for obj in vars(throttling).values():
        if isinstance(obj, type) and issubclass(obj, SimpleRateThrottle) and obj is not SimpleRateThrottle:
            # Only the leftover copy of the shared dict; a value monkeypatch set is monkeypatch's to undo.
            if obj.__dict__.get("THROTTLE_RATES") is original:
                delattr(obj, "THROTTLE_RATES")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def partner_key(db):
    """``partner_key(scopes=[...], centers=[...], partner=None) -> (ApiKey, raw)``."""
    from partners.models import Partner
    from partners.services import api_key_create

    counter = {"n": 0}

    def make(*, scopes=None, centers=(), partner=None, name=None):
        counter["n"] += 1
        if partner is None:
            partner = Partner.objects.create(name=name or f"Partner {counter['n']}")
            # A key can only be limited to sites its partner runs: the new partner runs them.
            partner.centers.add(*centers)
        return api_key_create(partner=partner, scopes=scopes, centers=centers)

    return make


@pytest.fixture
def key_client(partner_key):
    """``key_client(scopes=[...], ...) -> APIClient`` authenticated with a new partner key."""

    def make(**kwargs):
        key, raw = partner_key(**kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.api_key = key
        return client

    return make


@pytest.fixture
def staff_key_client(db):
    """``staff_key_client(user) -> APIClient`` with a key acting as that staff user."""
    from partners.services import api_key_create

    def make(user, scopes=None):
        key, raw = api_key_create(user=user, scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.api_key = key
        return client

    return make


@pytest.fixture
def sms_outbox(settings):
    """Every SMS sent during the test, in memory."""
    settings.SMS_BACKEND = "tests.sms.MemorySMSBackend"
    SENT_SMS.clear()
    MemorySMSBackend.fail_with = None
    yield SENT_SMS
    SENT_SMS.clear()
    MemorySMSBackend.fail_with = None
