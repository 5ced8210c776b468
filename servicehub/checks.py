"""System checks of the deployment (``manage.py check --deploy``).

servicehub.E001: the API throttles (per IP, per key, tracking and OTP lookups)
count in the default cache. A local-memory, dummy or file cache is per
process (or per machine), so with three gunicorn workers an attacker gets three
times the limit, and every new worker starts at zero. Production must share
the counters: set ``REDIS_URL``.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

# Caches whose counters are not shared by every web process of the deployment.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "local-memory (one per process)",
    "django.core.cache.backends.dummy.DummyCache": "dummy (counts nothing)",
    "django.core.cache.backends.filebased.FileBasedCache": "file-based (one per machine)",
}


@register(Tags.security, deploy=True)
def throttle_cache_is_shared(app_configs=None, **kwargs):
    """E001 when DEBUG is off and the default cache would count throttles per process."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    kind = PER_PROCESS_CACHES.get(backend)
    if kind is None:
        return []
    return [
        Error(
            f"The default cache is {kind}, so API throttles and lookup lockouts are counted "
            "separately by each web process and reset when it restarts.",
            hint="Set REDIS_URL (e.g. redis://127.0.0.1:6379/0) so every process shares one cache.",
            id="servicehub.E001",
        )
    ]
