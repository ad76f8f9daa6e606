"""What targets, business hours and alerts cost as an outage grows, at 100k and 1M mentions.

Seeds the board benchmark's outage (bench/board.py: one brand, a 6-hour window, a third answered) made ongoing, then
times, each beside a baseline measured in the same run:

- one alert evaluation of the brand, as beat runs it every minute (the first raises, the next ones find the alerts
  open), against computing the board's incident figures once (which the evaluation reads);
- re-counting the rollups for a new first-response target (what a target change holds the ingest lock for),
  against rebuilding the brand's rollups from scratch;
- the week's METRICS.md §4 figures with business hours (Mon–Fri 09:00–18:00) against the same without.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_board_bench .venv/bin/python bench/alerts.py

The database named in DATABASE_URL (default hotline_board_bench) is created if missing and the bench brand's posts
are replaced: never point it at a database you care about.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board import DEFAULT_URL, START, WINDOW, _seed, _setup  # noqa: E402  (bench/ is the script folder)


def _median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated mention counts")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (median printed)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/alerts.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    _setup(url)
    print(f"{'mentions':>10} {'figure':<34} {'Hotline':>10} {'baseline':>10} {'ratio':>6}  (median ms)")
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"seeding {size:,} mentions…")
        _measure(size=size, repeat=args.repeat)


def _measure(*, size: int, repeat: int) -> None:
    from django.db import transaction

    from incidents.alerts import alerts_evaluate
    from incidents.business_hours import business_hours_save
    from incidents.figures import incident_figures
    from incidents.models import Alert
    from socialfeed.rollups import rollups_rebuild, rollups_retarget
    from socialfeed.selectors import response_stats

    now = START + WINDOW
    incident = _seed(size)
    incident.ended_at = None
    incident.save()
    brand = incident.brand
    Alert.objects.filter(brand=brand).delete()

    began = time.perf_counter()
    alerts_evaluate(brands=[brand], now=now)
    first = (time.perf_counter() - began) * 1000
    steady = _median_ms(lambda: alerts_evaluate(brands=[brand], now=now), repeat)
    figures = _median_ms(lambda: incident_figures(incident=incident, now=now), repeat)
    print(f"{size:>10,} {'alert evaluation (first / steady)':<34} {first:>5.0f}/{steady:<4.0f} {figures:>10.0f} "
          f"{steady / figures:>6.2f}  baseline: the board's incident figures")

    targets = [1200.0, 3600.0]

    def retarget():
        targets.reverse()  # alternate between two targets, so every run re-counts
        with transaction.atomic():
            rollups_retarget(brand_id=brand.pk, within_s=targets[0])

    retargeting = _median_ms(retarget, repeat)
    rebuilding = _median_ms(lambda: rollups_rebuild(brand_id=brand.pk), 1)  # a minute at 1M: once is enough
    print(f"{size:>10,} {'re-count for a new target':<34} {retargeting:>10.0f} {rebuilding:>10.0f} "
          f"{retargeting / rebuilding:>6.2f}  baseline: full rollup rebuild")

    start, end = START - dt.timedelta(days=6), START + dt.timedelta(days=1)

    def week_figures():
        response_stats(brands=[brand], start=start, end=end, as_of=now)

    business_hours_save(brand=brand, ranges={}, holidays=[])
    plain = _median_ms(week_figures, 3)
    business_hours_save(brand=brand, ranges={d: [(9 * 60, 18 * 60)] for d in range(5)}, holidays=[])
    with_hours = _median_ms(week_figures, 3)
    print(f"{size:>10,} {'week figures with business hours':<34} {with_hours:>10.0f} {plain:>10.0f} "
          f"{with_hours / plain:>6.2f}  baseline: the same without business hours")
    business_hours_save(brand=brand, ranges={}, holidays=[])

if __name__ == "__main__":
    main()
