"""Typed helpers that read Hotline's configuration from the environment.

Only ``config/`` reads the environment. Each helper refuses ambiguous values with an error that names the
variable and the value, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = "true"
_FALSE = "false"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """A boolean is exactly "true" or "false" (any case); anything else is an error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value == _TRUE:
        return True
    if value == _FALSE:
        return False
    raise ImproperlyConfigured(f'{name}={raw!r} is not a boolean: use "true" or "false".')


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks around items are dropped, empty items are an error."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    items = [item.strip() for item in raw.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item between commas.")
    return items


def env_url(name: str, *, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of ``schemes``; empty means "not set"."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {allowed}; got {parsed.scheme or 'no scheme'!r}.")
    return raw
