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
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from socialfeed.locks import lock_key
from socialfeed.models import Post, Source
from tests.celery_worker import WorkerProcess, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent.parent
QUEUE = "hotline-test-polling"
VISIBILITY_TIMEOUT = 4
LOCK_TTL = 3
WAIT_LIMIT = 40
# The worker runs Celery's own main after giving the broker (kombu's global_keyprefix) and the poll locks the
# run's key prefix; product code is otherwise unchanged, and both workers of a race share prefix and locks.
WORKER_MAIN = """\
import os
import django
django.setup()
from config.celery import app
from socialfeed import locks
prefix = os.environ["HOTLINE_TEST_KEY_PREFIX"]
app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": prefix}
locks.KEY_PREFIX = prefix + locks.KEY_PREFIX
from celery.__main__ import main
main()
"""


@pytest.fixture
def key_prefix() -> str:
    """A prefix no other run, checkout or deployment uses: hex only, so it is also a literal SCAN pattern."""
    return f"hotline-test-{uuid.uuid4().hex}:"


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


def Worker(name: str, log_dir: Path, key_prefix: str) -> WorkerProcess:  # noqa: N802 - reads as the class it builds
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url(),
           "REDIS_URL": settings.REDIS_URL, "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
           "SOURCE_LOCK_TTL_SECONDS": str(LOCK_TTL), "DB_CONN_MAX_AGE": "0", "HOTLINE_TEST_KEY_PREFIX": key_prefix}
    return WorkerProcess(name=name, queue=QUEUE, env=env, log=log_dir / f"{name}.log", wait_limit=WAIT_LIMIT,
                         python_args=("-c", WORKER_MAIN))


@pytest.fixture
def broker(key_prefix):
    """A producer on REDIS_URL under the run's key prefix; afterwards exactly the keys under it are deleted."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    app = Celery("hotline-polling-test", broker=settings.REDIS_URL)
    app.conf.broker_transport_options = {"visibility_timeout": VISIBILITY_TIMEOUT, "global_keyprefix": key_prefix}
    yield app
    app.close()
    ours = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
    # Nothing of the run may have landed outside its prefix (a queue, a binding or a lock under a bare name).
    leaked = [k for k in client.scan_iter(match=f"*{QUEUE}*", count=1000) if not k.startswith(key_prefix.encode())]
    if ours:
        client.delete(*ours)
    client.close()
    assert not leaked, f"keys written outside the run's prefix: {leaked}"


@pytest.fixture
def start_worker(tmp_path, broker, key_prefix):
    workers: list[Worker] = []

    def _start(name: str) -> Worker:
        worker = Worker(name, tmp_path, key_prefix)
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


def test_a_worker_killed_mid_fetch_loses_nothing(broker, start_worker, feed_server, make_feed_source, key_prefix):
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
        assert client.exists(key_prefix + lock_key(source.pk)) and not client.exists(lock_key(source.pk))
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
