"""Status feed client against a real local HTTP server serving a small Atom feed written for Hotline."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialfeed.clients import SourceError, configuration_status
from socialfeed.clients.statusfeed import StatusFeedClient
from tests.clients.conftest import Reply

FEED = (Path(__file__).parent / "data" / "ondine_status.atom").read_bytes()


def _serve(local_server, reply):
    local_server.routes[("GET", "/history.atom")] = reply
    return f"{local_server.url}/history.atom"


def test_it_reads_each_entry_as_an_official_broadcast(local_server):
    url = _serve(local_server, Reply(200, FEED, {"Content-Type": "application/atom+xml"}))
    result = StatusFeedClient().fetch(kind="status_feed", query=url)

    resolved, investigating = result.posts
    assert resolved.platform == "feed" and resolved.author_handle == "Ondine Mobile status"
    assert resolved.platform_id == "tag:status.ondine.example,2024:incident/42/update/2"
    assert resolved.created_at == datetime(2024, 3, 12, 8, 40, tzinfo=UTC)
    assert resolved.text == ("Resolved: mobile data outage in Lyon\n\n"
                             "Service is back for all customers.\nRestart your phone if data still fails.")
    assert investigating.text.endswith("We are looking into data failures.")  # script dropped, never run
    assert resolved.url == "https://status.ondine.example/incidents/42"
    assert result.cursor == "2024-03-12T08:40:00Z"


def test_it_only_returns_entries_newer_than_the_cursor(local_server):
    url = _serve(local_server, Reply(200, FEED))
    client = StatusFeedClient()
    first = client.fetch(kind="status_feed", query=url, since_id="2024-03-12T07:30:00Z")
    assert [p.text.split(":")[0] for p in first.posts] == ["Resolved"]
    again = client.fetch(kind="status_feed", query=url, since_id=first.cursor)
    assert again.posts == [] and again.cursor == first.cursor


def test_it_reports_a_malformed_feed_as_transient(local_server):
    url = _serve(local_server, Reply(200, b"<html><body>Maintenance<"))
    with pytest.raises(SourceError) as caught:
        StatusFeedClient().fetch(kind="status_feed", query=url)
    assert not caught.value.permanent and "not readable RSS/Atom" in str(caught.value)


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (410, True), (500, False), (503, False)])
def test_it_says_whether_retrying_can_help(local_server, status, permanent):
    url = _serve(local_server, Reply(status, b"nope"))
    with pytest.raises(SourceError) as caught:
        StatusFeedClient().fetch(kind="status_feed", query=url)
    assert caught.value.permanent is permanent and str(status) in str(caught.value)


def test_it_gives_up_on_a_slow_feed_at_the_timeout(local_server):
    url = _serve(local_server, Reply(200, FEED, delay=1.5))
    with pytest.raises(SourceError) as caught:
        StatusFeedClient(timeout=0.3).fetch(kind="status_feed", query=url)
    assert not caught.value.permanent and "0.3 s" in str(caught.value)


def test_it_needs_no_credentials():
    assert configuration_status("feed") == (True, "configured")
