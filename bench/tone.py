"""Posts per second of Hotline's two tone tiers and of VADER on the same 10,000 real posts, on one core, in one
run; then how long the accurate tier's ``tone`` workers take to drain an outage's backlog, with 1 and 2 workers.

- Fast tier (inline at ingestion) and VADER: one post at a time (``analyse``) and in batches of 2,000
  (``analyse_many``, as ingestion scores a batch).
- Accurate tier (the optional extra, requirements-accurate.txt): in batches of 32, as a ``tone`` worker reads
  them, one encoder thread.
- Drain: ``--drain-posts`` mentions of one incident are stored through the real pipeline on PostgreSQL, then
  1 and then 2 real ``celery worker -Q tone`` processes (solo pool, one encoder thread each) re-read them;
  timed from the first dispatch to the last post read. The 50k-mention outage's drain time is that rate
  applied to 50,000 mentions (pass ``--drain-posts 50000`` to time it whole).

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_tone_bench REDIS_URL=redis://127.0.0.1:6379/0 \
     .venv/bin/python bench/tone.py [--data FOLDER] [--accurate-posts 10000] [--drain-posts 2000]
The database named in DATABASE_URL is created if missing and its posts are deleted: never point it at a
database you care about; the Redis database is emptied. The posts are customer tweets in English (airline,
TWCS) and French (Free), as ingestion would see them.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HOTLINE_TONE_ENCODER_THREADS", "1")  # one core: the encoder's own threads stay at one

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POSTS = 10_000
BATCH = 2_000


def sample_posts(data: Path) -> list[str]:
    texts: list[str] = []
    sources = [
        (data / "twitter_us_airline_sentiment" / "Tweets.csv", "text"),
        (data / "twcs" / "twcs_random_sample_divya-gh.csv", "text"),
        (data / "free_mobile_fr_tweets" / "free_tweet_export.csv", "text"),
    ]
    for path, column in sources:
        with open(path, encoding="utf-8", newline="") as handle:
            texts.extend(row[column] for row in csv.DictReader(handle))
    # Interleave so both analysers see the same English/French mix at every point of the run.
    texts = texts[::2] + texts[1::2]
    return (texts * (POSTS // len(texts) + 1))[:POSTS]


def posts_per_second(analyser, texts: list[str]) -> float:
    analyser.analyse(texts[0])  # load outside the timing, as a running worker would have
    started = time.perf_counter()
    for text in texts:
        analyser.analyse(text)
    return len(texts) / (time.perf_counter() - started)


def batch_posts_per_second(analyser, texts: list[str]) -> float:
    hints = [""] * len(texts)
    analyser.analyse_many(texts[:BATCH], hints[:BATCH])  # warm, as a running worker would be
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        analyser.analyse_many(texts[start : start + BATCH], hints[start : start + BATCH])
    return len(texts) / (time.perf_counter() - started)


ACCURATE_BATCH = 32


def accurate_posts_per_second(analyser, texts: list[str]) -> float:
    analyser.analyse_many(texts[:ACCURATE_BATCH])  # the engine mapped and warm, as in a running worker
    started = time.perf_counter()
    for start in range(0, len(texts), ACCURATE_BATCH):
        analyser.analyse_many(texts[start : start + ACCURATE_BATCH])
    return len(texts) / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to tell the work from a busy machine's waiting."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(texts: list[str], posts: int, workers: int) -> tuple[float, float]:
    """Seconds for ``workers`` real tone workers to re-read ``posts`` freshly stored mentions of one incident,
    and the CPU seconds the workers spent doing it."""
    from datetime import UTC, datetime, timedelta

    import redis
    from celery import Celery
    from django.conf import settings
    from django.db import connection

    from incidents.models import Brand, Incident, OfficialAccount, TrackingTerm
    from socialfeed.models import Post
    from socialfeed.normalised import NormalisedPost
    from socialfeed.services import posts_ingest
    from socialfeed.tone.accurate import accurate_analyser

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE socialfeed_mention, socialfeed_minuterollup, socialfeed_post RESTART IDENTITY CASCADE")
    Brand.objects.filter(slug="bench-tone-ondine").delete()
    brand = Brand.objects.create(name="Bench Ondine", slug="bench-tone-ondine")
    OfficialAccount.objects.create(brand=brand, platform="x", handle="BenchOndine", platform_user_id="900001")
    TrackingTerm.objects.create(brand=brand, term="Ondine")
    start = datetime.now(UTC) - timedelta(days=1)  # an outage of yesterday: the re-read follows recent posts
    Incident.objects.create(brand=brand, title="Bench outage", started_at=start, ended_at=start + timedelta(days=1))
    batch = []
    for n in range(posts):
        batch.append(NormalisedPost(platform="x", platform_id=str(10**12 + n), author_id=str(n % 5000),
                                    author_handle=f"c{n % 5000}", created_at=start + timedelta(seconds=n),
                                    text="@BenchOndine " + texts[n % len(texts)], lang=""))
        if len(batch) == 2000:
            posts_ingest(posts=batch)
            batch = []
    if batch:
        posts_ingest(posts=batch)
    accurate = accurate_analyser().analyser_id
    stored = Post.objects.exclude(tone_analyser=accurate).count()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "TONE_ACCURATE": "true"}
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "tone",
                               "-n", f"bench-tone{i}@%h", "--without-gossip", "--without-mingle",
                               "--without-heartbeat", "--loglevel=WARNING"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(workers)]
    app = Celery("hotline-tone-bench", broker=settings.REDIS_URL)
    try:
        time.sleep(8)  # workers up and the encoder mapped, as in a running deployment
        cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
        started = time.perf_counter()
        app.send_task("socialfeed.tasks.tone_reread_dispatch", queue="tone")
        while Post.objects.exclude(tone_analyser=accurate).exists():
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a tone worker exited; run it by hand to see why")
            if time.perf_counter() - started > 20 * 60:
                raise SystemExit("gave up after 20 minutes")
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu_before
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        app.close()
        client.flushdb()
    assert stored == posts, (stored, posts)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--accurate-posts", type=int, default=POSTS,
                        help="posts the accurate tier reads (10,000; 0: skip)")
    parser.add_argument("--drain-posts", type=int, default=2000, help="mentions stored for the drain (0: skip)")
    args = parser.parse_args()

    if args.drain_posts:
        sys.path.insert(0, str(REPO / "bench"))
        from _database import django_ready

        django_ready(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotline_tone_bench"))
    from socialfeed.tone.accurate import accurate_analyser, installed
    from socialfeed.tone.analysers import load_model, vader_analyser
    from socialfeed.tone.training import default_data_dir

    data = args.data or default_data_dir()
    texts = sample_posts(data)
    started = time.perf_counter()
    default = load_model()
    load_seconds = time.perf_counter() - started
    vader = vader_analyser()
    rows = [
        (default.analyser_id, posts_per_second(default, texts), batch_posts_per_second(default, texts)),
        (vader.analyser_id, posts_per_second(vader, texts), batch_posts_per_second(vader, texts)),
    ]
    print(f"{len(texts):,} posts, one core, batches of {BATCH:,}")
    print(f"model load      {load_seconds * 1000:8.0f} ms")
    print(f"{'analyser':34} {'single posts/s':>15} {'batch posts/s':>15}")
    for name, single, batch in rows:
        print(f"{name:34} {single:15,.0f} {batch:15,.0f}")
    print(f"{'ratio fast tier / VADER':34} {rows[0][1] / rows[1][1]:15.2f} {rows[0][2] / rows[1][2]:15.2f}")
    if not installed():
        print("accurate tier: not installed here (pip install -r requirements-accurate.txt)")
        return
    accurate = accurate_analyser()
    if args.accurate_posts:
        rate = accurate_posts_per_second(accurate, texts[: args.accurate_posts])
        print(f"{accurate.analyser_id:34} {'':>15} {rate:15,.1f}  ({args.accurate_posts:,} posts, batches of "
              f"{ACCURATE_BATCH}, one encoder thread)")
        print(f"{'ratio fast tier / accurate tier':34} {'':>15} {rows[0][2] / rate:15,.0f}")
    if not args.drain_posts:
        return
    print(f"\nbacklog drain: {args.drain_posts:,} stored mentions of one incident, real tone workers on PostgreSQL")
    print("(wall clock on this machine as it is; 'per CPU-s' is posts per CPU-second the workers spent, what a")
    print(" worker with a core of its own would reach)")
    print(f"{'workers':>8} {'seconds':>9} {'posts/s':>9} {'50k drained in':>16} {'per CPU-s':>10} "
          f"{'50k, own cores':>15}")
    for workers in (1, 2):
        seconds, cpu = drain(texts, args.drain_posts, workers)
        per_second, per_cpu = args.drain_posts / seconds, args.drain_posts / cpu
        print(f"{workers:>8} {seconds:>9.1f} {per_second:>9.1f} {50_000 / per_second / 60:>12.1f} min "
              f"{per_cpu:>10.1f} {50_000 / (per_cpu * workers) / 60:>11.1f} min")

if __name__ == "__main__":
    main()
