"""How fast the API answers, next to the page or CSV export that shows the same figures, in the same run.

Loads the demo outage (two brands, three weeks of history, the 44-hour outage) into its own PostgreSQL database,
makes an analyst's token, then calls each main API route through Django's test client (authentication, rate
limit, views, serialisation and JSON included; DEBUG off) and, as the baseline, the page, board endpoint or
export that serves the same figures to people. Prints median and p95 of each, and their ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_api_bench .venv/bin/python bench/api.py [--calls 30]

The database named in DATABASE_URL (default hotline_api_bench) is created if missing and its demo brands are
reloaded: never point it at a database you care about.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _database import django_ready  # noqa: E402  (bench/ is the script folder)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_api_bench"


def _timed(call, calls: int) -> tuple[float, float]:
    call()  # warm: first-call imports and connection set-up are not what a user waits for each time
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        response = call()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    times.sort()
    return statistics.median(times) * 1000, times[min(len(times) - 1, int(0.95 * len(times)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="timed calls per route (default 30)")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "false")
    os.environ["API_RATE_LIMIT_PER_MINUTE"] = "1000000"
    django_ready(os.environ.get("DATABASE_URL", DEFAULT_URL))

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from incidents.demo import ONDINE, demo_load
    from incidents.models import Incident
    from incidents.tokens import api_token_create

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.BOARD_SHARED_SECONDS = 0  # the board's baseline computed on every call, as the API is
    print("Loading the demo outage…", file=sys.stderr)
    demo_load(now=timezone.now(), fresh=True)
    analyst = get_user_model().objects.get(username="analyst")
    token = api_token_create(user=analyst, name="bench")[1]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    page = Client()
    page.force_login(analyst)
    incident = Incident.objects.get(brand__slug=ONDINE["slug"], ended_at__isnull=True)
    slug, pk = ONDINE["slug"], incident.pk

    cases = [
        ("one incident, every §5 figure", f"/api/v1/incidents/{pk}/", f"/incidents/{pk}/live.json",
         "board tiles JSON"),
        ("incidents list (3, with figures)", "/api/v1/incidents/", "/reports/export/incidents.csv",
         "incidents CSV export"),
        ("unanswered queue, 50", f"/api/v1/incidents/{pk}/unanswered/?limit=50", f"/incidents/{pk}/queue.json",
         "board queue JSON (25)"),
        ("mentions of the outage, 500", f"/api/v1/mentions/?incident={pk}&limit=500",
         f"/reports/export/mentions.csv?incident={pk}", f"mentions CSV export (all {incident.brand.mentions.count()})"),
        ("brand weeks, 8 weeks", f"/api/v1/brand-weeks/?brand={slug}", f"/reports/brand/{slug}/", "brand page"),
        ("league table", "/api/v1/league/", "/reports/", "weekly summary page"),
    ]
    print(f"{'API route':<36} {'median ms':>9} {'p95 ms':>8}   {'baseline':<44} {'median ms':>9} {'p95 ms':>8} "
          f"{'ratio':>6}")
    for name, api_path, base_path, base_name in cases:
        api_median, api_p95 = _timed(lambda p=api_path: api.get(p), args.calls)
        base_median, base_p95 = _timed(lambda p=base_path: page.get(p), args.calls)
        print(f"{name:<36} {api_median:>9.1f} {api_p95:>8.1f}   {base_name:<44} {base_median:>9.1f} "
              f"{base_p95:>8.1f} {api_median / base_median:>6.2f}")


if __name__ == "__main__":
    main()
