"""Settings come from the environment through typed helpers; production refuses to start half-configured."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_url

REPO = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "SECRET_KEY": "hotline-ci-9f2c4e7a1b8d3f6e0a5c2b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f", "ALLOWED_HOSTS": "hotline.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hotline",
}


def _manage(*args, env):
    # A clean production environment: nothing the test run itself set (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    dropped = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
               "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("missing, message", [
    ("SECRET_KEY", "SECRET_KEY must be set"),
    ("ALLOWED_HOSTS", "ALLOWED_HOSTS must name"),
    ("DATABASE_URL", "DATABASE_URL must point to PostgreSQL"),
])
def test_production_refuses_to_start_without_what_it_needs(missing, message):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_check_deploy_prints_no_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "System check identified no issues" in result.stdout


@pytest.mark.parametrize("raw", ["yes", "1", "on", "True "])
def test_a_boolean_is_true_or_false_and_nothing_else(monkeypatch, raw):
    monkeypatch.setenv("DEBUG", raw)
    if raw.strip().lower() == "true":
        assert env_bool("DEBUG", False) is True
    else:
        with pytest.raises(ImproperlyConfigured, match=r"DEBUG='.*' is not a boolean"):
            env_bool("DEBUG", False)


def test_numbers_lists_and_urls_name_the_variable_when_wrong(monkeypatch):
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "soon")
    with pytest.raises(ImproperlyConfigured, match="HTTP_TIMEOUT_SECONDS='soon' is not a whole number"):
        env_int("HTTP_TIMEOUT_SECONDS", 20)
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("ALLOWED_HOSTS")
    monkeypatch.setenv("DATABASE_URL", "mysql://db/hotline")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL=.mysql://db/hotline. must start with one of postgres://"):
        env_url("DATABASE_URL", schemes=("postgres", "sqlite"))


def test_every_variable_hotline_reads_is_documented():
    settings_text = "".join(p.read_text() for p in (REPO / "config" / "settings").glob("*.py"))
    names = set(re.findall(r'env_(?:str|bool|int|list|url|choice)\("([A-Z_]+)"', settings_text))
    readme = (REPO / "README.md").read_text()
    undocumented = sorted(n for n in names if f"`{n}`" not in readme)
    assert names and not undocumented


def _load_settings(monkeypatch, module: str, env: dict[str, str]) -> dict:
    """Execute a settings module afresh under ``env`` (as Hotline does at start), returning its names."""
    import runpy

    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SITE_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # A fresh base module too: production reads it through ``from .base import *``.
    monkeypatch.delitem(sys.modules, "config.settings.base", raising=False)
    try:
        return runpy.run_module(module)
    finally:
        sys.modules.pop("config.settings.base", None)


@pytest.mark.parametrize("module, env, message", [
    ("config.settings.base", {"ALLOWED_HOSTS": "  "}, "ALLOWED_HOSTS='  ' is blank"),
    ("config.settings.production", {**PROD_ENV, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS='*' accepts any host name"),
    ("config.settings.production", {**PROD_ENV, "ALLOWED_HOSTS": "hotline.example.org,*"},
     "ALLOWED_HOSTS='hotline.example.org,*' accepts any host name"),
    ("config.settings.base", {"SITE_URL": "javascript:alert(1)"},
     "SITE_URL='javascript:alert(1)' must start with one of http://, https://"),
    ("config.settings.base", {"SITE_URL": "https://"}, "SITE_URL='https://' names no host"),
    ("config.settings.base", {"EMAIL_URL": "smtp://mailer:s3cret@mail.example.org:25x"},
     "EMAIL_URL='smtp://mailer:***@mail.example.org:25x' has a port that is not a number from 1 to 65535"),
    ("config.settings.base", {"EMAIL_URL": "smtp://mail.example.org:70000"},
     "EMAIL_URL='smtp://mail.example.org:70000' has a port that is not a number"),
    ("config.settings.base", {"LOG_LEVEL": "LOUD"},
     "LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("config.settings.base", {"DATABASE_URL": "postgres://postgres:pw@127.0.0.1:5432"},
     "DATABASE_URL='postgres://postgres:***@127.0.0.1:5432' names no database"),
    ("config.settings.base", {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"},
     "DATABASE_URL='postgres://postgres@127.0.0.1:5432/' names no database"),
    ("config.settings.base", {"REDIS_URL": "redis://127.0.0.1:6379/queue"},
     "REDIS_URL='redis://127.0.0.1:6379/queue' names database 'queue': a Redis database is a number"),
    ("config.settings.base", {"REDIS_URL": "redis://127.0.0.1:6379/²"}, "names database '²'"),
    ("config.settings.base", {"REDIS_URL": "redis://127.0.0.1:63a9/0"}, "REDIS_URL='redis://127.0.0.1:63a9/0' has a port"),
])
def test_a_setting_hotline_cannot_use_stops_it_at_start_naming_the_variable_and_value(monkeypatch, module, env,
                                                                                      message):
    with pytest.raises(ImproperlyConfigured) as refused:
        _load_settings(monkeypatch, module, env)
    assert message in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_good_settings_still_load(monkeypatch):
    loaded = _load_settings(monkeypatch, "config.settings.production", {
        **PROD_ENV, "ALLOWED_HOSTS": ".example.org", "SITE_URL": "https://hotline.example.org", "LOG_LEVEL": "warning",
        "EMAIL_URL": "smtp://mailer:pw@mail.example.org:587", "REDIS_URL": "redis://redis:6379/2"})
    assert loaded["ALLOWED_HOSTS"] == [".example.org"] and loaded["EMAIL_PORT"] == 587
    assert loaded["PRODUCTION"] is True  # the demo refuses to load or serve under these settings
    assert loaded["LOGGING"]["root"]["level"] == "WARNING"
    assert _load_settings(monkeypatch, "config.settings.base", {"ALLOWED_HOSTS": ""})["ALLOWED_HOSTS"] == [
        "127.0.0.1", "localhost", "[::1]"]


def test_a_bad_log_level_stops_manage_py_with_the_variable_named_not_a_logging_traceback():
    result = _manage("check", env={**PROD_ENV, "LOG_LEVEL": "LOUD"})
    assert result.returncode != 0
    assert "LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr
    assert "Unable to configure root logger" not in result.stderr
