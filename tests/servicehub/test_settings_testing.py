"""Tests are detected by settings (servicehub.settings_test), not by sniffing what is imported."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _testing_flag(settings_module: str, **env_overrides) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("TESTING", "DJANGO_SETTINGS_MODULE", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, SECRET_KEY="t-" + "x9Q" * 20, **env_overrides)
    code = "import pytest, django; django.setup(); from django.conf import settings; print(settings.TESTING)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_suite_runs_with_the_test_settings():
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "servicehub.settings_test"
    assert settings.TESTING is True


def test_importing_pytest_does_not_make_a_process_a_test_run():
    assert _testing_flag("servicehub.settings") == "False"  # pytest imported, but production settings
    assert _testing_flag("servicehub.settings_test") == "True"
    assert _testing_flag("servicehub.settings_test", TESTING="0") == "False"  # a child told to act for real
