"""PostgreSQL restarts while a poll is storing its batch: the task fails, Celery retries it, the retry succeeds,
and the batch ends up stored whole and once; no part of it was ever visible before that.

Everything runs on servers of the test's own: a private PostgreSQL cluster (the one restarted), a private Redis
(broker and poll locks) and a local status feed; a real ``celery worker`` subprocess polls. The PostgreSQL on
5432 that the rest of the suite uses is never touched.

"While storing", deterministically: a trigger the test adds to the private database makes the insert of the
batch's last post wait for an advisory lock the test holds, whatever order or grouping the rows come in. The
test sees the worker waiting in ``pg_stat_activity`` with the rest of the batch written, checks from outside
that none of it is visible, then restarts PostgreSQL, which cuts the worker's session and rolls its
transaction back. Product code runs unchanged; every wait is bounded.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from celery import Celery

from tests.celery_worker import WorkerProcess, wait_for

pytestmark = pytest.mark.postgres  # runs in CI's PostgreSQL + Redis pass, beside the other real-service tests

REPO = Path(__file__).resolve().parent.parent.parent
QUEUE = "hotline-test-pg-restart"
BATCH = 200  # one poll's worth of status updates, all in one ingest transaction
WAIT_LIMIT = 30
# The worker keeps Celery's real retry path (exception, broker, countdown) but with a first backoff of about
# 0.5 s instead of 10 s, so the test stays fast; socialfeed.tasks reads the constant at retry time.
WORKER_MAIN = """\
import django
django.setup()
from socialfeed import tasks
tasks.BACKOFF_BASE_SECONDS = 0.5
from celery.__main__ import main
main()
"""
SOURCE_SETUP = """\
import django
django.setup()
import os
from django.core.management import call_command
from incidents.models import Brand, OfficialAccount
from socialfeed.models import Source
call_command("migrate", verbosity=0)
brand = Brand.objects.create(name="Ondine Mobile", slug="ondine", time_zone="Europe/Paris", languages=["fr", "en"])
OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile")
source = Source.objects.create(name="Ondine status page", platform="feed", kind="status_feed", brand=brand,
                               query=os.environ["FEED_URL"], interval_seconds=60)
print(source.pk)
"""
PAUSE_LOCK_KEY = 7_000_007  # the test's advisory lock; Hotline's own keys are far from it
# Counts every row offered to the posts table (a sequence is not rolled back), and makes the batch's last row
# wait for PAUSE_LOCK_KEY; the retry's rows count on past BATCH and go through.
PAUSE_AT_LAST_POST = f"""
CREATE SEQUENCE hotline_test_posts_offered;
CREATE FUNCTION hotline_test_pause_at_last_post() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('hotline_test_posts_offered') = {BATCH} THEN
        PERFORM pg_advisory_xact_lock_shared({PAUSE_LOCK_KEY});
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER hotline_test_pause BEFORE INSERT ON socialfeed_post
    FOR EACH ROW EXECUTE FUNCTION hotline_test_pause_at_last_post();
"""
# The worker, inserting the batch's last post and waiting for the test's lock.
WORKER_PAUSED_AT_LAST_POST = """
SELECT a.pid FROM pg_stat_activity a
WHERE a.datname = 'hotline' AND a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'
  AND a.query LIKE 'INSERT INTO "socialfeed_post"%'
"""


def _wait_for(condition, *, what: str, limit: float = WAIT_LIMIT):
    return wait_for(condition, what=what, limit=limit, every=0.05)


def _hotline_env(private_postgres, private_redis, **extra: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": private_postgres.url,
            "REDIS_URL": private_redis.url, **extra}


@pytest.fixture
def worker(private_postgres, private_redis, tmp_path):
    """A Celery worker on the private PostgreSQL and Redis; stopped before either server goes away."""
    started = WorkerProcess(name="pg-restart", queue=QUEUE, env=_hotline_env(private_postgres, private_redis),
                            log=tmp_path / "worker.log", wait_limit=WAIT_LIMIT, python_args=("-c", WORKER_MAIN))
    yield started
    started.stop()


def _source_state(private_postgres, source_id: int) -> tuple[int, str, int, bool]:
    """(posts stored for the source, its cursor, its posts_stored count, whether a poll has succeeded)."""
    with private_postgres.connect() as conn:
        posts = conn.execute("SELECT count(*) FROM socialfeed_post WHERE source_id = %s", [source_id]).fetchone()[0]
        cursor, counted, succeeded = conn.execute(
            "SELECT cursor, posts_stored, last_success_at IS NOT NULL FROM socialfeed_source WHERE id = %s",
            [source_id]).fetchone()
    return posts, cursor, counted, succeeded


def test_a_postgres_restart_mid_batch_fails_the_poll_which_retries_and_stores_the_batch_once(
        private_postgres, private_redis, worker, feed_server):
    server = feed_server()
    server.add_entries(BATCH)
    setup = subprocess.run([sys.executable, "-c", SOURCE_SETUP], cwd=REPO, capture_output=True, text=True,
                           timeout=120, env=_hotline_env(private_postgres, private_redis, FEED_URL=server.url))
    assert setup.returncode == 0, setup.stderr
    source_id = int(setup.stdout.split()[-1])
    worker.wait_ready()

    # Given a worker storing the batch and paused at its last post...
    pauser = private_postgres.connect()
    pauser.execute(PAUSE_AT_LAST_POST)
    pauser.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK_KEY])
    broker = Celery("hotline-pg-restart-test", broker=private_redis.url)
    broker.send_task("socialfeed.tasks.poll_source", args=[source_id],
                     kwargs={"requested_at": datetime.now(UTC).isoformat()}, queue=QUEUE)
    broker.close()
    _wait_for(lambda: pauser.execute(WORKER_PAUSED_AT_LAST_POST).fetchone() or worker.process.poll() is not None,
              what="the worker to reach the batch's last post")
    assert worker.process.poll() is None, worker.text()
    # ...the posts it has written are not committed: nobody else sees any of them, and the cursor has not moved.
    assert _source_state(private_postgres, source_id) == (0, "", 0, False)

    # When PostgreSQL restarts (the retry's fetch is held so the state in between can be read)...
    server.hold()
    private_postgres.restart()
    pauser.close()
    _wait_for(lambda: server.requests >= 2, what="the failed poll to be retried")
    # ...the interrupted batch left nothing behind and the cursor did not move: the retry fetches it all again.
    assert _source_state(private_postgres, source_id) == (0, "", 0, False)
    server.release()

    # Then the retry stores the whole batch, each post once, and moves the cursor to the newest entry.
    _wait_for(lambda: _source_state(private_postgres, source_id)[3], what="the retried poll to succeed")
    with private_postgres.connect() as conn:
        stored_ids = [row[0] for row in conn.execute(
            "SELECT platform_id FROM socialfeed_post WHERE source_id = %s", [source_id])]
    assert sorted(stored_ids) == sorted(e.entry_id for e in server.entries)
    assert _source_state(private_postgres, source_id) == (BATCH, server.newest_cursor, BATCH, True)
    assert server.requests == 2  # the interrupted poll and its retry
    assert "retry: Retry in" in worker.text()
