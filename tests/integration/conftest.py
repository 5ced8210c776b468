"""Integration tests start real processes: they need PostgreSQL (the worker must see the test database) and Redis."""

import os
import uuid

import pytest
from django.conf import settings

REDIS_URL = os.environ.get("REDIS_URL", "")
SKIP_REASON = (
    "integration tests start a real Celery worker: set REDIS_URL=redis://... and DATABASE_URL=postgres://... to run"
)


def pytest_collection_modifyitems(config, items):
    if REDIS_URL and settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def queue_name():
    """A queue of this test's own: a shared Redis DB never hands our tasks to anyone else's worker (and back)."""
    return f"servicehub-it-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def celery_app():
    from servicehub.celery import app

    return app
