"""Settings for the test suite: fast hashing, e-mail kept in memory, same database/Redis switches as base."""
from .base import *  # noqa: F401,F403
from .base import CELERY_BEAT_SCHEDULE, DATABASES, REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
# The accurate tone tier's re-read is off unless a test turns it on: the suite's figures come from the fast tier.
TONE_ACCURATE = False
CELERY_BEAT_SCHEDULE = {k: v for k, v in CELERY_BEAT_SCHEDULE.items() if k != "tone-reread-dispatch"}
BOARD_SHARED_SECONDS = 0  # tests read the board right after storing posts; one test turns sharing on
# Browser tests' live server answers each request on a thread of its own: persistent connections would outlive
# those threads and keep the test database busy when pytest drops it.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory for speed
if REDIS_URL:
    # Redis may be shared with a developer's Hotline or another checkout's tests: what this test process writes
    # there is named after its own run, and tests/conftest.py deletes exactly those keys at the end. The cache's
    # keys carry the run's prefix; a task queued by code under test (an alert check after ingestion) goes to the
    # run's own default queue, which no worker reads, instead of the "celery" queue a running Hotline serves.
    # (Worker tests start their workers on queues and prefixes of their own: tests/celery_worker.py.)
    import uuid

    from .base import CACHES

    TEST_RUN_PREFIX = f"hotline-test-run-{uuid.uuid4().hex}"
    CACHES["default"]["KEY_PREFIX"] = TEST_RUN_PREFIX
    CELERY_TASK_DEFAULT_QUEUE = TEST_RUN_PREFIX
