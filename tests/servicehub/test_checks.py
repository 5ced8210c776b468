"""servicehub.E001: check --deploy fails when throttles would be counted per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

from servicehub.checks import throttle_cache_is_shared

ROOT = Path(__file__).resolve().parents[2]
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "servicehub.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"}}


@pytest.mark.parametrize(
    "backend", ["django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"]
)
def test_fires_with_a_per_process_cache_and_debug_off(backend):
    with override_settings(DEBUG=False, CACHES={"default": {"BACKEND": backend}}):
        errors = throttle_cache_is_shared()
    assert [(e.id, e.level) for e in errors] == [("servicehub.E001", checks.ERROR)]
    assert "Set REDIS_URL" in errors[0].hint


def test_silent_with_redis_or_in_debug():
    with override_settings(DEBUG=False, CACHES=REDIS):
        assert throttle_cache_is_shared() == []
    with override_settings(DEBUG=True, CACHES=LOCMEM):
        assert throttle_cache_is_shared() == []


def test_registered_for_deploy_only():
    with override_settings(DEBUG=False, CACHES=LOCMEM):
        deploy = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
        plain = checks.run_checks(include_deployment_checks=False, tags=[checks.Tags.security])
    assert "servicehub.E001" in {e.id for e in deploy}
    assert "servicehub.E001" not in {e.id for e in plain}


def _check_deploy(**env_overrides):
    # Not the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE either (check --deploy rightly flags it).
    # Nor the suite's TESTING flag and test settings: this is the production check.
    dropped = ("REDIS_URL", "DATABASE_URL", "PYTEST_XDIST_WORKER", "DJANGO_ALLOW_ASYNC_UNSAFE", "TESTING")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="servicehub.settings",
        DEBUG="0",
        SECRET_KEY="t-" + "x9Q" * 20,
        ALLOWED_HOSTS="servicehub.example.com",
        **env_overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_fails_without_redis_url_and_says_what_to_set():
    result = _check_deploy()
    assert result.returncode == 1
    assert "servicehub.E001" in result.stderr and "Set REDIS_URL" in result.stderr


def test_check_deploy_passes_with_redis_url():
    # Only configuration is checked: no connection to Redis is made.
    result = _check_deploy(REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
