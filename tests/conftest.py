"""Shared fixtures. Tests marked ``postgres`` or ``redis`` run only where those real services are configured
(DATABASE_URL / REDIS_URL, as CI's first pass sets them); on the embedded default they are skipped, never faked.

Real data comes from two places. ``data_slices``: small slices of the shared corpora committed under
tests/data/slices/ (tests/data/README.md says where each comes from), so a fresh clone runs every test that reads
real posts. ``shared_data``: the whole corpora, only where ``HOTLINE_SHARED_DATA`` names them (CI's first pass
does); the few tests that need them whole (training the tone model byte-identical, the evaluation tables) skip
without it. There is deliberately no default folder: a checkout's suite does the same wherever it sits."""
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
DATA_SLICES = REPO / "tests" / "data" / "slices"
SHARED_DATA = Path(os.environ["HOTLINE_SHARED_DATA"]) if os.environ.get("HOTLINE_SHARED_DATA") else None


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


@pytest.fixture(scope="session", autouse=True)
def _redis_keys_of_this_run_deleted():
    """The run's cache keys and its own default queue (config.settings.test names them after the run, on a
    shared Redis) are deleted when the run ends: exactly those, never a flush."""
    yield
    prefix = getattr(settings, "TEST_RUN_PREFIX", "")
    if not settings.REDIS_URL or not prefix.startswith("hotline-test-run-"):
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))  # cache keys, the queue, its bindings
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def run_keys():
    """The run's own key prefix and queue on the Redis that REDIS_URL names, for Celery worker and beat
    subprocesses (tests.celery_worker.RunKeys): afterwards exactly its keys are deleted, never a flush, and the
    test fails if a key of its queue was written outside the prefix."""
    from tests.celery_worker import RunKeys

    keys = RunKeys(settings.REDIS_URL)
    yield keys
    leaked = keys.clean_up()
    assert not leaked, f"keys written outside the run's prefix: {leaked}"


@pytest.fixture(scope="session")
def data_slices() -> Path:
    """The committed slices of the shared corpora, in the corpora's own folder layout."""
    return DATA_SLICES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The whole shared corpora; the test is skipped, saying how to run it, when they are not configured."""
    if SHARED_DATA is None:
        pytest.skip("needs the whole shared corpora: set HOTLINE_SHARED_DATA=/path/to/shared/data (CI's first "
                    "pass sets HOTLINE_SHARED_DATA=../shared/data)")
    if not SHARED_DATA.is_dir():
        pytest.fail(f"HOTLINE_SHARED_DATA={str(SHARED_DATA)!r} is not a folder: point it at the shared data sets.")
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
