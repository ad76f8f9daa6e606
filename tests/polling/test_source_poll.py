"""source_poll and sources_due against a real status feed over HTTP, on the embedded default and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from socialfeed import locks, services
from socialfeed.models import Post, Source
from socialfeed.polling import PollStatus, source_poll, sources_due

pytestmark = pytest.mark.django_db


def test_it_stores_new_entries_and_moves_the_cursor_past_them(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(2)
    source = make_feed_source(server.url)

    first = source_poll(source_id=source.pk)
    server.add_entries(1)
    second = source_poll(source_id=source.pk)
    third = source_poll(source_id=source.pk)

    assert (first.status, first.stored) == (PollStatus.POLLED, 2)
    assert (second.status, second.fetched, second.stored) == (PollStatus.POLLED, 1, 1)
    assert (third.fetched, third.stored) == (0, 0)
    source.refresh_from_db()
    assert source.cursor == server.newest_cursor
    assert source.posts_stored == 3
    assert source.last_success_at is not None and source.consecutive_failures == 0
    assert sorted(Post.objects.filter(source=source).values_list("platform_id", flat=True)) == [
        "urn:ondine-status:1", "urn:ondine-status:2", "urn:ondine-status:3"]


def test_it_keeps_the_cursor_when_storing_the_batch_fails_and_shows_why(feed_server, make_feed_source, monkeypatch):
    server = feed_server()
    server.add_entries(3)
    source = make_feed_source(server.url)
    real_batch = services._ingest_batch

    def crash_after_writing(**kwargs):
        real_batch(**kwargs)  # rows are written inside the transaction...
        raise RuntimeError("worker lost mid-batch")  # ...which never commits

    monkeypatch.setattr(services, "_ingest_batch", crash_after_writing)
    failed = source_poll(source_id=source.pk)

    assert failed.status == PollStatus.FAILED and failed.retryable
    source.refresh_from_db()
    assert source.cursor == "" and Post.objects.count() == 0
    # The failure is on the source, counted for the backoff: the sources page says "failing", never "waiting".
    assert "worker lost mid-batch" in source.last_error and source.consecutive_failures == 1

    monkeypatch.setattr(services, "_ingest_batch", real_batch)
    retried = source_poll(source_id=source.pk)

    assert retried.stored == 3
    source.refresh_from_db()
    assert source.cursor == server.newest_cursor
    assert Post.objects.count() == 3


def test_it_waits_for_the_rate_limit_reset_before_fetching_again(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(1)
    server.mode = "429"
    server.retry_after_seconds = 120
    source = make_feed_source(server.url)
    before = timezone.now()

    limited = source_poll(source_id=source.pk)
    again = source_poll(source_id=source.pk)

    assert limited.status == again.status == PollStatus.RATE_LIMITED
    assert server.requests == 1  # the second poll did not spend a request
    source.refresh_from_db()
    assert before + timedelta(seconds=110) <= source.rate_limited_until <= timezone.now() + timedelta(seconds=130)
    assert source.consecutive_failures == 0 and "429" in source.last_error
    Source.objects.filter(pk=source.pk).update(last_polled_at=None)
    assert source.pk not in sources_due(now=timezone.now())

    server.mode = "ok"
    after_reset = source.rate_limited_until + timedelta(seconds=1)
    assert sources_due(now=after_reset) == [source.pk]
    polled = source_poll(source_id=source.pk, now=after_reset)
    assert (polled.status, polled.stored) == (PollStatus.POLLED, 1)
    source.refresh_from_db()
    assert source.rate_limited_until is None


def test_it_stops_a_source_on_a_permanent_error_and_keeps_the_reason(feed_server, make_feed_source):
    server = feed_server()
    server.mode = "401"
    source = make_feed_source(server.url)

    failed = source_poll(source_id=source.pk)
    stopped = source_poll(source_id=source.pk)

    assert failed.status == PollStatus.FAILED_PERMANENTLY and not failed.retryable
    assert stopped.status == PollStatus.STOPPED
    assert server.requests == 1
    source.refresh_from_db()
    assert source.enabled and source.error_is_permanent
    assert "401" in source.last_error
    Source.objects.filter(pk=source.pk).update(last_polled_at=None)
    assert sources_due(now=timezone.now() + timedelta(days=1)) == []


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_it_counts_transient_errors_and_polls_a_failing_source_less_often(mode, feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(1)
    server.mode = mode
    source = make_feed_source(server.url, interval_seconds=60)

    outcomes = [source_poll(source_id=source.pk) for _ in range(2)]

    assert [o.status for o in outcomes] == [PollStatus.FAILED, PollStatus.FAILED]
    assert all(o.retryable for o in outcomes)
    source.refresh_from_db()
    assert source.consecutive_failures == 2 and not source.error_is_permanent and source.cursor == ""
    # Two failures: the 60 s interval becomes 4 minutes.
    last = source.last_polled_at
    assert sources_due(now=last + timedelta(seconds=239)) == []
    assert sources_due(now=last + timedelta(seconds=240)) == [source.pk]

    server.mode = "ok"
    recovered = source_poll(source_id=source.pk)
    assert recovered.stored == 1
    source.refresh_from_db()
    assert source.consecutive_failures == 0


def test_one_broken_source_does_not_block_the_others(feed_server, make_feed_source, make_brand):
    broken, healthy = feed_server(), feed_server()
    broken.mode = "500"
    healthy.add_entries(2)
    broken_source = make_feed_source(broken.url, brand=make_brand(name="Ondine Mobile"))
    healthy_source = make_feed_source(healthy.url, brand=make_brand(name="Brume Energie"))

    due = sources_due(now=timezone.now())
    outcomes = {source_id: source_poll(source_id=source_id) for source_id in due}

    assert set(due) == {broken_source.pk, healthy_source.pk}
    assert outcomes[broken_source.pk].status == PollStatus.FAILED
    assert outcomes[healthy_source.pk].stored == 2


def test_sources_due_claims_each_source_once_per_interval(feed_server, make_feed_source):
    source = make_feed_source(feed_server().url, interval_seconds=60)
    now = timezone.now()

    first, second, a_second_beat = sources_due(now=now), sources_due(now=now), sources_due(now=now + timedelta(seconds=1))

    assert first == [source.pk]
    assert second == [] and a_second_beat == []
    assert sources_due(now=now + timedelta(seconds=60)) == [source.pk]


def test_it_fetches_nothing_while_another_worker_holds_the_source(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(1)
    source = make_feed_source(server.url)

    with locks.source_lock(source_id=source.pk) as acquired:
        assert acquired
        busy = source_poll(source_id=source.pk)
    free = source_poll(source_id=source.pk)

    assert busy.status == PollStatus.BUSY
    assert free.status == PollStatus.POLLED
    assert server.requests == 1


def test_it_skips_a_poll_another_worker_already_did_since_it_was_asked(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(1)
    source = make_feed_source(server.url)
    asked_at = timezone.now()

    done = source_poll(source_id=source.pk, requested_at=asked_at)
    duplicate = source_poll(source_id=source.pk, requested_at=asked_at)

    assert done.status == PollStatus.POLLED and duplicate.status == PollStatus.FRESH
    assert server.requests == 1


def test_it_shows_what_an_unconfigured_source_needs_without_counting_failures(make_brand, settings):
    settings.X_BEARER_TOKEN = ""
    source = Source.objects.create(name="Ondine mentions on X", platform="x", kind="mentions", brand=make_brand())

    outcome = source_poll(source_id=source.pk)

    assert outcome.status == PollStatus.NOT_CONFIGURED
    source.refresh_from_db()
    assert source.last_error == "not configured: needs X_BEARER_TOKEN"
    assert source.consecutive_failures == 0 and not source.error_is_permanent
    assert sources_due(now=timezone.now()) == []  # no task storm for a source that cannot run


def test_it_ignores_disabled_and_deleted_sources(feed_server, make_feed_source):
    server = feed_server()
    source = make_feed_source(server.url)
    Source.objects.filter(pk=source.pk).update(enabled=False)

    assert source_poll(source_id=source.pk).status == PollStatus.DISABLED
    assert sources_due(now=timezone.now()) == []
    assert source_poll(source_id=source.pk + 1000).status == PollStatus.GONE
    assert server.requests == 0


def test_it_pauses_without_fetching_when_redis_is_unreachable(feed_server, make_feed_source, settings, caplog):
    server = feed_server()
    server.add_entries(1)
    source = make_feed_source(server.url)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down

    outcome = source_poll(source_id=source.pk)

    assert outcome.status == PollStatus.PAUSED
    assert server.requests == 0 and Post.objects.count() == 0
    assert "polling paused for source" in caplog.text
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and source.cursor == ""


def test_a_stale_poll_cannot_move_the_cursor_back(feed_server, make_feed_source):
    from socialfeed.polling import _cursor_advance

    server = feed_server()
    server.add_entries(2)
    source = make_feed_source(server.url)
    stale = Source.objects.get(pk=source.pk)  # a slow worker read the source before anyone polled it
    source_poll(source_id=source.pk)

    kept = _cursor_advance(source=stale, new_cursor="2024-03-04T09:10:00Z")

    source.refresh_from_db()
    assert kept == source.cursor == server.newest_cursor
