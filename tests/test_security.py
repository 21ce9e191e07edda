"""Production settings: `check --deploy` is clean, and they refuse to start without a secret."""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment must not.
        if key not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.production",
        "ARGMAP_VAR_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    key = secrets.token_urlsafe(45)
    assert len(key) == 60
    result = _check_deploy(tmp_path, SECRET_KEY=key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_check_deploy_would_report_a_weakened_setting(tmp_path):
    # The negative control: the same check does fail when a hardening setting is switched off.
    result = _check_deploy(
        tmp_path, SECRET_KEY=secrets.token_urlsafe(45), SECURE_SSL_REDIRECT="false"
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def _import_production(monkeypatch, key: str | None):
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.delitem(sys.modules, "config.production", raising=False)
    return importlib.import_module("config.production")


@pytest.mark.parametrize(
    "key",
    [None, "", "too-short-" * 4, "django-insecure-" + secrets.token_urlsafe(45)],
    ids=["missing", "empty", "short", "insecure-prefix"],
)
def test_production_settings_refuse_to_start_without_a_real_secret_key(monkeypatch, key):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        _import_production(monkeypatch, key)


def test_production_settings_load_with_a_real_secret_key(monkeypatch):
    key = secrets.token_urlsafe(45)
    production = _import_production(monkeypatch, key)
    assert key == production.SECRET_KEY
    assert production.DEBUG is False
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.SECURE_HSTS_SECONDS >= 31_536_000
