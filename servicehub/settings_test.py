"""Settings for the test suite: the project's settings with ``TESTING`` on.

pytest uses this module (``DJANGO_SETTINGS_MODULE`` in ``pyproject.toml``). ``TESTING`` is read by
``servicehub.settings`` from the environment, so every test-only default that follows from it (a
development secret key, eager Celery, plain-HTTP webhook URLs allowed, no HTTPS redirects) comes
from one flag. A process started by a test that must behave like production sets ``TESTING=0``
(or its own ``DJANGO_SETTINGS_MODULE``), as ``tests/integration`` and ``tests/reliability`` do.
"""

import os
import re

os.environ.setdefault("TESTING", "1")


def _redis_url_for_worker(url: str, worker: str) -> str:
    """Each pytest-xdist worker (gw0, gw1, ...) gets its own Redis database: the tests clear the cache
    around every test (``cache.clear()`` is FLUSHDB), which must not wipe another worker's throttle
    counters or lookup locks mid-test. gw0 keeps the configured database; gwN uses (base + N) % 16."""
    match = re.fullmatch(r"gw(\d+)", worker)
    if not url or match is None:
        return url
    index = int(match.group(1))
    found = re.match(r"^(redis(?:s)?://[^/]*)(?:/(\d+))?(.*)$", url)
    if found is None:
        return url
    base = int(found.group(2) or 0)
    return f"{found.group(1)}/{(base + index) % 16}{found.group(3)}"


# Set in the environment (not only in settings): processes the tests start (a Celery worker, gunicorn)
# inherit it and talk to the same database as the worker that started them. The remap is keyed by the
# worker's name and always starts from the configured URL: the xdist controller loads these settings too
# and its workers inherit its environment, so a plain "done once" flag would leave every worker on the
# controller's database (and one worker's FLUSHDB would wipe another's throttle counters).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if os.environ.get("REDIS_URL") and os.environ.get("SERVICEHUB_TEST_REDIS_WORKER") != _WORKER:
    _base = os.environ.setdefault("SERVICEHUB_TEST_REDIS_BASE_URL", os.environ["REDIS_URL"])
    os.environ["REDIS_URL"] = _redis_url_for_worker(_base, _WORKER)
    os.environ["SERVICEHUB_TEST_REDIS_WORKER"] = _WORKER

from servicehub.settings import *  # noqa: E402, F403
