"""System checks for Argmap's deployment: rate limits need a cache every process shares."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

# Caches that keep their counts inside one process (or keep none at all).
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)
NO_COUNTING_CACHES = frozenset({"django.core.cache.backends.dummy.DummyCache"})

SHARED_CACHE_HINT = (
    "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): config/settings.py then uses Redis as the "
    "default cache. Or serve the site from one process (WEB_CONCURRENCY=1), or turn rate limits "
    "off with ARGMAP_RATE_LIMITS_ENABLED=false."
)
CACHE_NOT_SHARED = (
    "Rate limits are on and {processes} processes are configured (settings.ARGMAP_PROCESSES, from "
    "WEB_CONCURRENCY), but the default cache {backend} counts in each process on its own: every "
    "process would grant the whole budget again."
)
CACHE_CANNOT_COUNT = (
    "Rate limits are on, but the default cache {backend} stores nothing, so nothing is ever "
    "counted and no request is ever refused."
)


@register(Tags.caches, Tags.security)
def rate_limit_cache_check(app_configs=None, **kwargs) -> list[Error]:
    """argmap.E001: rate limits with a per-process cache while several processes serve the site;
    argmap.E002: rate limits with a cache that stores nothing."""
    if not getattr(settings, "ARGMAP_RATE_LIMITS_ENABLED", False):
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    processes = int(getattr(settings, "ARGMAP_PROCESSES", 1) or 1)
    if backend in NO_COUNTING_CACHES:
        return [
            Error(
                CACHE_CANNOT_COUNT.format(backend=backend),
                hint=SHARED_CACHE_HINT,
                id="argmap.E002",
            )
        ]
    if processes > 1 and backend in PER_PROCESS_CACHES:
        return [
            Error(
                CACHE_NOT_SHARED.format(processes=processes, backend=backend),
                hint=SHARED_CACHE_HINT,
                id="argmap.E001",
            )
        ]
    return []
