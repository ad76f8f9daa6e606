"""One poll per source at a time, whatever the number of workers and machines.

With ``REDIS_URL`` set, the lock is a Redis key ``hotline:lock:source:<id>`` taken with redis-py's ``Lock``
(``SET NX`` with a TTL, released by a token-checked script so a worker never frees a lock it no longer owns).

Why a short TTL that is renewed, rather than one TTL longer than the task time limit: a worker killed mid-poll
(SIGKILL, OOM, a machine lost) cannot release its lock. With a TTL of ``SOURCE_LOCK_TTL_SECONDS`` renewed by a
keeper thread while the poll runs, the source is free again within that TTL, when the broker hands the task to
another worker. The keeper stops renewing once the poll has run longer than ``CELERY_TASK_TIME_LIMIT`` (Celery
should have killed it by then), so a hung poll cannot hold a source forever either.

Without Redis (the embedded default: one process, tasks run eagerly) a process-local lock does the same job.

If Redis cannot be reached, ``source_lock`` raises ``LockUnavailable``: pollers pause with a logged reason rather
than poll unguarded (two workers could then spend the same scarce X requests twice).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import redis
from django.conf import settings
from redis.exceptions import LockError, RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "hotline:lock:source:"


class LockUnavailable(Exception):
    """The lock backend cannot be reached; the poll is skipped, not run unguarded."""


def lock_key(source_id: int) -> str:
    return f"{KEY_PREFIX}{source_id}"


def lock_ttl_seconds() -> int:
    return int(getattr(settings, "SOURCE_LOCK_TTL_SECONDS", 30))


@contextmanager
def source_lock(*, source_id: int) -> Iterator[bool]:
    """Hold the poll lock of one source for the ``with`` block.

    Yields True when this caller holds the lock, False when someone else does (the caller must then do nothing).
    Raises ``LockUnavailable`` when Redis is configured but unreachable.
    """
    if settings.REDIS_URL:
        with _redis_lock(source_id=source_id) as acquired:
            yield acquired
    else:
        with _local_lock(source_id=source_id) as acquired:
            yield acquired


# --- Redis -----------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # Short socket timeouts: a poll must notice a dead Redis in seconds, not hang until the task time limit.
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


@contextmanager
def _redis_lock(*, source_id: int) -> Iterator[bool]:
    ttl = lock_ttl_seconds()
    # thread_local=False: the keeper thread renews with the token this thread acquired with.
    lock = _redis_client(settings.REDIS_URL).lock(lock_key(source_id), timeout=ttl, blocking=False,
                                                    thread_local=False)
    try:
        acquired = lock.acquire()
    except RedisError as exc:
        raise LockUnavailable(f"Redis unreachable for the lock of source {source_id}: {exc}") from exc
    if not acquired:
        yield False
        return
    stop = threading.Event()
    deadline = time.monotonic() + float(getattr(settings, "CELERY_TASK_TIME_LIMIT", 300))
    keeper = threading.Thread(target=_keep_alive, kwargs={"lock": lock, "stop": stop, "ttl": ttl,
                                                          "deadline": deadline, "source_id": source_id},
                              name=f"hotline-lock-{source_id}", daemon=True)
    keeper.start()
    try:
        yield True
    finally:
        stop.set()
        keeper.join(timeout=ttl)
        try:
            lock.release()
        except LockError:
            # It expired (the poll outlived the time limit) and maybe someone else holds it now: leave theirs.
            logger.warning("lock of source %s had expired before release", source_id)
        except RedisError as exc:
            logger.warning("could not release the lock of source %s (it expires in %ss): %s", source_id, ttl, exc)


def _keep_alive(*, lock, stop: threading.Event, ttl: int, deadline: float, source_id: int) -> None:
    while not stop.wait(ttl / 3):
        if time.monotonic() > deadline:
            logger.warning("poll of source %s outlived the task time limit; letting its lock expire", source_id)
            return
        try:
            lock.reacquire()
        except (LockError, RedisError) as exc:
            logger.warning("could not renew the lock of source %s: %s", source_id, exc)
            return


# --- Process-local (embedded default) --------------------------------------------------------------------

_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()


@contextmanager
def _local_lock(*, source_id: int) -> Iterator[bool]:
    with _local_locks_guard:
        lock = _local_locks.setdefault(source_id, threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# --- Mention writes (PostgreSQL) ---------------------------------------------------------------------------

# pg_advisory_xact_lock key: the bytes "hotline" read as a 56-bit number. Nothing else in Hotline takes it.
MENTION_WRITES_LOCK_KEY = int.from_bytes(b"hotline", "big")


def mention_writes_serialise() -> None:
    """Make the calling transaction the only one writing mentions, first responses and rollups until it ends.

    Why: first responses (METRICS.md §3) and minute rollups are recomputed from the rows a transaction can see.
    Two workers storing at once (the brand's replies from one source, the customer's mention from another)
    would each miss the other's uncommitted rows, and the mention would stay "unanswered" with a reply stored.
    Taken at the start of the transaction, the lock makes each batch see every batch committed before it,
    exactly as if one worker had stored them in turn. It is released at commit or rollback, so a killed worker
    cannot keep it. Must be called inside ``transaction.atomic``.

    On SQLite (the embedded default) writers are already serialised: Hotline opens every transaction with
    BEGIN IMMEDIATE, which takes the database's write lock at the start.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MENTION_WRITES_LOCK_KEY])
