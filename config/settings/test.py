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
    # The cache may live on a Redis that a developer's Hotline or another checkout's tests also use: this run's
    # cache keys carry a prefix of their own, and tests/conftest.py deletes exactly those keys at the end.
    import uuid

    from .base import CACHES

    CACHES["default"]["KEY_PREFIX"] = f"hotline-test-cache-{uuid.uuid4().hex}"
