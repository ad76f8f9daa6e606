"""How fast the live board answers as an outage grows: every board endpoint at 100k and 1M mentions.

Seeds one ended incident per size on PostgreSQL (rows generated inside the database with generate_series, so a
million mentions take seconds), rebuilds the per-minute rollups, then times each board endpoint through Django's
test client (views, middleware and JSON included) next to the same figure computed by a plain aggregate over the
posts table in the same run. Aim: p95 under 50 ms at 1M mentions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_board_bench .venv/bin/python bench/board.py --sizes 100000,1000000

The database named in DATABASE_URL (default hotline_board_bench) is created if missing and its posts are replaced:
never point it at a database you care about.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _database import django_ready  # noqa: E402  (bench/ is the script folder)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_board_bench"
WINDOW = dt.timedelta(hours=6)
START = dt.datetime(2025, 3, 4, 8, 0, tzinfo=dt.UTC)


def _setup(url: str) -> None:
    django_ready(url)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def _seed(size: int):
    """One brand and one 6-hour incident with ``size`` mentions: 80 % inside the window, 20 % over the week
    before (the baseline), a third of them answered, official posts every few minutes."""
    from django.db import connection

    from incidents.models import Brand, Incident, OfficialAccount
    from socialfeed.rollups import rollups_rebuild

    slug = f"bench-{size}"
    Brand.objects.filter(slug=slug).delete()
    brand = Brand.objects.create(name=f"Bench {size}", slug=slug, time_zone="Europe/Paris", languages=["fr"])
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle=f"bench_{size}", platform_user_id=slug)
    window_s = WINDOW.total_seconds()
    week_s = dt.timedelta(days=7).total_seconds()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM socialfeed_post WHERE platform_id LIKE %s", [f"{slug}-%"])
        cur.execute(f"""
            INSERT INTO socialfeed_post (platform, platform_id, author_id, author_handle, created_at, text, lang,
                in_reply_to_id, in_reply_to_author_id, conversation_id, is_repost, is_public, url, raw, first_seen_at,
                official_kind, sentiment_label, tone_analyser, category)
            SELECT 'x', '{slug}-' || g, (g %% 20000)::text, 'user' || (g %% 20000),
                   CASE WHEN g %% 5 = 0 THEN %s::timestamptz - (random() * {week_s}) * interval '1 second'
                        ELSE %s::timestamptz + (random() * {window_s}) * interval '1 second' END,
                   '@bench still down?', 'en', '', '', '{slug}-' || g, false, true, '', '{{}}'::jsonb, now(), '',
                   (ARRAY['negative', 'negative', 'neutral', 'positive'])[1 + g %% 4], 'bench', ''
            FROM generate_series(1, %s) g""", [START, START, size])
        cur.execute("""
            INSERT INTO socialfeed_mention (post_id, brand_id, created_at, matched_by, answered, frt_seconds,
                first_response_at, complaint, sentiment_label)
            SELECT p.id, %s, p.created_at, 'handle', r.answered,
                   CASE WHEN r.answered THEN r.frt END,
                   CASE WHEN r.answered THEN p.created_at + r.frt * interval '1 second' END,
                   p.sentiment_label = 'negative', p.sentiment_label
            FROM socialfeed_post p
            CROSS JOIN LATERAL (SELECT (hashtext(p.platform_id) %% 3 = 0) AS answered,
                                       round((random() * 10800)::numeric)::float AS frt) r
            WHERE p.platform_id LIKE %s""", [brand.id, f"{slug}-%"])
        cur.execute(f"""
            INSERT INTO socialfeed_post (platform, platform_id, author_id, author_handle, created_at, text, lang,
                in_reply_to_id, in_reply_to_author_id, conversation_id, is_repost, is_public, url, raw, first_seen_at,
                official_kind, sentiment_label, tone_analyser, category, official_brand_id, official_account_id)
            SELECT 'x', '{slug}-official-' || g, %s, %s, %s::timestamptz + g * interval '7 minutes',
                   'Update', 'en', '', '', '{slug}-official-' || g, false, true, '', '{{}}'::jsonb, now(),
                   CASE WHEN g %% 3 = 0 THEN 'reply' ELSE 'broadcast' END, 'neutral', 'bench',
                   (ARRAY['apology', 'status_update', 'workaround', 'promotional', 'other'])[1 + g %% 5], %s, %s
            FROM generate_series(1, 50) g""", [slug, account.handle, START, brand.id, account.id])
        cur.execute("ANALYZE socialfeed_post; ANALYZE socialfeed_mention")
    began = time.perf_counter()
    rollups_rebuild(brand_id=brand.id)
    with connection.cursor() as cur:
        # As autovacuum would after a busy minute: statistics, and a visibility map for index-only scans.
        cur.execute("VACUUM ANALYZE socialfeed_minuterollup")
        cur.execute("VACUUM ANALYZE socialfeed_minutefrtcount")
    print(f"  rollups rebuilt for {size:,} mentions in {time.perf_counter() - began:.1f} s")
    return Incident.objects.create(brand=brand, title="Bench outage", started_at=START, ended_at=START + WINDOW)


# The same figures the way one would write them without rollups: one aggregate over posts and their mentions.
PLAIN = {
    "live": """SELECT count(*), count(*) FILTER (WHERE m.answered),
                  count(*) FILTER (WHERE m.answered AND m.frt_seconds <= 3600),
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY m.frt_seconds),
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY m.frt_seconds), min(p.created_at) FILTER (WHERE NOT m.answered)
               FROM socialfeed_post p JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND p.created_at >= %(start)s AND p.created_at < %(end)s""",
    "volume": """SELECT date_trunc('minute', p.created_at), count(*), count(*) FILTER (WHERE m.complaint)
               FROM socialfeed_post p JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND p.created_at >= %(start)s - interval '2 hours'
                 AND p.created_at < %(end)s + interval '2 hours' GROUP BY 1""",
    "frt": """SELECT floor(extract(epoch FROM p.created_at) / 900),
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY m.frt_seconds),
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY m.frt_seconds),
                  count(*) FILTER (WHERE m.answered AND m.frt_seconds <= 3600), count(*)
               FROM socialfeed_post p JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND p.created_at >= %(start)s AND p.created_at < %(end)s GROUP BY 1""",
    "tone": """SELECT floor(extract(epoch FROM p.created_at) / 900), count(*) FILTER (WHERE p.sentiment_label = 'positive'),
                  count(*) FILTER (WHERE p.sentiment_label = 'negative'), count(*)
               FROM socialfeed_post p JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND p.created_at >= %(start)s AND p.created_at < %(end)s GROUP BY 1""",
    "within": """SELECT floor(extract(epoch FROM p.created_at) / 900),
                  count(*) FILTER (WHERE m.answered AND m.frt_seconds <= 3600), count(*)
               FROM socialfeed_post p JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND p.created_at >= %(start)s AND p.created_at < %(end)s GROUP BY 1""",
    "queue": """SELECT count(*) OVER (), m.id, p.author_handle, p.text FROM socialfeed_post p
               JOIN socialfeed_mention m ON m.post_id = p.id
               WHERE m.brand_id = %(brand)s AND NOT m.answered AND p.created_at >= %(start)s AND p.created_at < %(end)s
               ORDER BY m.created_at, m.id LIMIT 26""",
    "official": """SELECT date_trunc('minute', p.created_at), p.category, count(*) FROM socialfeed_post p
               WHERE p.official_brand_id = %(brand)s AND p.created_at >= %(start)s - interval '2 hours'
                 AND p.created_at < %(end)s + interval '2 hours' GROUP BY 1, 2""",
}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _time(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm caches and connections, as a board that has been open a while has
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return _percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated mention counts")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per endpoint")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/board.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    _setup(url)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)

    print(f"{'mentions':>10} {'endpoint':<9} {'board p50':>10} {'board p95':>10} {'plain p50':>10} {'plain p95':>10}  (ms)")
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"seeding {size:,} mentions…")
        incident = _seed(size)
        params = {"brand": incident.brand_id, "start": incident.started_at, "end": incident.ended_at}
        urls = {"live": reverse("incidents:board_live", kwargs={"pk": incident.pk}),
                "queue": reverse("incidents:board_queue", kwargs={"pk": incident.pk})}
        for chart in ("volume", "frt", "within", "tone", "official"):
            urls[chart] = reverse("incidents:board_chart", kwargs={"pk": incident.pk, "chart": chart})

        def plain(sql, params=params):
            def run():
                with connection.cursor() as cur:
                    cur.execute(sql, params)
                    cur.fetchall()
            return run

        for name, endpoint in urls.items():
            def board(endpoint=endpoint):
                response = client.get(endpoint)
                assert response.status_code == 200, response.status_code
            b50, b95 = _time(board, args.repeat)
            p50, p95 = _time(plain(PLAIN[name]), args.repeat)
            print(f"{size:>10,} {name:<9} {b50:>10.1f} {b95:>10.1f} {p50:>10.1f} {p95:>10.1f}")


if __name__ == "__main__":
    main()
