"""Shared fixtures. Tests marked ``postgres`` or ``redis`` run only where those real services are configured
(DATABASE_URL / REDIS_URL, as CI's first pass sets them); on the embedded default they are skipped, never faked."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
# The tone encoder's vectors (train_tone's word table, the accurate tier's tests) are kept between runs outside
# the repository, so CI's second pass and a developer's reruns embed nothing twice.
os.environ.setdefault("HOTLINE_TONE_EMBEDDING_CACHE",
                      str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hotline" / "tone-vectors.sqlite"))
SHARED_DATA = Path(os.environ.get("HOTLINE_SHARED_DATA", REPO.parent / "shared" / "data"))


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(settings.REDIS_URL)
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI's first pass does)")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://... (CI's first pass does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not has_redis:
            item.add_marker(skip_redis)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"Hotline's shared data sets are missing at {SHARED_DATA}; set HOTLINE_SHARED_DATA.")
    return SHARED_DATA


@pytest.fixture
def make_brand(db):
    """Create a brand with one official X account and optional tracking terms."""
    from incidents.models import Brand, OfficialAccount, TrackingTerm

    def _make(name="Ondine Mobile", slug=None, handle=None, platform="x", user_id="", terms=(),
              time_zone="Europe/Paris", team=None):
        slug = slug or name.lower().replace(" ", "-")
        brand = Brand.objects.create(name=name, slug=slug, time_zone=time_zone, languages=["fr", "en"])
        OfficialAccount.objects.create(brand=brand, platform=platform, handle=handle or slug.replace("-", "_"),
                                       platform_user_id=user_id)
        for term in terms:
            TrackingTerm.objects.create(brand=brand, term=term)
        if team is not None:
            team.brands.add(brand)
        return brand

    return _make


@pytest.fixture
def make_user(db):
    """Create a user with a role in the given teams (names created on the fly)."""
    from incidents.models import Team
    from incidents.services import user_create

    def _make(username="alice", role="analyst", teams=(), password="hotline-test-pass"):
        for name in teams:
            Team.objects.get_or_create(name=name)
        return user_create(username=username, password=password, role=role, teams=list(teams))

    return _make
