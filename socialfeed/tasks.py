"""Celery tasks of the socialfeed app: thin entry points that take ids and call ``socialfeed.polling``."""
from __future__ import annotations

import random
from functools import partial

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from socialfeed import polling
from socialfeed.polling import PollStatus

# Transient failures (timeouts, 5xx, garbage, the database restarting) retry after about 10 s, 20 s, 40 s, 80 s,
# 160 s; after that the next beat tick polls the source again (less often while it keeps failing).
MAX_RETRIES = 5
BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 300
# A duplicate task finding the source busy checks back after the lock's TTL, by which time the holder has
# finished (the retry then finds the source fresh and fetches nothing) or died (its lock has expired).
BUSY_RETRIES = 3


def _backoff(retries: int) -> float:
    # Jitter spreads the retries of many sources that failed together (one platform outage) over time.
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** retries) * random.uniform(0.5, 1.5)


@shared_task(name="socialfeed.tasks.poll_due_sources", ignore_result=True)
def poll_due_sources() -> int:
    """Every 15 s (beat): claim the sources whose interval has elapsed and queue one poll for each."""
    now = timezone.now()
    with transaction.atomic():
        due = polling.sources_due(now=now)
        for source_id in due:
            # After commit, so a worker never sees the claim undone; robust, so one failed send spares the rest.
            transaction.on_commit(partial(poll_source.delay, source_id, requested_at=now.isoformat()),
                                  robust=True)
    return len(due)


@shared_task(bind=True, name="socialfeed.tasks.poll_source", max_retries=MAX_RETRIES, ignore_result=True)
def poll_source(self, source_id: int, requested_at: str | None = None) -> str:
    """Poll one source. ``requested_at`` (ISO 8601): skip the fetch if a poll has succeeded since then."""
    # A retry carries the first attempt's request time, so it can tell that another poll already did its work.
    requested_at = requested_at or timezone.now().isoformat()
    retry_kwargs = {"requested_at": requested_at}
    requested = parse_datetime(requested_at)
    try:
        outcome = polling.source_poll(source_id=source_id, requested_at=requested)
    except (OperationalError, InterfaceError) as exc:
        # The database restarted or went away mid-poll: nothing half-stored (one transaction), cursor unmoved.
        if self.request.is_eager:
            raise
        raise self.retry(kwargs=retry_kwargs, exc=exc, countdown=_backoff(self.request.retries)) from exc
    if self.request.is_eager:
        return outcome.status  # the embedded default runs in-process: no broker to retry through
    if outcome.status == PollStatus.BUSY and self.request.retries < BUSY_RETRIES:
        ttl = settings.SOURCE_LOCK_TTL_SECONDS
        raise self.retry(kwargs=retry_kwargs, countdown=ttl * random.uniform(1.0, 1.5))
    if outcome.retryable and self.request.retries < self.max_retries:
        raise self.retry(kwargs=retry_kwargs, countdown=_backoff(self.request.retries))
    return outcome.status


@shared_task(name="socialfeed.tasks.tone_reread_dispatch", ignore_result=True)
def tone_reread_dispatch() -> int:
    """Queue ``tone``: claim the next posts for the accurate tone tier, newest incident first, a few batches
    ahead of the workers, and queue one re-read per batch (socialfeed/tone/reread.py)."""
    from socialfeed.tone import reread
    from socialfeed.tone.accurate import accurate_analyser, installed

    if not (reread.enabled() and installed()) or settings.CELERY_TASK_ALWAYS_EAGER:
        return 0  # eagerly (no broker) the encoder would run inside the web process: rescore_tone does it instead
    batches = reread.claim_next(analyser_id=accurate_analyser().analyser_id, now=timezone.now())
    for post_ids in batches:
        tone_reread.delay(post_ids)
    return sum(map(len, batches))


@shared_task(name="socialfeed.tasks.tone_reread", ignore_result=True)
def tone_reread(post_ids: list[int]) -> int:
    """Queue ``tone``: read these posts with the accurate tier and store the results with the rollups they
    change, then top the queue up. Idempotent: a post already read by this analyser is skipped."""
    from socialfeed.tone import reread
    from socialfeed.tone.accurate import accurate_analyser

    done = reread.reread(post_ids, accurate_analyser())
    if not settings.CELERY_TASK_ALWAYS_EAGER:  # eagerly, the dispatcher's loop does it; no recursion
        tone_reread_dispatch.delay()
    return done
