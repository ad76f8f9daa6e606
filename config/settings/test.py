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
    # Tests use their own Redis database so they never disturb a developer's running Hotline.
    pass
