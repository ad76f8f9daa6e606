"""API tests: two teams and their brands (tests/security's world, whose brand B carries strings found nowhere
else), a token per user, and a client that sends it the way a script does."""
from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.security.conftest import world  # noqa: F401 - the fixture, shared with the isolation walk


class TokenClient:
    """An HTTP client with ``Authorization: Token <token>``, as curl or a BI tool would call the API."""

    def __init__(self, token: str, scheme: str = "Token") -> None:
        self.client = APIClient()
        self.auth = f"{scheme} {token}"

    def get(self, path: str, params: dict | None = None, **extra):
        return self.client.get(path, params or {}, HTTP_AUTHORIZATION=self.auth, **extra)

    def post(self, path: str, body=None, **extra):
        return self.client.post(path, json.dumps(body if body is not None else {}), content_type="application/json",
                                HTTP_AUTHORIZATION=self.auth, **extra)

    def patch(self, path: str, body=None, **extra):
        return self.client.patch(path, json.dumps(body if body is not None else {}),
                                 content_type="application/json", HTTP_AUTHORIZATION=self.auth, **extra)


@pytest.fixture
def token_for(db):
    """token_for(user) -> the raw token of a new personal token of that user."""
    from incidents.tokens import api_token_create

    def _make(user, name="tests"):
        return api_token_create(user=user, name=name)[1]

    return _make


@pytest.fixture
def api_as(token_for):
    """api_as(user) -> a TokenClient calling the API with a new token of that user."""

    def _make(user, scheme="Token"):
        return TokenClient(token_for(user), scheme=scheme)

    return _make


def rate_limit_keys(settings) -> list[bytes]:
    """The rate-limit counters in Redis (only those: the database is shared with the cache)."""
    import redis

    return list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="*hotline:api:rate:*"))


@pytest.fixture(autouse=True)
def _fresh_rate_limit(settings):
    # Each test starts with no rate-limit count (token ids restart with each test database) and a limit that
    # ordinary tests never reach.
    from django.core.cache import cache

    settings.API_RATE_LIMIT_PER_MINUTE = 10_000
    if settings.REDIS_URL:
        import redis

        keys = rate_limit_keys(settings)
        if keys:
            redis.Redis.from_url(settings.REDIS_URL).delete(*keys)
    else:
        cache.clear()
    yield
