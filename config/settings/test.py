"""Settings for the test suite: fast hashing, e-mail kept in memory, same database/Redis switches as base."""
from .base import *  # noqa: F401,F403
from .base import DATABASES, REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
BOARD_SHARED_SECONDS = 0  # tests read the board right after storing posts; one test turns sharing on
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory for speed
if REDIS_URL:
    # Redis may be shared with a developer's Hotline or another checkout's tests: everything this test process
    # writes there carries a prefix of its own run, and tests/conftest.py deletes exactly those keys at the end.
    # The cache's keys, and the broker's: a task queued by code under test (an alert check after ingestion) lands
    # in this run's queue, which no other worker reads, instead of a "celery" queue some running Hotline serves.
    import uuid

    from .base import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS

    TEST_RUN_PREFIX = f"hotline-test-run-{uuid.uuid4().hex}"
    CACHES["default"]["KEY_PREFIX"] = TEST_RUN_PREFIX
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"{TEST_RUN_PREFIX}:"}
