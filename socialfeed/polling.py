"""Polling sources: deciding which are due, and polling one. Plain functions; Celery tasks only call them.

The rules (issue 3, "Polling on Celery"):

- one poll per source at a time, across workers and machines (``socialfeed.locks``);
- posts are stored idempotently by ``posts_ingest``; the source's cursor moves only after that transaction has
  committed, only forward from the cursor this poll started from (a stale worker cannot move it back), and only
  over a contiguous stored range: a poll that must stop before reaching the cursor (page budget, rate limit,
  time bound) opens a gap that the next poll resumes before reading anything newer (issue 13);
- any error, the platform's or storage's, is recorded on the source (``last_error``, failure count) and retried
  with backoff; a post that cannot be stored is set aside with its reason, and the rest of its batch is stored;
- a rate-limited source is not fetched before its reset time, a permanently failing one (401/403, bad query) is
  not fetched again until an operator resets it, and a source without credentials shows what it needs;
- each source is polled by its own task, so one broken source never blocks the others.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import OfficialAccount
from socialfeed import locks
from socialfeed.clients import client_for, fetch_source
from socialfeed.clients.base import FetchResult, NotConfigured, SourceError, configuration_status
from socialfeed.models import Source, SourceGap
from socialfeed.services import posts_ingest

logger = logging.getLogger(__name__)

# A source failing again and again is polled less often: its interval doubles per consecutive failure, up to
# this many times (x32), so a platform that is down for hours is not hammered every minute.
MAX_BACKOFF_DOUBLINGS = 5
# last_error is shown on pages and in the admin; platforms sometimes return whole HTML pages as errors.
MAX_ERROR_LENGTH = 1000
# A poll stops paging after this long and leaves the rest as a gap for the next poll (Celery's soft time limit
# is 240 s; the source's lock is renewed meanwhile).
POLL_TIME_BOUND_SECONDS = 120
# A source's first poll reads back this far; what came before was published before Hotline watched the source.
FIRST_POLL_HISTORY = timedelta(hours=1)
# A source with an open gap is due again this soon (at most), so a burst is read in a few beat ticks; the rate
# limits still hold it back (``rate_limited_until``).
BACKFILL_INTERVAL_SECONDS = 15


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
    rejected: int = 0
    gap_open: bool = False

    @property
    def retryable(self) -> bool:
        return self.status == PollStatus.FAILED


def sources_due(*, now: datetime) -> list[int]:
    """Claim the sources whose interval has elapsed and return their ids; each is claimed by one caller only.

    Due means enabled, not stopped by a permanent error, not rate-limited at ``now``, its platform configured,
    and last polled longer ago than its interval (doubled per consecutive failure; at most
    ``BACKFILL_INTERVAL_SECONDS`` while a gap is open). The claim is a conditional
    UPDATE of ``last_polled_at`` that must change exactly one row, so beat firing twice, or two beats run by
    mistake, still queue one poll per source per interval.
    """
    candidates = (
        Source.objects.filter(enabled=True, error_is_permanent=False)
        .filter(Q(rate_limited_until__isnull=True) | Q(rate_limited_until__lte=now))
        .values_list("id", "platform", "kind", "interval_seconds", "consecutive_failures", "last_polled_at",
                     "backfill_cursor")
    )
    configured: dict[str, bool] = {}
    claimed: list[int] = []
    for source_id, platform, kind, interval, failures, last_polled_at, backfill in candidates:
        if platform not in configured:
            configured[platform] = configuration_status(platform)[0]
        if not configured[platform] and kind != Source.Kind.REPLAY:  # the demo replay needs no credentials
            continue  # shown as "not configured" on the sources page; polling it would only log the same thing
        if backfill and not failures:
            interval = min(interval, BACKFILL_INTERVAL_SECONDS)  # an open gap is resumed at the next beat tick
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
    a redelivered one whose work another worker already did), nothing is fetched. Bounded: at most the client's page budget per call, and
    ``POLL_TIME_BOUND_SECONDS``; must not run inside a transaction, so the cursor update commits only after the
    posts have.
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
    """Under the source's lock: resume an open gap first, then read what is new since the cursor.

    A poll pages back until it reaches the cursor. When it must stop first (the client's page budget, the rate
    limit, ``POLL_TIME_BOUND_SECONDS``, a page that failed after others came in), what it read is stored, a
    gap is opened (``Source.backfill_cursor``, a ``SourceGap`` row) and the next poll resumes it before moving
    on; the cursor moves only over a contiguous stored range.
    """
    started = timezone.now()
    try:
        client = client_for(source)
    except NotConfigured as exc:
        return _record_not_configured(source=source, exc=exc, now=started)
    deadline = time.monotonic() + POLL_TIME_BOUND_SECONDS
    budget = max(1, int(getattr(client, "max_pages", 1) or 1))
    totals = _Totals()

    if source.backfill_cursor:
        gap = SourceGap.objects.filter(source=source, recoverable=True, closed_at__isnull=True).first()
        not_before = gap.starts_at if gap is not None and not source.cursor else None
        step = _fetch_and_store(source=source, client=client, since_id=source.cursor, until=source.backfill_cursor,
                                page_budget=budget, deadline=deadline, not_before=not_before, totals=totals,
                                started=started)
        if isinstance(step, PollOutcome):
            return step
        if step.complete:
            _gap_close(source=source, gap=gap, now=timezone.now())
        else:
            _gap_narrow(source=source, gap=gap, result=step)
        budget -= step.requests_made
        if not step.complete or step.error or budget <= 0 or _spent(step):
            return _finish(source=source, result=step, totals=totals, started=started)

    not_before = None if source.cursor else started - FIRST_POLL_HISTORY
    step = _fetch_and_store(source=source, client=client, since_id=source.cursor, until="", page_budget=budget,
                            deadline=deadline, not_before=not_before, totals=totals, started=started)
    if isinstance(step, PollOutcome):
        return step
    if step.complete:
        _positions_save(source=source, cursor=step.cursor or source.cursor, complete_up_to=started)
    else:
        _gap_open(source=source, result=step, started=started, not_before=not_before)
    return _finish(source=source, result=step, totals=totals, started=started)


@dataclass
class _Totals:
    fetched: int = 0
    stored: int = 0
    updated: int = 0
    rejected: int = 0


def _spent(result: FetchResult) -> bool:
    return result.rate_limit_remaining == 0 and result.rate_limit_reset is not None


def _fetch_and_store(*, source: Source, client, since_id: str, until: str, page_budget: int, deadline: float,
                     not_before: datetime | None, totals: _Totals, started: datetime) -> FetchResult | PollOutcome:
    """One descent and the storing of what it read. A failure is recorded on the source (PollOutcome)."""
    try:
        result = fetch_source(source=source, client=client, since_id=since_id, until=until,
                              page_budget=page_budget, deadline=deadline, not_before=not_before)
    except NotConfigured as exc:
        return _record_not_configured(source=source, exc=exc, now=started)
    except SourceError as exc:
        return _record_error(source=source, exc=exc, now=started, totals=totals)
    except Exception as exc:  # a client bug must show on the source, not kill the poller
        logger.exception("unexpected error polling source %s", source.pk)
        return _record_error(source=source, exc=SourceError(f"unexpected error: {exc!r}"), now=started,
                             totals=totals)
    try:
        # Committed on return (posts_ingest runs its own transactions); only then may the cursor move.
        ingested = posts_ingest(posts=result.posts, source=source)
    except (OperationalError, InterfaceError):
        raise  # the database itself is away: the task retries the whole poll, the cursor has not moved
    except Exception as exc:
        logger.exception("source %s: could not store a batch of %s posts", source.pk, len(result.posts))
        return _record_error(source=source, exc=SourceError(f"could not store the posts it read: {exc!r}"),
                             now=started, totals=totals)
    totals.fetched += len(result.posts)
    totals.stored += ingested.stored
    totals.updated += ingested.updated
    totals.rejected += ingested.rejected
    if result.account_user_id and source.official_account_id:
        _account_id_store(source=source, user_id=result.account_user_id)
    for lost in result.lost:
        SourceGap.objects.create(source=source, starts_at=lost.starts_at, ends_at=lost.ends_at, reason=lost.reason,
                                 recoverable=False, opened_at=started)
        logger.warning("source %s: posts from %s to %s cannot be read: %s", source.pk, lost.starts_at,
                       lost.ends_at, lost.reason)
    return result


def _finish(*, source: Source, result: FetchResult, totals: _Totals, started: datetime) -> PollOutcome:
    finished = timezone.now()
    source.refresh_from_db(fields=["cursor", "backfill_cursor", "complete_up_to"])
    if result.error is not None:
        # A page failed after others came in: those are stored and the gap will be resumed; the failure is
        # recorded (and retried with the usual backoff, or after the rate limit's reset).
        return _record_error(source=source, exc=result.error, now=started, totals=totals)
    updates = {
        "last_polled_at": finished, "last_success_at": finished, "consecutive_failures": 0,
        "rate_limited_until": None,  # posts_ingest itself counts posts_stored, inside its transaction
    }
    if result.rate_limit_remaining == 0 and result.rate_limit_reset and result.rate_limit_reset > finished:
        # The platform told us this window is spent: do not spend a request just to hear a 429.
        updates["rate_limited_until"] = result.rate_limit_reset
    Source.objects.filter(pk=source.pk).update(**updates)
    gap_open = bool(source.backfill_cursor)
    logger.info("polled source %s: %s fetched, %s stored, %s rejected, cursor %r%s", source.pk, totals.fetched,
                totals.stored, totals.rejected, source.cursor, ", gap open" if gap_open else "")
    return PollOutcome(source_id=source.pk, status=PollStatus.POLLED, fetched=totals.fetched, stored=totals.stored,
                       updated=totals.updated, cursor=source.cursor, rejected=totals.rejected, gap_open=gap_open)


def _positions_save(*, source: Source, **changes) -> bool:
    """Move the cursor and the gap's positions from the values this poll started from; a worker that started
    from older ones loses (compare-and-set), so a stale poll cannot move them back."""
    with transaction.atomic():
        moved = Source.objects.filter(pk=source.pk, cursor=source.cursor,
                                      backfill_cursor=source.backfill_cursor).update(**changes)
    if not moved:
        logger.warning("source %s positions moved by another poll meanwhile; keeping theirs", source.pk)
        source.refresh_from_db()
        return False
    for name, value in changes.items():
        setattr(source, name, value)
    return True


def _cursor_advance(*, source: Source, new_cursor: str) -> str:
    """Move the cursor from the value this poll started from; a worker that started from an older one loses."""
    if not new_cursor or new_cursor == source.cursor:
        return source.cursor
    _positions_save(source=source, cursor=new_cursor)
    return source.cursor


def _gap_open(*, source: Source, result: FetchResult, started: datetime, not_before: datetime | None) -> None:
    oldest = min((p.created_at for p in result.posts), default=None)
    with transaction.atomic():
        if not _positions_save(source=source, backfill_cursor=result.resume or source.backfill_cursor,
                               backfill_head=result.cursor or source.cursor):
            return
        SourceGap.objects.filter(source=source, recoverable=True, closed_at__isnull=True).update(closed_at=started)
        SourceGap.objects.create(
            source=source, starts_at=source.complete_up_to or not_before, ends_at=oldest, recoverable=True,
            opened_at=started,
            reason=_("stopped after %(pages)s page(s) (%(why)s); the rest comes next poll") % {
                "pages": result.requests_made, "why": _stop_reason(result)})
    logger.info("source %s: gap opened below %s (%s)", source.pk, result.resume, _stop_reason(result))


def _gap_narrow(*, source: Source, gap: SourceGap | None, result: FetchResult) -> None:
    if result.resume and result.resume != source.backfill_cursor:
        _positions_save(source=source, backfill_cursor=result.resume)
    oldest = min((p.created_at for p in result.posts), default=None)
    if gap is not None and oldest is not None:
        SourceGap.objects.filter(pk=gap.pk).update(ends_at=oldest)


def _gap_close(*, source: Source, gap: SourceGap | None, now: datetime) -> None:
    with transaction.atomic():
        head_polled_at = gap.opened_at if gap is not None else now
        if not _positions_save(source=source, cursor=source.backfill_head or source.cursor, backfill_cursor="",
                               backfill_head="", complete_up_to=head_polled_at):
            return
        SourceGap.objects.filter(source=source, recoverable=True, closed_at__isnull=True).update(closed_at=now)
    logger.info("source %s: gap closed, cursor %s", source.pk, source.cursor)


def _stop_reason(result: FetchResult) -> str:
    if result.error is not None:
        return str(result.error)[:200]
    return "; ".join(result.notes) or _("page budget reached")


def _account_id_store(*, source: Source, user_id: str) -> None:
    """The official account's platform id, looked up once by the client, is stored so it is never asked again."""
    try:
        with transaction.atomic():
            OfficialAccount.objects.filter(pk=source.official_account_id, platform_user_id="").update(
                platform_user_id=user_id[:64])
    except IntegrityError:
        logger.warning("source %s: user id %s already belongs to another official account", source.pk, user_id)


def _record_error(*, source: Source, exc: SourceError, now: datetime, totals: _Totals | None = None) -> PollOutcome:
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
    totals = totals or _Totals()
    return PollOutcome(source_id=source.pk, status=status, error=message, cursor=source.cursor,
                       retry_at=exc.retry_at, fetched=totals.fetched, stored=totals.stored, updated=totals.updated,
                       rejected=totals.rejected, gap_open=bool(source.backfill_cursor))


def _record_not_configured(*, source: Source, exc: NotConfigured, now: datetime) -> PollOutcome:
    message = f"not configured: needs {', '.join(exc.needs)}"
    Source.objects.filter(pk=source.pk).update(last_polled_at=now, last_error=message, last_error_at=now)
    return PollOutcome(source_id=source.pk, status=PollStatus.NOT_CONFIGURED, error=message, cursor=source.cursor)
