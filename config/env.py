"""Typed helpers that read Hotline's configuration from the environment.

Only ``config/`` reads the environment. Each helper refuses ambiguous values with an error that names the
variable and the value, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse, urlsplit

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
    """A comma-separated list; blanks around items are dropped. Unset or empty means the default; a value of
    blanks only, or an empty item between commas, is an error (a typo must not silently mean the default)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return list(default or [])
    if raw.strip() == "":
        raise ImproperlyConfigured(f"{name}={raw!r} is blank: name at least one item, or unset it for the default.")
    items = [item.strip() for item in raw.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item between commas.")
    return items


def env_choice(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (compared in upper case, as log levels are written)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}.")
    return value


def shown_url(raw: str) -> str:
    """A URL as an error message may print it: any password replaced by ***."""
    try:
        parts = urlsplit(raw)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        pass
    return raw


def env_url(name: str, *, schemes: tuple[str, ...], needs_host: bool = False) -> str:
    """A URL whose scheme is one of ``schemes``, with a valid port if it names one; empty means "not set".

    Errors name the variable and the value (its password, if any, masked)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    shown = shown_url(raw)
    if parsed.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(
            f"{name}={shown!r} must start with one of {allowed}; got {parsed.scheme or 'no scheme'!r}.")
    try:
        port = parsed.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parsed.netloc.endswith(":")):
        raise ImproperlyConfigured(f"{name}={shown!r} has a port that is not a number from 1 to 65535.")
    if needs_host and not parsed.hostname:
        raise ImproperlyConfigured(f"{name}={shown!r} names no host.")
    return raw
