"""The board's median and p90 FRT come from the per-minute FRT tree, and equal METRICS.md §4 computed from every
mention, at a size where thousands of answers spread over hours, days and ties."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from incidents.figures import incident_figures
from incidents.models import Incident
from socialfeed.aggregates import frt_quantiles
from socialfeed.models import Mention, MinuteFrtCount, Post
from socialfeed.rollups import rollups_rebuild, rollups_refresh
from socialfeed.selectors import quantile, response_stats

from .conftest import START

pytestmark = pytest.mark.django_db
FRT_BUCKET = dt.timedelta(minutes=15)  # a bucket size of the board (METRICS.md §7)


def _crowd(brand, *, n: int, seed: int, fractional: bool = False) -> list[Mention]:
    """n mentions over three hours, two in three answered; FRTs from seconds to days, with many ties."""
    rng = random.Random(seed)
    posts = Post.objects.bulk_create([
        Post(platform="x", platform_id=f"crowd{seed}-{i}", author_id=str(i), author_handle=f"customer{i}",
             created_at=START + dt.timedelta(seconds=rng.randrange(3 * 3600)), text="@ondine_mobile down?")
        for i in range(n)])
    mentions = []
    for post in posts:
        answered = rng.random() < 2 / 3
        frt = float(rng.choice([rng.randrange(60), rng.randrange(7200), rng.randrange(400000), 90])) if answered \
            else None
        if answered and fractional and rng.random() < 0.01:
            frt += 0.25
        mentions.append(Mention(post=post, brand=brand, created_at=post.created_at, matched_by="handle",
                                answered=answered, frt_seconds=frt,
                                first_response_at=post.created_at + dt.timedelta(seconds=frt) if answered else None))
    return Mention.objects.bulk_create(mentions)


def _exact(brand, start, end) -> tuple[float | None, float | None]:
    frts = sorted(Mention.objects.filter(brand=brand, answered=True, created_at__gte=start, created_at__lt=end)
                  .values_list("frt_seconds", flat=True))
    return quantile(frts, 0.5), quantile(frts, 0.9)


def test_it_gives_the_exact_median_and_p90_of_thousands_of_answers(brand):
    _crowd(brand, n=3000, seed=1)
    rollups_rebuild(brand_id=brand.id)
    start, end = START + dt.timedelta(minutes=7, seconds=13), START + dt.timedelta(hours=2, minutes=51, seconds=41)
    incident = Incident.objects.create(brand=brand, title="Data", started_at=start, ended_at=end)
    as_of = end + dt.timedelta(days=9)
    figures = incident_figures(incident=incident, now=as_of)
    [stats] = response_stats(brands=[brand], start=start, end=end, as_of=as_of)
    assert stats.answered > 1500
    assert (figures["median_frt_s"], figures["p90_frt_s"]) == pytest.approx((stats.median_frt_s, stats.p90_frt_s))
    assert (figures["median_frt_s"], figures["p90_frt_s"]) == pytest.approx(_exact(brand, start, end))


def test_it_gives_the_exact_quantiles_of_every_15_minutes(brand):
    _crowd(brand, n=1500, seed=2)
    rollups_rebuild(brand_id=brand.id)
    start, end = START + dt.timedelta(minutes=4, seconds=30), START + dt.timedelta(hours=2, seconds=45)
    buckets = frt_quantiles(brand_id=brand.id, start=start, end=end, bucket=FRT_BUCKET)
    step = int(FRT_BUCKET.total_seconds())
    assert len(buckets) == 9
    for key, pair in buckets.items():
        lo = max(start, dt.datetime.fromtimestamp(key * step, dt.UTC))
        hi = min(end, dt.datetime.fromtimestamp((key + 1) * step, dt.UTC))
        assert pair == pytest.approx(_exact(brand, lo, hi)), lo


def test_it_stays_exact_when_late_answers_arrive_and_the_rollups_refresh(brand):
    mentions = _crowd(brand, n=800, seed=3)
    rollups_rebuild(brand_id=brand.id)
    # A late batch of replies answers silent mentions and one is withdrawn: only those minutes refresh.
    silent = [m for m in mentions if not m.answered][:120]
    for i, m in enumerate(silent):
        m.answered, m.frt_seconds = True, float(3600 + i * 7)
        m.first_response_at = m.created_at + dt.timedelta(seconds=m.frt_seconds)
    withdrawn = next(m for m in mentions if m.answered)
    withdrawn.answered, withdrawn.frt_seconds, withdrawn.first_response_at = False, None, None
    Mention.objects.bulk_update([*silent, withdrawn], ["answered", "frt_seconds", "first_response_at"])
    rollups_refresh(brand_ids_minutes={(brand.id, m.created_at) for m in [*silent, withdrawn]})
    start, end = START, START + dt.timedelta(hours=3)
    assert frt_quantiles(brand_id=brand.id, start=start, end=end)[0] == pytest.approx(_exact(brand, start, end))
    stored = set(MinuteFrtCount.objects.filter(brand=brand).values_list("level", "minute", "node", "count"))
    rollups_rebuild(brand_id=brand.id)
    assert set(MinuteFrtCount.objects.filter(brand=brand).values_list("level", "minute", "node", "count")) == stored


def test_it_reads_the_mentions_when_an_frt_is_not_a_whole_second(brand):
    mentions = _crowd(brand, n=600, seed=4, fractional=True)
    assert any(m.answered and m.frt_seconds % 1 for m in mentions)
    rollups_rebuild(brand_id=brand.id)
    start, end = START + dt.timedelta(seconds=1), START + dt.timedelta(hours=3)
    assert frt_quantiles(brand_id=brand.id, start=start, end=end)[0] == pytest.approx(_exact(brand, start, end))
