"""The Celery tasks, run in-process: beat's tick queues one poll per due source, after its claim commits."""
from __future__ import annotations

import pytest

from config.celery import app
from socialfeed.models import Post, Source
from socialfeed.tasks import poll_due_sources, poll_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    # The embedded default already runs tasks in-process; with REDIS_URL set, keep these tests off the broker.
    saved = {key: app.conf[key] for key in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(saved)


def test_the_beat_tick_polls_each_due_source_once(eager_celery, feed_server, make_feed_source, make_brand,
                                                  django_capture_on_commit_callbacks):
    healthy, broken = feed_server(), feed_server()
    healthy.add_entries(2)
    broken.mode = "500"
    make_feed_source(healthy.url, brand=make_brand(name="Ondine Mobile"))
    make_feed_source(broken.url, brand=make_brand(name="Brume Energie"))

    with django_capture_on_commit_callbacks(execute=True) as queued:
        first_tick = poll_due_sources.delay().get()
    with django_capture_on_commit_callbacks(execute=True):
        second_tick = poll_due_sources.delay().get()

    # The stored batch also queues its brands' alert check (posts_ingested): count the polls only.
    polls = [c for c in queued if getattr(c, "func", None) == poll_source.delay]
    assert (first_tick, len(polls), second_tick) == (2, 2, 0)
    assert (healthy.requests, broken.requests) == (1, 1)
    assert Post.objects.count() == 2
    assert Source.objects.get(query=broken.url).consecutive_failures == 1


def test_a_poll_task_for_a_deleted_source_returns_quietly(eager_celery):
    assert poll_source.delay(12345).get() == "gone"
