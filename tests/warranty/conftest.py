import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    # Assertions on `reasons` read English; the default language (zh-hans) may be translated later.
    with translation.override("en"):
        yield
