"""Benchmark: Hotline's mentions export against PostgreSQL's own COPY, on the same rows and columns.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench .venv/bin/python bench/export.py [--rows 1000000]

Fills the (separate, disposable) bench database with ``--rows`` mentions of one brand (posts, first responses for
about 60 % of them, one incident) using COPY, then, in the same run:
  1. exports them with Hotline's exporter (incidents.exports, the code behind the download button and
     ``manage.py export mentions``) into a sink that only counts bytes;
  2. exports the same columns with ``COPY (SELECT ...) TO STDOUT WITH CSV`` through psycopg.
It prints rows/s of both, their ratio, and Hotline's peak memory: the growth of the process's peak RSS during the
export (resource.getrusage), and with --tracemalloc the peak of Python allocations (slower, so timed apart).
The bench database is emptied of posts and mentions at the start of every run; never point it at real data.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _database import django_ready  # noqa: E402  (bench/ is the script folder)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench"
START = datetime(2026, 1, 5, tzinfo=UTC)
WORDS = ("réseau", "coupé", "panne", "internet", "down", "since", "this", "morning", "help", "merci", "app",
         "login", "4G", "fibre", "box", "still", "nothing", "works", "again", "please", "=1+1", "-", "\"quoted\"")


def _copy_rows(cursor, model, rows, fields: list[str]) -> None:
    """COPY rows (tuples in ``fields`` order) into the model's table; other columns get their model default."""
    columns = [f for f in model._meta.concrete_fields if f.column != "id"]
    defaults = {}
    for f in columns:
        if f.column not in fields and not f.null:
            value = f.get_default()
            defaults[f.column] = "{}" if isinstance(value, dict) else ("t" if value is True else
                                                                        "f" if value is False else str(value))
    names = fields + list(defaults)
    tail = tuple(defaults.values())
    sql = f"COPY {model._meta.db_table} (id, {', '.join(names[1:])}) FROM STDIN"
    assert names[0] == "id"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row + tail)


def generate(*, rows: int, seed: int = 7) -> tuple[int, float]:
    """Fill the bench database with ``rows`` mentions of one brand through COPY. Returns (brand id, seconds)."""
    from django.db import connection

    from incidents.models import Brand, Incident, OfficialAccount
    from socialfeed.models import Mention, Post

    began = time.perf_counter()
    rng = random.Random(seed)
    with connection.cursor() as c:
        c.execute("TRUNCATE socialfeed_mention, socialfeed_post RESTART IDENTITY CASCADE")
    Incident.objects.all().delete()
    Brand.objects.filter(slug="bench-mobile").delete()
    brand = Brand.objects.create(name="Bench Mobile", slug="bench-mobile", time_zone="Europe/Paris")
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle="bench_mobile", platform_user_id="1")
    Incident.objects.create(brand=brand, title="Bench outage", started_at=START + timedelta(days=3),
                            ended_at=START + timedelta(days=3, hours=6))
    answered = [rng.random() < 0.6 for _ in range(rows)]
    frts = [rng.randint(20, 30000) if a else None for a in answered]
    times = [START + timedelta(seconds=i * 3) for i in range(rows)]
    now = datetime.now(UTC)
    raw = connection.connection  # psycopg connection under Django
    with raw.cursor() as cursor:
        post_fields = ["id", "platform", "platform_id", "author_id", "author_handle", "created_at", "text", "lang",
                       "in_reply_to_id", "conversation_id", "url", "first_seen_at", "official_brand_id",
                       "official_account_id", "official_kind", "sentiment_score", "sentiment_label", "tone_analyser",
                       "category"]

        def posts():
            for i in range(rows):
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
                score = round(rng.uniform(-1, 1), 4)
                label = "negative" if score < -0.05 else "positive" if score > 0.05 else "neutral"
                yield (i + 1, "x", str(10_000_000 + i), f"u{i % 50000}", f"customer_{i % 50000}", times[i],
                       f"@bench_mobile {words}", "fr", "", str(10_000_000 + i),
                       f"https://x.com/customer_{i % 50000}/status/{10_000_000 + i}", now, None, None, "", score,
                       label, "vader-3.3.2", "")
            for i in range(rows):
                if answered[i]:
                    yield (rows + i + 1, "x", str(90_000_000 + i), "1", "bench_mobile",
                           times[i] + timedelta(seconds=frts[i]), "Sorry about that, we are on it.", "en",
                           str(10_000_000 + i), str(10_000_000 + i), "", now, brand.pk, account.pk, "reply", 0.3,
                           "positive", "vader-3.3.2", "apology")

        _copy_rows(cursor, Post, posts(), post_fields)
        mention_fields = ["id", "post_id", "brand_id", "created_at", "matched_by", "first_response_id",
                          "first_response_at", "frt_seconds", "answered", "complaint", "sentiment_label"]

        def mentions():
            for i in range(rows):
                a = answered[i]
                yield (i + 1, i + 1, brand.pk, times[i], "handle", rows + i + 1 if a else None,
                       times[i] + timedelta(seconds=frts[i]) if a else None, float(frts[i]) if a else None, a,
                       i % 3 == 0, "negative" if i % 3 == 0 else "neutral")

        _copy_rows(cursor, Mention, mentions(), mention_fields)
        cursor.execute("SELECT setval(pg_get_serial_sequence('socialfeed_post', 'id'), %s)", [2 * rows + 1])
        cursor.execute("SELECT setval(pg_get_serial_sequence('socialfeed_mention', 'id'), %s)", [rows + 1])
        cursor.execute("ANALYZE socialfeed_post; ANALYZE socialfeed_mention")
    raw.commit() if not raw.autocommit else None
    return brand.pk, time.perf_counter() - began


