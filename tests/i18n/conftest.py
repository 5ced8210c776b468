import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _site_default_language(settings, _english_by_default):
    # Undo tests/conftest.py's English default: these tests check the real one (zh-hans).
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override(None):
        yield
