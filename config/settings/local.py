"""Settings for a developer's checkout and ``make demo``: debug on, everything embedded unless told."""
from config.env import env_bool

from .base import *  # noqa: F401,F403

DEBUG = env_bool("DEBUG", True)
