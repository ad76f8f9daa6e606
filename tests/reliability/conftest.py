"""Private servers for fault tests: a Redis and a PostgreSQL cluster of the test's own, started, killed and
restarted at will, so nothing else (a developer's Hotline, the PostgreSQL on 5432 other tests use) is disturbed.
The status-feed server comes from tests/polling."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis

from tests.polling.conftest import feed_server, make_feed_source  # noqa: F401 - fixtures shared with polling

START_LIMIT_SECONDS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """``redis-server`` on a free loopback port, without persistence; ``stop`` kills it, ``start`` brings it back
    on the same port (empty, as after a crash of an in-memory Redis)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        pytest.fail("the private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=START_LIMIT_SECONDS)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free loopback port: trust auth, fsync off (its data dies with the
    test), one database ``hotline``. PostgreSQL refuses to run as root, so as root every server command runs as
    the ``postgres`` OS user; otherwise as the current user."""

    def __init__(self, bindir: Path, run_as: str | None) -> None:
        self.bindir = bindir
        self.run_as = run_as
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        if run_as is not None:
            user = pwd.getpwnam(run_as)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/hotline"

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="hotline",
                               autocommit=autocommit, connect_timeout=START_LIMIT_SECONDS)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            pytest.fail(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}{log}")

    def _pg_ctl(self, action: str, *options: str) -> None:
        server_options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off")
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", str(START_LIMIT_SECONDS), "-o", server_options, *options)

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self._pg_ctl("start")
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE hotline")

    def restart(self) -> None:
        """Stop (``fast``: every session is cut, open transactions roll back) and start again; returns once it
        accepts connections."""
        self._pg_ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bindir() -> Path | None:
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True,
                         key=lambda d: [int(part) for part in Path(d).parent.name.split(".") if part.isdigit()]):
        if all((Path(bindir) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(bindir)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found and shutil.which("initdb") else None


@pytest.fixture
def private_postgres():
    """A PostgreSQL cluster of this test's own, with an empty database ``hotline``; destroyed afterwards."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres OS user to run a private PostgreSQL as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser is missing: cannot start PostgreSQL as postgres")
        run_as = "postgres"
    cluster = PrivatePostgres(bindir, run_as)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()
