"""Settings for a developer's checkout and ``make demo``: debug on (``make demo`` turns it off, so people trying
Hotline see its own error pages, never Django's debug pages), everything embedded unless told."""
from config.env import env_bool

from .base import *  # noqa: F401,F403

DEBUG = env_bool("DEBUG", True)
# Static files straight from static/ without collectstatic, with or without DEBUG (whitenoise finds them).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
