"""A platform that does not answer in time: the poll gives up at the timeout, the source says why and retries
later, and the other sources are polled meanwhile (429, 500, 401 and garbage are covered in tests/polling)."""
from __future__ import annotations

import pytest

from socialfeed.models import Post
from socialfeed.polling import PollStatus, source_poll

pytestmark = pytest.mark.django_db


def test_a_platform_that_times_out_shows_why_and_the_other_sources_go_on(settings, feed_server, make_feed_source,
                                                                         make_brand):
    settings.HTTP_TIMEOUT_SECONDS = 1
    slow, healthy = feed_server(), feed_server()
    slow.add_entries(1)
    slow.delay_seconds = 3
    healthy.add_entries(2)
    stuck = make_feed_source(slow.url)
    other = make_feed_source(healthy.url, brand=make_brand(name="Brisant Telecom"), name="Brisant status")

    timed_out = source_poll(source_id=stuck.pk)
    fine = source_poll(source_id=other.pk)

    assert timed_out.status == PollStatus.FAILED and timed_out.retryable
    stuck.refresh_from_db()
    assert "did not answer within 1 s" in stuck.last_error
    assert stuck.consecutive_failures == 1 and not stuck.error_is_permanent and stuck.cursor == ""
    assert fine.status == PollStatus.POLLED and Post.objects.filter(source=other).count() == 2
