"""Load: the production-like stack on loopback, 50 board viewers while ingestion pushes posts, for a bounded time.

Starts gunicorn (config.wsgi, production settings) and two Celery workers on 127.0.0.1, against a bench database
on PostgreSQL and a Redis database of its own. Then, for ``--seconds`` (default 60, at most 300):

- ``--viewers`` threads (default 50) each hold a logged-in session and do what an open board tab does: every
  ``--think`` seconds (default 5, the board's own refresh) fetch the live JSON (tiles), the queue and the five
  charts, each in full (light updates would send less: bench/board_bytes.py measures that);
- an ingestion thread sends, every ``--batch-every`` seconds (default 0.5), a batch sized for ``--rate`` posts/s
  (default 1,000) to the two workers through Redis, as a poll bringing back 5 full pages of 100 would: customer
  mentions of the brand, one in five answered by the brand. Each worker stores its batch with ``posts_ingest``
  (bench/_load_tasks.py) and records when it committed;
- a prober reads the "Mentions" tile every 100 ms to time how long a stored post takes to show on the board.

It prints board latency (p50/p95/max), ingestion lag (batch committed -> counted by the board's JSON, and batch
sent -> counted, which adds the time in the queue), errors, the achieved ingestion rate and posts stored versus
sent (must be equal; after the run the bench waits up to 120 s for the queue to drain). Every subprocess is
terminated at the end, also on Ctrl-C or failure.

    .venv/bin/python bench/load.py                 # 60 s
    .venv/bin/python bench/load.py --seconds 300   # the issue's 5-minute run

The bench database (default hotline_load_bench, created if missing) has its bench brand replaced on every run:
never point --database-url at a database you care about. The Redis database (default 12) is emptied at the start
of every run: never point --redis-url at one you care about either.
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
DRAIN_LIMIT = 120
ANALYZE_EVERY = 20  # seconds; only when the server's autovacuum is off
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
    from django.db import connection

    with connection.cursor() as cursor:  # a past run's rows are gone: start from clean tables and statistics
        cursor.execute("VACUUM ANALYZE socialfeed_post, socialfeed_mention, socialfeed_minuterollup, "
                       "socialfeed_minutefrtcount")
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
                                 "-w", "4", "--threads", "8", "-k", "gthread", "--keep-alive", "10"])
        for n in (1, 2):
            self._spawn(f"worker{n}", [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                                       "-n", f"load{n}@%h", "--without-gossip", "--without-mingle",
                                       "-I", "_load_tasks", "--loglevel=WARNING"])
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
    parser.add_argument("--think", type=float, default=5.0, help="seconds between a viewer's refreshes")
    parser.add_argument("--batch-every", type=float, default=0.5, help="seconds between ingestion batches")
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")

    ensure_database(args.database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": secrets.token_urlsafe(48), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "LOG_LEVEL": "WARNING",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "bench"), os.environ.get("PYTHONPATH")]))}
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # the bench's own database: no batches left from a past run
    incident_id, session_key = _setup(env)
    port = _free_port()
    log_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"hotline-load-{port}"
    log_dir.mkdir(exist_ok=True)
    stack = Stack(env, port, log_dir)
    try:
        stack.start()
        # The viewers and the ingestion feeder stand for browsers and platforms, which live on other machines:
        # on a shared box they yield the CPU to the stack under test (its processes keep their priority).
        os.nice(10)
        report = _run(args, port=port, incident_id=incident_id, session_key=session_key)
    finally:
        stack.stop()
    _print(args, report)


def _run(args, *, port: int, incident_id: int, session_key: str) -> dict:
    import random

    import redis
    import requests
    from _load_tasks import COMMITS_KEY, MENTIONS_KEY
    from django.conf import settings
    from django.utils import timezone

    from config.celery import app
    from socialfeed.models import Post

    bench_redis = redis.Redis.from_url(settings.REDIS_URL)
    bench_redis.delete(COMMITS_KEY, MENTIONS_KEY)
    base = f"http://127.0.0.1:{port}/incidents/{incident_id}"
    headers = {"Cookie": f"sessionid={session_key}", "X-Forwarded-Proto": "https"}
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def viewer(n: int) -> None:
        session = requests.Session()
        urls = [f"{base}/live.json", f"{base}/queue.json"] + [
            f"{base}/charts/{c}.json" for c in ("volume", "frt", "within", "tone", "official")]
        stop.wait(random.Random(n).uniform(0, args.think))  # tabs were not all opened at the same instant
        while not stop.is_set():
            refresh_started = time.monotonic()
            for url in urls:
                started = time.perf_counter()
                try:
                    response = session.get(url, headers=headers, timeout=30, allow_redirects=False)
                    problem = "" if response.status_code == 200 else f"{response.status_code} {url}"
                except requests.RequestException as exc:
                    problem = f"{type(exc).__name__} {url}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)
            stop.wait(max(0.0, args.think - (time.monotonic() - refresh_started)))

    sends: list[tuple[float, int]] = []  # (sent at, wall clock; mentions sent so far)
    sent = 0

    def ingester() -> None:
        nonlocal sent
        per_batch = max(1, round(args.rate * args.batch_every))
        ids = itertools.count(1)
        next_at = time.monotonic()
        mentions = 0
        while not stop.is_set():
            now = timezone.now().isoformat()
            posts = []
            for _ in range(per_batch):
                n = next(ids)
                if n % 5 == 0:  # the brand answers the mention before it
                    posts.append({"platform": "x", "platform_id": f"load-{n}", "author_id": USER_ID,
                                  "author_handle": HANDLE, "created_at": now,
                                  "text": "@customer sorry, we are on it", "in_reply_to_id": f"load-{n - 1}",
                                  "in_reply_to_author_id": f"c{n - 1}", "conversation_id": f"load-{n - 1}"})
                else:
                    mentions += 1
                    posts.append({"platform": "x", "platform_id": f"load-{n}", "author_id": f"c{n}",
                                  "author_handle": f"customer{n}", "created_at": now,
                                  "text": f"@{HANDLE} still no signal in Lyon ({n})", "conversation_id": f"load-{n}"})
            app.send_task("hotline_bench.ingest_batch", args=[posts])
            sent += len(posts)
            sends.append((time.time(), mentions))
            next_at += args.batch_every
            stop.wait(max(0.0, next_at - time.monotonic()))

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0] == "on"
    connection.close()

    def analyser() -> None:
        """Stands in for autovacuum's ANALYZE where the server runs without it (as this development machine's
        does): tables growing by 1,000 rows a second from empty would otherwise keep the planner's first,
        empty-table estimates and scan whole tables for every batch."""
        while not stop.wait(ANALYZE_EVERY):
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE socialfeed_post, socialfeed_mention, socialfeed_minuterollup, "
                               "socialfeed_minutefrtcount")
        connection.close()

    seen: list[tuple[float, int]] = []  # (probe time, wall clock; mentions the board counts)

    def prober() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                tiles = session.get(f"{base}/live.json", headers=headers, timeout=30).json()["full"]["tiles"]
                value = next(t["value"] for t in tiles if t["key"] == "mentions")
                count = int("".join(ch for ch in str(value) if ch.isdigit()))
                seen.append((time.time(), count))
            except Exception:  # noqa: BLE001 - the viewers count errors; the prober only times visibility
                pass
            stop.wait(0.1)

    threads = [threading.Thread(target=viewer, args=(n,), daemon=True) for n in range(args.viewers)]
    threads += [threading.Thread(target=ingester, daemon=True), threading.Thread(target=prober, daemon=True)]
    if not autovacuum:
        threads.append(threading.Thread(target=analyser, daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    duration = time.monotonic() - started

    # The queue drains: every batch sent must end up stored (bounded wait).
    drain_started = time.monotonic()
    in_db = 0
    while time.monotonic() - drain_started < DRAIN_LIMIT:
        in_db = Post.objects.filter(platform_id__startswith="load-").count()
        if in_db >= sent:
            break
        time.sleep(0.5)
    drain = time.monotonic() - drain_started
    while bench_redis.llen(COMMITS_KEY) < len(sends) and time.monotonic() - drain_started < DRAIN_LIMIT:
        time.sleep(0.1)  # the last worker records its commit just after the database shows it
    commits, store_times = [], []
    for item in bench_redis.lrange(COMMITS_KEY, 0, -1):
        at, total, took = item.decode().split(",")
        commits.append((float(at), int(total)))
        store_times.append(float(took))

    def lags(events: list[tuple[float, int]]) -> tuple[list[float], int]:
        """For each (moment, mentions so far), the first probe after it that counts at least that many."""
        found, unseen = [], 0
        for moment, mentions in events:
            probe = next((p for p in seen if p[0] >= moment and p[1] >= mentions), None)
            if probe is None:
                unseen += 1
            else:
                found.append(probe[0] - moment)
        return found, unseen

    commit_lags, unseen_commits = lags(sorted(commits))
    send_lags, unseen_sends = lags(sends)
    return {"duration": duration, "latencies": latencies, "errors": errors, "commit_lags": commit_lags,
            "send_lags": send_lags, "unseen": max(unseen_commits, unseen_sends), "sent": sent,
            "batches": len(sends), "committed_batches": len(commits),
            "in_db": in_db, "drain": drain, "store_times": store_times, "autovacuum": autovacuum}


def _print(args, r: dict) -> None:
    lat = [x * 1000 for x in r["latencies"]]
    commit_lags = [x * 1000 for x in r["commit_lags"]]
    send_lags = [x * 1000 for x in r["send_lags"]]

    def spread(values: list[float]) -> str:
        return (f"p50 {_percentile(values, 0.5):.0f}  p95 {_percentile(values, 0.95):.0f}  "
                f"max {max(values, default=float('nan')):.0f}")

    print(f"Hotline load run: {r['duration']:.0f} s, {args.viewers} board viewers refreshing every {args.think:g} s, "
          f"target {args.rate} posts/s in batches every {args.batch_every:g} s, 2 workers")
    if not r["autovacuum"]:
        print(f"(this PostgreSQL runs with autovacuum off: the bench ran ANALYZE every {ANALYZE_EVERY} s in its place)")
    print(f"board requests      {len(lat)} ({len(lat) / r['duration']:.0f}/s)")
    print(f"board latency ms    {spread(lat)}")
    print(f"board errors        {len(r['errors'])}" + (f" (first: {r['errors'][0]})" if r["errors"] else ""))
    print(f"ingestion sent      {r['sent'] / r['duration']:.0f} posts/s ({r['batches']} batches)")
    print(f"ingestion stored    {r['committed_batches']} batches committed; the queue drained "
          f"{r['drain']:.1f} s after the run")
    store_ms = [x * 1000 for x in r["store_times"]]
    posts_per_batch = r["sent"] / max(1, r["batches"])
    busy = sum(r["store_times"])
    print(f"storing a batch ms  {spread(store_ms)}  (posts_ingest in a worker, lock wait included; "
          f"{r['sent'] / busy if busy else float('nan'):.0f} posts per second of storing, "
          f"{posts_per_batch:.0f} posts per batch)")
    print(f"stored rate         {r['in_db'] / (r['duration'] + r['drain']):.0f} posts/s over the run and the drain")
    print(f"lag stored->board ms {spread(commit_lags)}")
    print(f"lag sent->board ms   {spread(send_lags)}  (includes time queued for a worker; "
          f"{r['unseen']} last batches not probed)")
    print(f"posts sent/stored   {r['sent']} sent, {r['in_db']} in the database"
          f" -> {'EQUAL' if r['sent'] == r['in_db'] else 'MISMATCH'}")
    if r["errors"] or r["sent"] != r["in_db"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
