"""Load: the production-like stack on loopback, 50 board viewers while ingestion pushes posts, for a bounded time.

Starts gunicorn (config.wsgi, production settings) and two Celery workers on 127.0.0.1, against a bench database
on PostgreSQL and a Redis database of its own. Then, for ``--seconds`` (default 60, at most 300):

- ``--viewers`` threads (default 50) each hold a logged-in session and poll the board's live JSON (tiles and
  queue) and one chart, as an open board tab does, with ``--think`` seconds between polls;
- one ingestion thread calls ``posts_ingest`` every 100 ms with a batch sized for ``--rate`` posts/s (default
  1,000): customer mentions of the brand, one in five answered by the brand;
- a prober reads the "Mentions" tile every 100 ms to time how long a stored post takes to show on the board.

It prints board latency (p50/p95/max), ingestion lag (batch committed -> counted by the board's JSON), errors,
the achieved ingestion rate and posts stored versus sent (must be equal). Every subprocess is terminated at the
end, also on Ctrl-C or failure.

    .venv/bin/python bench/load.py                 # 60 s
    .venv/bin/python bench/load.py --seconds 300   # the issue's 5-minute run

The bench database (default hotline_load_bench, created if missing) has its bench brand replaced on every run:
never point --database-url at a database you care about.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _database import ensure_database  # noqa: E402  (bench/ is the script folder)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/hotline_load_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
MAX_SECONDS = 300
BATCH_EVERY = 0.1
HANDLE, USER_ID = "ondine_load", "4242"
START_LIMIT = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _setup(env: dict[str, str]):
    """Migrate, replace the bench brand, open an ongoing incident; return (incident id, session key)."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from incidents.models import Brand, Incident, OfficialAccount, Team
    from incidents.services import user_create
    from socialfeed.models import Post

    call_command("migrate", verbosity=0)
    Post.objects.filter(platform_id__startswith="load-").delete()
    Brand.objects.filter(slug="ondine-load").delete()
    team, _ = Team.objects.get_or_create(name="Load bench")
    brand = Brand.objects.create(name="Ondine Load", slug="ondine-load", time_zone="Europe/Paris", languages=["en"])
    OfficialAccount.objects.create(brand=brand, platform="x", handle=HANDLE, platform_user_id=USER_ID)
    team.brands.add(brand)
    user = user_create(username="load-viewer", password=secrets.token_urlsafe(16), role="comms",
                       teams=["Load bench"])
    incident = Incident.objects.create(brand=brand, title="Load bench outage",
                                       started_at=timezone.now() - dt.timedelta(minutes=1))
    # A session made here, signed with the same SECRET_KEY as gunicorn's: the viewers skip the login page (and
    # its lockout) and send the cookie themselves, as it is Secure-only in production and they speak plain HTTP.
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return incident.pk, session.session_key


