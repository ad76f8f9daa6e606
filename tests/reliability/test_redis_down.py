"""Redis stops while Hotline runs: pages keep rendering from the database, pollers pause without fetching, and
when Redis is back polling resumes with every post stored once and none missing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from incidents.models import Incident, Team
from socialfeed.models import Post
from socialfeed.polling import PollStatus, source_poll

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

RESUME_ATTEMPTS = 3  # the first command after a restart may meet the pool's dead connection: beat polls again


@pytest.fixture
def on_private_redis(settings, private_redis):
    """Hotline's cache and locks pointed at the private Redis."""
    settings.REDIS_URL = private_redis.url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": private_redis.url}}
    settings.BOARD_SHARED_SECONDS = 1  # the board shares its figures through that cache, as in production
    return private_redis


def test_pages_keep_rendering_from_the_database_while_redis_is_down(client, on_private_redis, make_brand,
                                                                    make_user):
    team, _ = Team.objects.get_or_create(name="Team A")
    brand = make_brand(name="Ondine Mobile", slug="ondine", team=team)
    incident = Incident.objects.create(brand=brand, title="Data outage", started_at=datetime(2026, 3, 2, tzinfo=UTC))
    client.force_login(make_user(username="a-comms", role="comms", teams=["Team A"]))
    on_private_redis.stop()
    for url in (reverse("incidents:home"), reverse("incidents:board", args=[incident.pk]),
                reverse("incidents:board_live", args=[incident.pk]),
                reverse("incidents:board_chart", args=[incident.pk, "volume"]), reverse("reports:week"),
                reverse("socialfeed:sources")):
        assert client.get(url).status_code == 200, url


def test_polling_pauses_while_redis_is_down_and_resumes_without_duplicates_or_gaps(
        on_private_redis, feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(3)
    source = make_feed_source(server.url)
    assert source_poll(source_id=source.pk).stored == 3

    on_private_redis.stop()
    server.add_entries(2)
    requests_before = server.requests
    paused = source_poll(source_id=source.pk)
    assert paused.status == PollStatus.PAUSED and paused.fetched == 0
    assert server.requests == requests_before  # paused means the platform was not even asked

    server.add_entries(2)
    on_private_redis.start()
    stored = 0
    for _ in range(RESUME_ATTEMPTS):
        outcome = source_poll(source_id=source.pk)
        stored += outcome.stored
        if outcome.status == PollStatus.POLLED:
            break
    assert outcome.status == PollStatus.POLLED and stored == 4
    ids = list(Post.objects.filter(source=source).values_list("platform_id", flat=True))
    assert sorted(ids) == sorted(e.entry_id for e in server.entries)  # all seven, each once
    source.refresh_from_db()
    assert source.cursor == server.newest_cursor
