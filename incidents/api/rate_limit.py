"""A rate limit per personal token (or per signed-in user): API_RATE_LIMIT_PER_MINUTE calls in each clock minute,
then 429 with Retry-After until the minute is over.

The count lives in Django's cache: Redis when REDIS_URL is set, so every web process and machine shares it;
this process's memory on the embedded default. ``cache.add`` then ``cache.incr`` is atomic on Redis (INCR), so
two processes never both take the last call of a minute. If the cache is unreachable the call is let through and
a warning logged: a dead Redis must not take the API down with it.
"""
from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60


def _caller_key(request) -> str | None:
    token = getattr(request, "api_token", None)
    if token is not None:
        return f"token:{token.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


class PerTokenRateLimit(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        caller = _caller_key(request)
        if caller is None:
            return True  # unauthenticated calls are refused with 401 before they cost anything
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        self.retry_after = math.ceil((window + 1) * WINDOW_SECONDS - now)
        key = f"hotline:api:rate:{caller}:{window}"
        try:
            cache.add(key, 0, WINDOW_SECONDS + 5)
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr: this call opens the count again
            cache.add(key, 1, WINDOW_SECONDS + 5)
            count = 1
        except Exception:  # noqa: BLE001 - the cache is down; let the call through rather than fail it
            logger.warning("API rate limit not counted: the cache is unreachable")
            return True
        return count <= settings.API_RATE_LIMIT_PER_MINUTE

    def wait(self) -> float:
        return max(self.retry_after, 1)
