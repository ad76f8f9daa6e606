"""A real ``celery -A config worker`` subprocess for tests, and a bounded wait: shared by the polling and
reliability tests that need a worker of their own."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
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
