"""Production settings: refuse to start without a secret key, allowed hosts and a real database."""
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F401,F403
from .base import ALLOWED_HOSTS, DATABASE_URL

DEBUG = False
PRODUCTION = True  # incidents.demo refuses to load or serve the demo (its superuser's password is published)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters in production.")
if not env_str("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the host names Hotline answers to in production.")
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured(f"ALLOWED_HOSTS={env_str('ALLOWED_HOSTS')!r} accepts any host name: name the host "
                               "names Hotline answers to in production (a leading dot covers subdomains).")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production (SQLite is for the demo).")
assert ALLOWED_HOSTS

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The container health check calls /healthz over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
