"""A real ``celery -A config worker`` subprocess for tests, a bounded wait, and the key prefix that keeps a
test run's queues and locks apart on a shared Redis: shared by the polling and reliability tests that need a
worker of their own."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def wait_for(condition, *, what: str, limit: float, every: float = 0.1):
    """Poll ``condition`` until it returns something truthy (returned), failing the test after ``limit`` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"gave up after {limit:g} s waiting for {what}")


class WorkerProcess:
    """A solo-pool worker on one queue, logging to ``log``. ``python_args`` start it: ``-m celery`` by default,
    or ``-c <code>`` for a worker that adjusts something before handing over to Celery's own main."""

    def __init__(self, *, name: str, queue: str, env: dict[str, str], log: Path, wait_limit: float,
                 python_args: tuple[str, ...] = ("-m", "celery")) -> None:
        self.name, self.log, self.wait_limit = name, log, wait_limit
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, *python_args, "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                 "-Q", queue, "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--loglevel=INFO"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_for(lambda: " ready." in self.text() or self.process.poll() is not None, what=f"{self.name} to start",
                 limit=self.wait_limit)
        assert self.process.poll() is None, self.text()

    def finished_tasks(self) -> int:
        return self.text().count("] succeeded in ")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def database_url() -> str:
    """The pytest test database as a DATABASE_URL, for worker and beat subprocesses."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


# What a worker or beat subprocess of a run does before handing over to Celery's own main (``celery -A config
# worker|beat ...`` follows on its command line): the broker (kombu's global_keyprefix) and the poll locks take
# the run's key prefix, and tasks go to the run's own default queue. Product code is otherwise unchanged, and
# every process of a run shares prefix, queue and locks. ``{setup}``: a test's own adjustments.
_PREFIXED_MAIN = """\
import os
import django
django.setup()
from config.celery import app
from socialfeed import locks
prefix = os.environ["HOTLINE_TEST_KEY_PREFIX"]
app.conf.broker_transport_options = {{**app.conf.broker_transport_options, "global_keyprefix": prefix}}
app.conf.task_default_queue = os.environ["HOTLINE_TEST_QUEUE"]
locks.KEY_PREFIX = prefix + locks.KEY_PREFIX
{setup}
from celery.__main__ import main
main()
"""


class RunKeys:
    """Everything one test run writes to the Redis that ``url`` names (a developer's Hotline or other checkouts'
    tests may use it too) lives under ``prefix``, a name no other run uses (hex only, so it is also a literal
    SCAN pattern), on a queue of the run's own. ``clean_up`` deletes exactly the prefix's keys, never a flush,
    and reports any key of the run's queue that landed outside the prefix."""

    def __init__(self, url: str, *, queue: str = "hotline-test-queue") -> None:
        self.url = url
        self.prefix = f"hotline-test-{uuid.uuid4().hex}:"
        self.queue = queue
        self._apps = []

    def env(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, "REDIS_URL": self.url, "HOTLINE_TEST_KEY_PREFIX": self.prefix, "HOTLINE_TEST_QUEUE": self.queue}

    def main(self, setup: str = "") -> str:
        """``python -c`` code that starts Celery's main under the run's prefix and queue (then ``setup``)."""
        return _PREFIXED_MAIN.format(setup=setup)

    def broker(self, name: str, **transport_options):
        """A producer (a Celery app) sending under the prefix, to the run's queue by default."""
        from celery import Celery

        # Not the current app: product code run later in this process would otherwise queue its tasks here.
        app = Celery(name, broker=self.url, set_as_current=False)
        app.conf.broker_transport_options = {**transport_options, "global_keyprefix": self.prefix}
        app.conf.task_default_queue = self.queue
        self._apps.append(app)
        return app

    def worker(self, *, name: str, env: dict[str, str], log: Path, wait_limit: float, setup: str = "",
               queue: str = "") -> WorkerProcess:
        """A worker on the run's queue, or on ``queue`` (a routed queue such as "tone", under the run's prefix)."""
        return WorkerProcess(name=name, queue=queue or self.queue, env=self.env(env), log=log, wait_limit=wait_limit,
                             python_args=("-c", self.main(setup)))

    def clean_up(self) -> list[bytes]:
        import redis

        for app in self._apps:
            app.close()
        client = redis.Redis.from_url(self.url)
        try:
            ours = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            # Another run's prefixed keys are not ours to judge: a leak is a key of the queue without any prefix.
            leaked = [key for key in client.scan_iter(match=f"*{self.queue}*", count=1000)
                      if not key.startswith(b"hotline-test-")]
            if ours:
                client.delete(*ours)
        finally:
            client.close()
        return leaked
