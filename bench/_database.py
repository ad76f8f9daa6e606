"""The one helper every benchmark shares: make sure its own scratch PostgreSQL database exists."""
from __future__ import annotations

from urllib.parse import urlparse


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it is missing (connecting to the server's "postgres" database)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_ready(url: str) -> None:
    """Point Hotline at the benchmark's database (created if missing), start Django and apply migrations."""
    import os

    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