class Stack:
    """gunicorn and two Celery workers as subprocesses; ``stop`` terminates them all (then kills stragglers)."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.env, self.port, self.log_dir = env, port, log_dir
        self.processes: list[subprocess.Popen] = []

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        self.processes.append(subprocess.Popen(args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def start(self) -> None:
        bin_dir = Path(sys.executable).parent
        self._spawn("gunicorn", [str(bin_dir / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{self.port}",
                                 "-w", "4", "--threads", "8", "-k", "gthread"])
        for n in (1, 2):
            self._spawn(f"worker{n}", [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                                       "-n", f"load{n}@%h", "--without-gossip", "--without-mingle",
                                       "--loglevel=WARNING"])
        import requests

        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within {START_LIMIT} s; see {self.log_dir}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=1000, help="target posts per second")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a viewer's polls")
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")

    ensure_database(args.database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": secrets.token_urlsafe(48), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "LOG_LEVEL": "WARNING"}
    incident_id, session_key = _setup(env)
    port = _free_port()
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"hotline-load-{port}"
    log_dir.mkdir(exist_ok=True)
    stack = Stack(env, port, log_dir)
    try:
        stack.start()
        report = _run(args, port=port, incident_id=incident_id, session_key=session_key)
    finally:
        stack.stop()
    _print(args, report)


def _run(args, *, port: int, incident_id: int, session_key: str) -> dict:
    import requests
    from django.db import connection
    from django.utils import timezone

    from socialfeed.models import Post
    from socialfeed.normalised import NormalisedPost
    from socialfeed.services import posts_ingest

    base = f"http://127.0.0.1:{port}/incidents/{incident_id}"
    headers = {"Cookie": f"sessionid={session_key}", "X-Forwarded-Proto": "https"}
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def viewer(n: int) -> None:
        session = requests.Session()
        charts = itertools.cycle(["volume", "frt", "tone", "official"])
        while not stop.is_set():
            for url in (f"{base}/live.json", f"{base}/charts/{next(charts)}.json"):
                started = time.perf_counter()
                try:
                    response = session.get(url, headers=headers, timeout=30, allow_redirects=False)
                    ok = response.status_code == 200
                    problem = "" if ok else f"{response.status_code} {url}"
                except requests.RequestException as exc:
                    problem = f"{type(exc).__name__} {url}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)
            stop.wait(args.think)

    batches: list[tuple[float, int]] = []  # (committed at, mentions stored so far)
    sent = stored = 0
    ingest_errors: list[str] = []

    def ingester() -> None:
        nonlocal sent, stored
        per_batch = max(1, round(args.rate * BATCH_EVERY))
        ids = itertools.count(1)
        next_at = time.monotonic()
        mentions = 0
        while not stop.is_set():
            now = timezone.now()
            posts = []
            for _ in range(per_batch):
                n = next(ids)
                if n % 5 == 0:  # the brand answers the mention before it
                    posts.append(NormalisedPost(
                        platform="x", platform_id=f"load-{n}", author_id=USER_ID, author_handle=HANDLE,
                        created_at=now, text="@customer sorry, we are on it", in_reply_to_id=f"load-{n - 1}",
                        in_reply_to_author_id=f"c{n - 1}", conversation_id=f"load-{n - 1}"))
                else:
                    mentions += 1
                    posts.append(NormalisedPost(
                        platform="x", platform_id=f"load-{n}", author_id=f"c{n}", author_handle=f"customer{n}",
                        created_at=now, text=f"@{HANDLE} still no signal in Lyon ({n})", conversation_id=f"load-{n}"))
            try:
                result = posts_ingest(posts=posts)
                sent += len(posts)
                stored += result.stored
                batches.append((time.monotonic(), mentions))
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                ingest_errors.append(repr(exc))
                sent += len(posts)
            next_at += BATCH_EVERY
            stop.wait(max(0.0, next_at - time.monotonic()))
        connection.close()

    seen: list[tuple[float, int]] = []  # (probe time, mentions the board counts)

    def prober() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                tiles = session.get(f"{base}/live.json", headers=headers, timeout=30).json()["tiles"]
                count = int(next(t["value"] for t in tiles if t["key"] == "mentions"))
                seen.append((time.monotonic(), count))
            except Exception:  # noqa: BLE001 - the viewers count errors; the prober only times visibility
                pass
            stop.wait(0.1)

    threads = [threading.Thread(target=viewer, args=(n,), daemon=True) for n in range(args.viewers)]
    threads += [threading.Thread(target=ingester, daemon=True), threading.Thread(target=prober, daemon=True)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    duration = time.monotonic() - started

    # Lag: for each committed batch, the first probe that counts at least that many mentions.
    lags = []
    probe = 0
    for committed_at, mentions in batches:
        while probe < len(seen) and (seen[probe][0] < committed_at or seen[probe][1] < mentions):
            probe += 1
        if probe < len(seen):
            lags.append(seen[probe][0] - committed_at)
    in_db = Post.objects.filter(platform_id__startswith="load-").count()
    return {"duration": duration, "latencies": latencies, "errors": errors, "lags": lags,
            "unseen_batches": len(batches) - len(lags), "sent": sent, "stored": stored, "in_db": in_db,
            "ingest_errors": ingest_errors}


def _print(args, r: dict) -> None:
    lat = [x * 1000 for x in r["latencies"]]
    lags = [x * 1000 for x in r["lags"]]
    print(f"Hotline load run: {r['duration']:.0f} s, {args.viewers} board viewers (think {args.think:g} s), "
          f"target {args.rate} posts/s")
    print(f"board requests      {len(lat)} ({len(lat) / r['duration']:.0f}/s)")
    print(f"board latency ms    p50 {_percentile(lat, 0.5):.0f}  p95 {_percentile(lat, 0.95):.0f}  "
          f"max {max(lat, default=float('nan')):.0f}")
    print(f"board errors        {len(r['errors'])}" + (f" (first: {r['errors'][0]})" if r["errors"] else ""))
    print(f"ingestion rate      {r['sent'] / r['duration']:.0f} posts/s achieved")
    print(f"ingestion lag ms    p50 {_percentile(lags, 0.5):.0f}  p95 {_percentile(lags, 0.95):.0f}  "
          f"max {max(lags, default=float('nan')):.0f}  (batch committed -> counted on the board; "
          f"{r['unseen_batches']} last batches not yet probed)")
    print(f"posts sent/stored   {r['sent']} sent, {r['stored']} stored by posts_ingest, {r['in_db']} in the database"
          f" -> {'EQUAL' if r['sent'] == r['stored'] == r['in_db'] else 'MISMATCH'}")
    if r["ingest_errors"]:
        print(f"ingestion errors    {len(r['ingest_errors'])} (first: {r['ingest_errors'][0]})")
    if (r["errors"] or r["ingest_errors"] or r["sent"] != r["in_db"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
