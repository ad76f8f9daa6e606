"""Polling sources: deciding which are due, and polling one. Plain functions; Celery tasks only call them.

The rules (issue 3, "Polling on Celery"):

- one poll per source at a time, across workers and machines (``socialfeed.locks``);
- posts are stored idempotently by ``posts_ingest``; the source's cursor moves only after that transaction has
  committed, and only forward from the cursor this poll started from (a stale worker cannot move it back);
- a rate-limited source is not fetched before its reset time, a permanently failing one (401/403, bad query) is
  not fetched again until an operator resets it, and a source without credentials shows what it needs;
- each source is polled by its own task, so one broken source never blocks the others.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from socialfeed import locks
from socialfeed.clients import fetch_source
from socialfeed.clients.base import NotConfigured, SourceError, configuration_status
from socialfeed.models import Source
from socialfeed.services import posts_ingest

logger = logging.getLogger(__name__)

# A source failing again and again is polled less often: its interval doubles per consecutive failure, up to
# this many times (x32), so a platform that is down for hours is not hammered every minute.
MAX_BACKOFF_DOUBLINGS = 5
# last_error is shown on pages and in the admin; platforms sometimes return whole HTML pages as errors.
MAX_ERROR_LENGTH = 1000


class PollStatus:
    POLLED = "polled"
    BUSY = "busy"                      # another worker holds the source's lock: nothing fetched
    PAUSED = "paused"                  # the lock backend (Redis) is unreachable: nothing fetched
    FRESH = "fresh"                    # polled successfully since this poll was requested: nothing fetched
    GONE = "gone"                      # the source was deleted
    DISABLED = "disabled"
    STOPPED = "stopped"                # a permanent error stopped it earlier
    RATE_LIMITED = "rate_limited"      # waiting for the platform's reset time
    NOT_CONFIGURED = "not_configured"  # credentials missing
    FAILED = "failed"                  # transient error: worth retrying with backoff
    FAILED_PERMANENTLY = "failed_permanently"


@dataclass(frozen=True)
class PollOutcome:
    source_id: int
    status: str
    fetched: int = 0
    stored: int = 0
    updated: int = 0
    cursor: str = ""
    error: str = ""
    retry_at: datetime | None = None

    @property
    def retryable(self) -> bool:
        return self.status == PollStatus.FAILED


def sources_due(*, now: datetime) -> list[int]:
    """Claim the sources whose interval has elapsed and return their ids; each is claimed by one caller only.

    Due means enabled, not stopped by a permanent error, not rate-limited at ``now``, its platform configured,
    and last polled longer ago than its interval (doubled per consecutive failure). The claim is a conditional
    UPDATE of ``last_polled_at`` that must change exactly one row, so beat firing twice, or two beats run by
    mistake, still queue one poll per source per interval.
    """
    candidates = (
        Source.objects.filter(enabled=True, error_is_permanent=False)
        .filter(Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lte=now))
        .values_list("id", "platform", "kind", "interval_seconds", "consecutive_failures", "last_polled_at")
    )
    configured: dict[str, bool] = {}
    claimed: list[int] = []
    for source_id, platform, kind, interval, failures, last_polled_at in candidates:
        if platform not in configured:
            configured[platform] = configuration_status(platform)[0]
        if not configured[platform] and kind != Source.Kind.REPLAY:  # the demo replay needs no credentials
            continue  # shown as "not configured" on the sources page; polling it would only log the same thing
        threshold = now - timedelta(seconds=interval * 2 ** min(failures, MAX_BACKOFF_DOUBLINGS))
        if last_polled_at is not None and last_polled_at > threshold:
            continue
        changed = (
            Source.objects.filter(pk=source_id)
            .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=threshold))
            .update(last_polled_at=now)
        )
        if changed == 1:
            claimed.append(source_id)
    return claimed


def source_poll(*, source_id: int, requested_at: datetime | None = None, now: datetime | None = None) -> PollOutcome:
    """Poll one source now: fetch what is new since its cursor, store it, then move the cursor.

    ``requested_at`` is when this poll was asked for: if a poll has succeeded since then (a duplicate task, or
    a redelivered one whose work another worker already did), nothing is fetched. Bounded: one fetch per call
    (each client bounds its own pages); must not run inside a transaction, so the cursor update commits only
    after the posts have.
    """
    source = Source.objects.select_related("official_account").filter(pk=source_id).first()
    if source is None:
        return PollOutcome(source_id=source_id, status=PollStatus.GONE)
    skipped = _skip_reason(source=source, requested_at=requested_at, now=now or timezone.now())
    if skipped is not None:
        return skipped
    try:
        with locks.source_lock(source_id=source_id) as acquired:
            if not acquired:
                return PollOutcome(source_id=source_id, status=PollStatus.BUSY)
            # Re-read under the lock: the holder before us may have just moved the cursor or hit a limit.
            source.refresh_from_db()
            skipped = _skip_reason(source=source, requested_at=requested_at, now=now or timezone.now())
            if skipped is not None:
                return skipped
            return _poll_locked(source=source)
    except locks.LockUnavailable as exc:
        logger.warning("polling paused for source %s: %s", source_id, exc)
        return PollOutcome(source_id=source_id, status=PollStatus.PAUSED, error=str(exc))


def source_reset(*, source_id: int) -> None:
    """An operator fixed the cause (new token, corrected query): clear the stop, the wait and the failure count."""
    Source.objects.filter(pk=source_id).update(error_is_permanent=False, rate_limited_until=None,
                                               consecutive_failures=0)


def _skip_reason(*, source: Source, requested_at: datetime | None, now: datetime) -> PollOutcome | None:
    if not source.enabled:
        return PollOutcome(source_id=source.pk, status=PollStatus.DISABLED)
    if source.error_is_permanent:
        return PollOutcome(source_id=source.pk, status=PollStatus.STOPPED, error=source.last_error)
    if source.rate_limited_until and source.rate_limited_until > now:
        return PollOutcome(source_id=source.pk, status=PollStatus.RATE_LIMITED, retry_at=source.rate_limited_until)
    if requested_at and source.last_success_at and source.last_success_at >= requested_at:
        return PollOutcome(source_id=source.pk, status=PollStatus.FRESH, cursor=source.cursor)
    return None


def _poll_locked(*, source: Source) -> PollOutcome:
    started = timezone.now()
    try:
        result = fetch_source(source=source)
    except NotConfigured as exc:
        return _record_not_configured(source=source, exc=exc, now=started)
    except SourceError as exc:
        return _record_error(source=source, exc=exc, now=started)
    except Exception as exc:  # a client bug must show on the source, not kill the poller
        logger.exception("unexpected error polling source %s", source.pk)
        return _record_error(source=source, exc=SourceError(f"unexpected error: {exc!r}"), now=started)

    # Committed on return (posts_ingest runs its own transaction); only then may the cursor move.
    ingested = posts_ingest(posts=result.posts, source=source)
    finished = timezone.now()
    updates = {
        "last_polled_at": finished, "last_success_at": finished, "consecutive_failures": 0,
        "rate_limited_until": None,  # posts_ingest itself counts posts_stored, inside its transaction
    }
    if result.rate_limit_remaining == 0 and result.rate_limit_reset and result.rate_limit_reset > finished:
        # The platform told us this window is spent: do not spend a request just to hear a 429.
        updates["rate_limited_until"] = result.rate_limit_reset
    Source.objects.filter(pk=source.pk).update(**updates)
    cursor = _cursor_advance(source=source, new_cursor=result.cursor)
    logger.info("polled source %s: %s fetched, %s stored, cursor %r", source.pk, len(result.posts),
                ingested.stored, cursor)
    return PollOutcome(source_id=source.pk, status=PollStatus.POLLED, fetched=len(result.posts),
                       stored=ingested.stored, updated=ingested.updated, cursor=cursor)


def _cursor_advance(*, source: Source, new_cursor: str) -> str:
    """Move the cursor from the value this poll started from; a worker that started from an older one loses."""
    if not new_cursor or new_cursor == source.cursor:
        return source.cursor
    with transaction.atomic():
        moved = Source.objects.filter(pk=source.pk, cursor=source.cursor).update(cursor=new_cursor)
    if not moved:
        logger.warning("source %s cursor moved by another poll meanwhile; keeping theirs", source.pk)
        return Source.objects.filter(pk=source.pk).values_list("cursor", flat=True).first() or ""
    return new_cursor


def _record_error(*, source: Source, exc: SourceError, now: datetime) -> PollOutcome:
    message = str(exc)[:MAX_ERROR_LENGTH]
    updates: dict = {"last_polled_at": now, "last_error": message, "last_error_at": now}
    if exc.retry_at is not None:
        # A rate limit is the platform's schedule, not a failure of the source: wait, do not count it.
        updates["rate_limited_until"] = exc.retry_at
        status = PollStatus.RATE_LIMITED
        logger.info("source %s rate-limited until %s", source.pk, exc.retry_at.isoformat())
    elif exc.permanent:
        updates["error_is_permanent"] = True
        status = PollStatus.FAILED_PERMANENTLY
        logger.error("source %s stopped: %s", source.pk, message)
    else:
        updates["consecutive_failures"] = F("consecutive_failures") + 1
        status = PollStatus.FAILED
        logger.warning("source %s failed (will retry): %s", source.pk, message)
    Source.objects.filter(pk=source.pk).update(**updates)
    return PollOutcome(source_id=source.pk, status=status, error=message, cursor=source.cursor,
                       retry_at=exc.retry_at)


def _record_not_configured(*, source: Source, exc: NotConfigured, now: datetime) -> PollOutcome:
    message = f"not configured: needs {', '.join(exc.needs)}"
    Source.objects.filter(pk=source.pk).update(last_polled_at=now, last_error=message, last_error_at=now)
    return PollOutcome(source_id=source.pk, status=PollStatus.NOT_CONFIGURED, error=message, cursor=source.cursor)
