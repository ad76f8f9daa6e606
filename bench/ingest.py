"""How fast Hotline's ingestion pipeline stores posts, next to a plain COPY of the same rows, in one run.

Generates N posts of an outage (customers mentioning two brands, the brands replying to a third of them, follow-ups
in the same conversations), then pushes them through the real pipeline on PostgreSQL
(normalise -> store -> match mentions -> link first responses -> tone -> rollups, in batches of 2,000 as pollers
and importers do), and loads the same rows into a scratch copy of the posts table with PostgreSQL's COPY. Prints
posts/s of both, their ratio and the process's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_ingest_bench .venv/bin/python bench/ingest.py --posts 100000

The database named in DATABASE_URL (default hotline_ingest_bench) is created if missing and emptied: never point
it at a database you care about. X's recent search delivers at most 450 requests x 100 posts per 15 minutes
(50 posts/s); the aim is at least 5,000 posts/s on one worker.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _database import django_ready  # noqa: E402  (bench/ is the script folder)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_ingest_bench"
X_SEARCH_POSTS_PER_S = 450 * 100 / (15 * 60)
BATCH = 2000

TEXTS = [
    "{h} plus aucun SMS depuis ce matin, c'est une panne ?", "{h} messaging is down for me too, any update?",
    "{h} toujours rien, ça ne marche pas", "{h} still no texts going through", "{h} merci pour la réponse !",
    "Panne chez {b} ? impossible d'envoyer un message", "{h} how do I activate roaming?",
]


def generate(n: int, seed: int = 7):
    """N posts: 2/3 customer posts mentioning a brand, 1/3 brand replies to an earlier customer post."""
    from socialfeed.normalised import NormalisedPost

    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    brands = [("BenchOndine", "900001", "Ondine"), ("BenchBrisant", "900002", "Brisant")]
    customers = [f"cust{i}" for i in range(max(n // 20, 10))]
    open_posts: list = []
    for i in range(n):
        at = start + timedelta(seconds=i * 0.5)
        pid = str(10**17 + i)
        if open_posts and rng.random() < 1 / 3:
            parent = open_posts.pop(rng.randrange(len(open_posts)))
            handle, uid, _ = brands[int(parent.raw["b"])]
            yield NormalisedPost(platform="x", platform_id=pid, author_id=uid, author_handle=handle, created_at=at,
                                 text=f"@{parent.author_handle} Désolés, nos équipes sont dessus.",
                                 in_reply_to_id=parent.platform_id, in_reply_to_author_id=parent.author_id,
                                 conversation_id=parent.conversation_id, raw={"b": parent.raw["b"]})
            continue
        b = rng.randrange(2)
        handle, uid, name = brands[b]
        author = rng.choice(customers)
        post = NormalisedPost(platform="x", platform_id=pid, author_id=author, author_handle=author, created_at=at,
                              text=rng.choice(TEXTS).format(h=f"@{handle}", b=name), conversation_id=pid,
                              raw={"b": b})
        open_posts.append(post)
        if len(open_posts) > 5000:
            open_posts.pop(0)
        yield post


def reset() -> None:
    from django.db import connection

    from incidents.models import Brand, OfficialAccount, TrackingTerm

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE socialfeed_mention, socialfeed_minuterollup, socialfeed_post RESTART IDENTITY CASCADE")
    Brand.objects.filter(slug__startswith="bench-").delete()
    for handle, uid, name in [("BenchOndine", "900001", "Ondine"), ("BenchBrisant", "900002", "Brisant")]:
        brand = Brand.objects.create(name=f"Bench {name}", slug=f"bench-{name.lower()}")
        OfficialAccount.objects.create(brand=brand, platform="x", handle=handle, platform_user_id=uid)
        TrackingTerm.objects.create(brand=brand, term=name)


def run_pipeline(n: int) -> float:
    from socialfeed.matching import BrandDirectory
    from socialfeed.services import posts_ingest

    directory = BrandDirectory.load()
    batch = []
    started = time.perf_counter()
    for post in generate(n):
        batch.append(post)
        if len(batch) == BATCH:
            posts_ingest(posts=batch, directory=directory)
            batch = []
    if batch:
        posts_ingest(posts=batch, directory=directory)
    return time.perf_counter() - started


def run_copy(n: int) -> float:
    """The same rows, already normalised, into a scratch copy of the posts table with COPY: the floor."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_post_copy")
        cursor.execute("CREATE UNLOGGED TABLE bench_post_copy (LIKE socialfeed_post INCLUDING DEFAULTS)")
        cursor.execute("ALTER TABLE bench_post_copy ALTER COLUMN id DROP NOT NULL")
    columns = ["platform", "platform_id", "author_id", "author_handle", "created_at", "text", "lang",
               "in_reply_to_id", "in_reply_to_author_id", "conversation_id", "is_repost", "url", "raw",
               "first_seen_at", "official_kind", "sentiment_label", "tone_analyser", "category"]
    started = time.perf_counter()
    now = datetime.now(UTC)
    raw_conn = connection.connection
    with raw_conn.cursor() as cur, cur.copy(f"COPY bench_post_copy ({', '.join(columns)}) FROM STDIN") as copy:
        for p in generate(n):
            copy.write_row([p.platform, p.platform_id, p.author_id, p.author_handle, p.created_at, p.text, p.lang,
                            p.in_reply_to_id, p.in_reply_to_author_id, p.conversation_id, p.is_repost, p.url,
                            json.dumps(p.raw), now, "", "", "", ""])
    raw_conn.commit()
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_post_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    django_ready(os.environ.get("DATABASE_URL", DEFAULT_URL))
    from django.db import connection

    from socialfeed.models import Mention, Post

    if connection.vendor != "postgresql":
        sys.exit("bench/ingest.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    reset()
    copy_s = run_copy(args.posts)
    pipeline_s = run_pipeline(args.posts)
    stored, mentions = Post.objects.count(), Mention.objects.count()
    answered = Mention.objects.filter(answered=True).count()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pipeline_rate, copy_rate = args.posts / pipeline_s, args.posts / copy_s
    print(f"posts: {args.posts:,}  stored: {stored:,}  mentions: {mentions:,}  answered: {answered:,}")
    print(f"COPY baseline     : {copy_rate:10,.0f} posts/s ({copy_s:.1f} s)")
    print(f"Hotline pipeline  : {pipeline_rate:10,.0f} posts/s ({pipeline_s:.1f} s)")
    print(f"ratio COPY/pipeline: {copy_rate / pipeline_rate:.1f}x   "
          f"pipeline vs X recent-search ceiling ({X_SEARCH_POSTS_PER_S:.0f} posts/s): "
          f"{pipeline_rate / X_SEARCH_POSTS_PER_S:.0f}x")
    print(f"peak memory (RSS): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
