"""The system check that refuses a per-process cache for rate limits across several processes."""

from __future__ import annotations

import pytest
from django.core.checks import Error
from django.core.checks.registry import registry
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from argmap.checks import rate_limit_cache_check

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
    }
}


@pytest.fixture
def limits_on(settings):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    return settings


def ids(errors: list[Error]) -> list[str]:
    return [error.id for error in errors]


def test_check_is_registered():
    assert rate_limit_cache_check in registry.get_checks()


def test_local_memory_cache_with_several_processes_is_an_error(limits_on):
    limits_on.CACHES = LOCMEM
    limits_on.ARGMAP_PROCESSES = 4
    errors = rate_limit_cache_check()
    assert ids(errors) == ["argmap.E001"]
    assert "4 processes" in errors[0].msg
    assert "REDIS_URL" in errors[0].hint


def test_manage_py_check_refuses_to_pass(limits_on, db):
    limits_on.CACHES = LOCMEM
    limits_on.ARGMAP_PROCESSES = 2
    with pytest.raises(SystemCheckError, match=r"argmap\.E001"):
        call_command("check", verbosity=0)


def test_local_memory_cache_with_one_process_is_fine(limits_on):
    limits_on.CACHES = LOCMEM
    limits_on.ARGMAP_PROCESSES = 1
    assert rate_limit_cache_check() == []


def test_redis_with_several_processes_is_fine(limits_on):
    limits_on.CACHES = REDIS
    limits_on.ARGMAP_PROCESSES = 8
    assert rate_limit_cache_check() == []


def test_several_processes_without_rate_limits_need_no_shared_cache(settings):
    settings.ARGMAP_RATE_LIMITS_ENABLED = False
    settings.CACHES = LOCMEM
    settings.ARGMAP_PROCESSES = 4
    assert rate_limit_cache_check() == []


def test_dummy_cache_is_an_error_even_in_one_process(limits_on):
    limits_on.CACHES = DUMMY
    limits_on.ARGMAP_PROCESSES = 1
    assert ids(rate_limit_cache_check()) == ["argmap.E002"]


def test_settings_read_the_process_count_from_web_concurrency(monkeypatch):
    import importlib

    import config.settings as project_settings

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    try:
        assert importlib.reload(project_settings).ARGMAP_PROCESSES == 3
        monkeypatch.delenv("WEB_CONCURRENCY")
        assert importlib.reload(project_settings).ARGMAP_PROCESSES == 1
    finally:
        importlib.reload(project_settings)
