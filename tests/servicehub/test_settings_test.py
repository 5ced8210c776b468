"""The test settings give every pytest-xdist worker its own Redis database (and keep it for its children)."""

import os
import subprocess
import sys

import pytest

_SHOW = "import servicehub.settings_test, os; print(os.environ['REDIS_URL'])"


def _redis_url_in(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICEHUB_TEST_REDIS", "PYTEST_XDIST"))}
    clean.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", _SHOW], env={**clean, **env}, capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # the controller (no worker name) keeps the configured database
        ({"REDIS_URL": "redis://h:6379/0"}, "redis://h:6379/0"),
        # a worker inherits the controller's environment, remapped or not, and still moves to its own
        (
            {
                "REDIS_URL": "redis://h:6379/0",
                "SERVICEHUB_TEST_REDIS_WORKER": "",
                "SERVICEHUB_TEST_REDIS_BASE_URL": "redis://h:6379/0",
                "PYTEST_XDIST_WORKER": "gw1",
            },
            "redis://h:6379/1",
        ),
        # the controller's mark (it ran the settings first) does not keep gw3 on the base database 2
        (
            {"REDIS_URL": "redis://h:6379/2", "SERVICEHUB_TEST_REDIS_WORKER": "", "PYTEST_XDIST_WORKER": "gw3"},
            "redis://h:6379/5",
        ),
        # a process a worker starts (gunicorn, a Celery worker) stays on that worker's database
        (
            {
                "REDIS_URL": "redis://h:6379/1",
                "SERVICEHUB_TEST_REDIS_WORKER": "gw1",
                "SERVICEHUB_TEST_REDIS_BASE_URL": "redis://h:6379/0",
                "PYTEST_XDIST_WORKER": "gw1",
            },
            "redis://h:6379/1",
        ),
    ],
)
def test_each_xdist_worker_has_its_own_redis_database(env, expected):
    assert _redis_url_in(**env) == expected
