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


# A worker that runs Celery's own main after giving the broker (kombu's global_keyprefix) and the poll locks the
# run's key prefix (HOTLINE_TEST_KEY_PREFIX); product code is otherwise unchanged, and every worker of a run
# shares prefix and locks.
PREFIXED_WORKER_MAIN = """\
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


class RunKeys:
    """Everything one test run writes to the Redis that ``url`` names (a developer's Hotline or other checkouts'
    tests may use it too) lives under ``prefix``, a name no other run uses (hex only, so it is also a literal
    SCAN pattern). ``clean_up`` deletes exactly those keys, never a flush, and reports any key of the run's
    queues that landed outside the prefix."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"hotline-test-{uuid.uuid4().hex}:"
        self._apps = []

    def broker(self, name: str, **transport_options):
        """A producer (a Celery app) sending under the prefix."""
        from celery import Celery

        app = Celery(name, broker=self.url)
        app.conf.broker_transport_options = {**transport_options, "global_keyprefix": self.prefix}
        self._apps.append(app)
        return app

    def worker(self, *, name: str, queue: str, env: dict[str, str], log: Path, wait_limit: float) -> WorkerProcess:
        return WorkerProcess(name=name, queue=queue, env={**env, "REDIS_URL": self.url,
                                                          "HOTLINE_TEST_KEY_PREFIX": self.prefix},
                             log=log, wait_limit=wait_limit, python_args=("-c", PREFIXED_WORKER_MAIN))

    def clean_up(self, *queues: str) -> list[bytes]:
        import redis

        for app in self._apps:
            app.close()
        client = redis.Redis.from_url(self.url)
        try:
            ours = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            leaked = [key for queue in queues for key in client.scan_iter(match=f"*{queue}*", count=1000)
                      if not key.startswith(self.prefix.encode())]
            if ours:
                client.delete(*ours)
        finally:
            client.close()
        return leaked
