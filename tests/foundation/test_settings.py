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
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must start with one of postgres://"):
        env_url("DATABASE_URL", schemes=("postgres", "sqlite"))


def test_every_variable_hotline_reads_is_documented():
    settings_text = "".join(p.read_text() for p in (REPO / "config" / "settings").glob("*.py"))
    names = set(re.findall(r'env_(?:str|bool|int|list|url)\("([A-Z_]+)"', settings_text))
    readme = (REPO / "README.md").read_text()
    undocumented = sorted(n for n in names if f"`{n}`" not in readme)
    assert names and not undocumented
