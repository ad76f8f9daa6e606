"""Real Celery workers on Redis and PostgreSQL: two workers racing for one source, and a worker killed mid-poll.

Each worker is a ``celery -A config worker`` subprocess (solo pool, concurrency 1) on its own Redis database and
queue, reading the pytest test database. Every wait is bounded; workers are terminated in fixture teardown.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from socialfeed.models import Post, Source
from tests.celery_worker import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent.parent
REDIS_DB = int(os.environ.get("HOTLINE_TEST_REDIS_DB", "13"))  # a database of its own: never a developer's queues
QUEUE = "hotline-test-polling"
VISIBILITY_TIMEOUT = 4
LOCK_TTL = 3
WAIT_LIMIT = 40


def _redis_url() -> str:
    parsed = urlparse(settings.REDIS_URL)
    return urlunparse(parsed._replace(path=f"/{REDIS_DB}"))


def _database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _wait_for(condition, *, what: str, limit: float = WAIT_LIMIT):
    return wait_for(condition, what=what, limit=limit)


def Worker(name: str, log_dir: Path) -> WorkerProcess:  # noqa: N802 - reads as the class it builds
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url(),
           "REDIS_URL": _redis_url(), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
           "SOURCE_LOCK_TTL_SECONDS": str(LOCK_TTL), "DB_CONN_MAX_AGE": "0"}
    return WorkerProcess(name=name, queue=QUEUE, env=env, log=log_dir / f"{name}.log", wait_limit=WAIT_LIMIT)


@pytest.fixture
def broker():
    """A producer on the test Redis database, and that database emptied before and after."""
    client = redis.Redis.from_url(_redis_url())
    client.flushdb()
    app = Celery("hotline-polling-test", broker=_redis_url())
    app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT}
    yield app
    app.close()
    client.flushdb()
    client.close()


@pytest.fixture
def start_worker(tmp_path, broker):
    workers: list[Worker] = []

    def _start(name: str) -> Worker:
        worker = Worker(name, tmp_path)
        workers.append(worker)
        return worker

    yield _start
    for worker in workers:
        worker.stop()


def _queue_poll(broker: Celery, source_id: int, requested_at) -> None:
    broker.send_task("socialfeed.tasks.poll_source", args=[source_id],
                     kwargs={"requested_at": requested_at.isoformat()}, queue=QUEUE)


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


def test_a_worker_killed_mid_fetch_loses_nothing(broker, start_worker, feed_server, make_feed_source):
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
