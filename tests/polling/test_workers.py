"""Real Celery workers on Redis and PostgreSQL: two workers racing for one source, and a worker killed mid-poll.

Each worker is a ``celery -A config worker`` subprocess (solo pool, concurrency 1) on the Redis that
``REDIS_URL`` names, reading the pytest test database. Redis may be shared (a developer's Hotline, other
checkouts' tests): everything these workers and the test's producer write there (queues, unacknowledged tasks,
bindings, poll locks) lives under a key prefix of this run only, and teardown deletes exactly those keys. Nothing
is flushed. Every wait is bounded; workers are terminated in fixture teardown.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.utils import timezone

from socialfeed.locks import lock_key
from socialfeed.models import Post, Source
from tests.celery_worker import RunKeys, WorkerProcess, database_url, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent.parent
VISIBILITY_TIMEOUT = 4
LOCK_TTL = 3
WAIT_LIMIT = 40


def _wait_for(condition, *, what: str, limit: float = WAIT_LIMIT):
    return wait_for(condition, what=what, limit=limit)


@pytest.fixture
def broker(run_keys: RunKeys) -> Celery:
    """A producer on REDIS_URL under the run's key prefix (run_keys deletes exactly its keys afterwards)."""
    return run_keys.broker("hotline-polling-test", visibility_timeout=VISIBILITY_TIMEOUT)


@pytest.fixture
def start_worker(tmp_path, broker, run_keys):
    workers: list[WorkerProcess] = []

    def _start(name: str) -> WorkerProcess:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url(),
               "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "SOURCE_LOCK_TTL_SECONDS": str(LOCK_TTL),
               "DB_CONN_MAX_AGE": "0"}
        worker = run_keys.worker(name=name, env=env, log=tmp_path / f"{name}.log", wait_limit=WAIT_LIMIT)
        workers.append(worker)
        return worker

    yield _start
    for worker in workers:
        worker.stop()


def _queue_poll(broker: Celery, source_id: int, requested_at) -> None:
    broker.send_task("socialfeed.tasks.poll_source", args=[source_id],
                     kwargs={"requested_at": requested_at.isoformat()})  # to the run's own queue


def test_two_workers_racing_for_one_source_fetch_it_once_and_store_each_post_once(
        broker, start_worker, feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(3)
    server.delay_seconds = 1.5  # long enough for the second worker to arrive while the first is fetching
    source = make_feed_source(server.url)
    workers = [start_worker("racer-a"), start_worker("racer-b")]
    for worker in workers:
        worker.wait_ready()

    requested_at = timezone.now()
    for _ in range(6):
        _queue_poll(broker, source.pk, requested_at)
    _wait_for(lambda: sum(w.finished_tasks() for w in workers) >= 6, what="the six polls to finish")

    assert all(w.finished_tasks() >= 1 for w in workers), "both workers should have taken part in the race"
    assert server.max_in_flight == 1
    assert server.requests == 1  # the others found the source busy, then already polled since they were asked
    assert Post.objects.filter(source=source).count() == 3
    assert Post.objects.values("platform_id").distinct().count() == 3
    source.refresh_from_db()
    assert source.cursor == server.newest_cursor and source.posts_stored == 3


def test_a_worker_killed_mid_fetch_loses_nothing(broker, start_worker, feed_server, make_feed_source, run_keys):
    server = feed_server()
    server.add_entries(3)
    server.hold()  # the platform is slow: the first fetch hangs until we release it
    source = make_feed_source(server.url)
    victim = start_worker("victim")
    victim.wait_ready()

    _queue_poll(broker, source.pk, timezone.now())
    _wait_for(server.first_request_seen.is_set, what="the victim to start fetching")
    delivered_at = time.monotonic()
    victim.process.kill()  # SIGKILL: no acknowledgement, no lock release, no cleanup
    victim.process.wait(timeout=10)
    # The dead worker's poll lock is left behind (it expires within LOCK_TTL), under the run's prefix only.
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        assert client.exists(run_keys.prefix + lock_key(source.pk)) and not client.exists(lock_key(source.pk))
    server.add_entries(1)  # the platform moves on while no worker is polling
    server.release()
    # The broker hands an unacknowledged task to a worker once the visibility timeout has passed; a worker
    # restores such tasks when it starts. Start the replacement only then, so the test does not hang on the
    # broker's periodic sweep (minutes).
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
    survivor = start_worker("survivor")
    survivor.wait_ready()

    _wait_for(lambda: Source.objects.filter(pk=source.pk, last_success_at__isnull=False).exists(),
              what="the redelivered poll to succeed")

    source.refresh_from_db()
    assert source.cursor == server.newest_cursor
    assert Post.objects.filter(source=source).count() == 4
    assert Post.objects.values("platform_id").distinct().count() == 4
    assert server.requests == 2  # the killed fetch, and the redelivered one
    assert source.posts_stored == 4