class _CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)


def hotline_export() -> tuple[int, float, int]:
    """Hotline's exporter end to end (rows, CSV text, UTF-8 bytes). Returns (rows, seconds, bytes)."""
    from incidents import exports
    from incidents.models import Brand

    began = time.perf_counter()
    filters = exports.ExportFilters(brand="bench-mobile")
    rows = exports.export_start(kind="mentions", brands=Brand.objects.all(), filters=filters)
    count = 0

    def counted(it):
        nonlocal count
        for row in it:
            count += 1
            yield row

    size = 0
    for chunk in exports.csv_chunks(kind="mentions", rows=counted(rows)):
        size += len(chunk.encode("utf-8"))
    return count, time.perf_counter() - began, size


COPY_SQL = """
COPY (
  SELECT b.slug, p.platform, p.platform_id, p.url, p.author_id, p.author_handle, m.created_at,
         m.created_at AT TIME ZONE b.time_zone, p.text, p.lang, m.matched_by, p.sentiment_score,
         p.sentiment_label, p.tone_analyser, m.complaint, m.answered, r.platform_id, m.first_response_at,
         m.frt_seconds,
         (SELECT i.id FROM incidents_incident i WHERE i.brand_id = m.brand_id AND i.started_at <= m.created_at
            AND (i.ended_at IS NULL OR m.created_at < i.ended_at) ORDER BY i.started_at DESC LIMIT 1)
  FROM socialfeed_mention m
  JOIN incidents_brand b ON b.id = m.brand_id
  JOIN socialfeed_post p ON p.id = m.post_id
  LEFT JOIN socialfeed_post r ON r.id = m.first_response_id
  WHERE b.slug = 'bench-mobile'
  ORDER BY m.created_at, m.id
) TO STDOUT WITH (FORMAT csv, HEADER true)
"""


def copy_export() -> tuple[int, float, int]:
    from django.db import connection

    began = time.perf_counter()
    size = lines = 0
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        for block in copy:
            size += len(block)
            lines += bytes(block).count(b"\n")
    return lines - 1, time.perf_counter() - began, size


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the rows of the previous run")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure Python's allocation peak")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("bench/export.py needs PostgreSQL: pass --database-url postgres://...")
    django_ready(args.database_url)
    if args.generate_only:
        _brand, seconds = generate(rows=args.rows)
        print(f"generated {args.rows:,} mentions with COPY in {seconds:.1f} s", flush=True)
        return
    from socialfeed.models import Mention

    if not args.reuse or not Mention.objects.filter(brand__slug="bench-mobile").exists():
        # In a child process, so that the generator's memory does not hide the exporter's peak.
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--generate-only",
                        "--database-url", args.database_url], check=True)
    print(f"bench database holds {Mention.objects.filter(brand__slug='bench-mobile').count():,} mentions")
    rss_before = _peak_rss_mb()
    rows, seconds, size = hotline_export()
    rss_growth = _peak_rss_mb() - rss_before
    copy_rows, copy_seconds, copy_size = copy_export()
    print(f"hotline exporter : {rows:>10,} rows in {seconds:7.2f} s = {rows / seconds:>10,.0f} rows/s "
          f"({size / 1e6:.0f} MB of CSV)")
    print(f"postgres COPY    : {copy_rows:>10,} rows in {copy_seconds:7.2f} s = {copy_rows / copy_seconds:>10,.0f} "
          f"rows/s ({copy_size / 1e6:.0f} MB of CSV)")
    print(f"ratio (hotline time / COPY time): {seconds / copy_seconds:.2f}x")
    print(f"hotline peak memory: the process's peak RSS grew by {rss_growth:.1f} MB during the export "
          f"(peak {_peak_rss_mb():.0f} MB in all, Django included)")
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
        hotline_export()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"hotline peak Python allocations (tracemalloc): {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
