"""Each token has API_RATE_LIMIT_PER_MINUTE calls per clock minute; the next one answers 429 with Retry-After,
and other tokens are not slowed down by it. With REDIS_URL the count lives in Redis, shared by every process."""
from __future__ import annotations

import pytest

from .conftest import rate_limit_keys

pytestmark = pytest.mark.django_db


def test_it_answers_429_with_retry_after_past_the_limit(world, api_as, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    busy = api_as(world.users_a["analyst"])
    calm = api_as(world.users_a["manager"])
    # All within one minute, unless the clock turns it while the test runs: then a fresh minute starts over.
    codes = [busy.get("/api/v1/brands/").status_code for _ in range(5)]
    assert codes.count(200) in (3, 4, 5) and codes[:3] == [200, 200, 200]
    refused = busy.get("/api/v1/brands/")
    if refused.status_code == 200:  # the minute turned during the test: the next calls are counted afresh
        refused = [busy.get("/api/v1/brands/") for _ in range(4)][-1]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["message"].startswith("Request was throttled.")
    assert calm.get("/api/v1/brands/").status_code == 200  # another token has its own count


def test_each_token_of_one_user_has_its_own_count(world, api_as, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    first, second = api_as(world.users_a["comms"]), api_as(world.users_a["comms"])
    for _ in range(3):
        first.get("/api/v1/brands/")
    assert second.get("/api/v1/brands/").status_code == 200


@pytest.mark.redis
def test_it_counts_in_redis_when_redis_is_configured(world, api_as, settings):
    from incidents.models import ApiToken

    api = api_as(world.users_a["analyst"])
    for _ in range(3):
        api.get("/api/v1/brands/")
    token = ApiToken.objects.get(user=world.users_a["analyst"])
    keys = [k for k in rate_limit_keys(settings) if f"rate:token:{token.pk}:".encode() in k]
    assert keys, "the count must be in Redis, where every web process sees it"


def test_a_dead_cache_lets_calls_through_instead_of_refusing_them(world, api_as, settings, caplog):
    # A Redis that refuses connections (nothing listens on port 1): the API answers, the limit is not counted.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    api = api_as(world.users_a["analyst"])
    assert [api.get("/api/v1/brands/").status_code for _ in range(3)] == [200, 200, 200]
    assert "API rate limit not counted" in caplog.text
