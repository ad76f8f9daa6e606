"""The load bench's one Celery task, imported by the bench's workers only (``celery worker -I _load_tasks``).

It stands in for a poll that brought back a batch of posts: the batch goes through ``posts_ingest`` exactly as a
poll's does, on a real worker, and the moment it committed is recorded in the bench's Redis so the bench can time
how long the board takes to show it.
"""
from __future__ import annotations

import time
from datetime import datetime

from celery import shared_task

COMMITS_KEY = "hotline-load:commits"
MENTIONS_KEY = "hotline-load:mentions"


@shared_task(name="hotline_bench.ingest_batch", acks_late=True)
def ingest_batch(posts: list[dict]) -> int:
    import redis
    from django.conf import settings

    from socialfeed.normalised import NormalisedPost
    from socialfeed.services import posts_ingest

    batch = [NormalisedPost(**{**p, "created_at": datetime.fromisoformat(p["created_at"])}) for p in posts]
    started = time.perf_counter()
    result = posts_ingest(posts=batch)
    committed_at, took = time.time(), time.perf_counter() - started
    client = redis.Redis.from_url(settings.REDIS_URL)
    total = client.incrby(MENTIONS_KEY, result.mentions_created)
    client.rpush(COMMITS_KEY, f"{committed_at},{total},{took}")
    return result.stored
