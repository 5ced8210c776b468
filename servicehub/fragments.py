"""The process-local cache of template fragments (``CACHES["fragments"]``, see servicehub/settings.py).

Its fragments depend on nothing but the code, the language and settings, so it never needs invalidating in a
running site (a deploy starts new processes). When settings or translations change inside a process (tests,
``override_settings``), it is cleared, so no page shows a fragment rendered under other settings.
"""

from __future__ import annotations

from django.core.cache import InvalidCacheBackendError, caches
from django.core.signals import setting_changed
from django.dispatch import receiver

FRAGMENTS = "fragments"


def fragments_clear() -> None:
    try:
        fragments = caches[FRAGMENTS]
    except InvalidCacheBackendError:  # CACHES replaced by one without it (a test), or being restored
        return
    fragments.clear()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    fragments_clear()
