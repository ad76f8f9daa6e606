"""manage.py poll_source: an operator polls one source now, and resets it once the cause is fixed."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from socialfeed.models import Post

pytestmark = pytest.mark.django_db


def test_it_polls_a_source_now_and_says_what_came_in(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(2)
    source = make_feed_source(server.url)
    out = StringIO()

    call_command("poll_source", source.pk, stdout=out)

    assert "2 fetched, 2 new" in out.getvalue()
    assert Post.objects.filter(source=source).count() == 2


def test_it_fails_on_a_stopped_source_until_reset(feed_server, make_feed_source):
    server = feed_server()
    server.add_entries(1)
    server.mode = "401"
    source = make_feed_source(server.url)

    with pytest.raises(CommandError, match="401"):
        call_command("poll_source", source.pk, stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("poll_source", source.pk, stdout=StringIO())
    server.mode = "ok"
    out = StringIO()
    call_command("poll_source", source.pk, "--reset", stdout=out)

    assert "1 new" in out.getvalue()
    source.refresh_from_db()
    assert not source.error_is_permanent


def test_it_refuses_an_unknown_source():
    with pytest.raises(CommandError, match="no source 999"):
        call_command("poll_source", 999)
