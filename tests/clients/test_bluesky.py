"""Bluesky client through the real atproto SDK and httpx, against a local XRPC server serving the recorded
postView from bluesky_atproto_fixtures, copied into tests/data/slices (fetched from bsky.social by the SDK's own tests)."""
from __future__ import annotations

import base64
import copy
import json
import time
from datetime import UTC, datetime

import pytest

from socialfeed.clients import SourceError, configuration_status
from socialfeed.clients.bluesky import BlueskyClient
from tests.clients.conftest import Reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
LOGIN = "/xrpc/com.atproto.server.createSession"


def _jwt(exp: int) -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'exp': exp, 'sub': 'did:plc:test'})}.c2ln"


@pytest.fixture
def recorded_post(data_slices):
    return json.loads((data_slices / "bluesky_atproto_fixtures" / "thread_view_post_with_embed_media.json")
                      .read_text())["thread"]["post"]


@pytest.fixture
def reply_post(recorded_post):
    # The fixtures hold no reply (README); this copy adds a replyRef as the app.bsky.feed.post lexicon defines it.
    reply = copy.deepcopy(recorded_post)
    reply["uri"] = reply["uri"].rsplit("/", 1)[0] + "/3kahf0000000a"
    reply["indexedAt"] = "2023-09-28T13:00:00.000Z"
    reply["record"] = {"$type": "app.bsky.feed.post", "createdAt": "2023-09-28T12:59:59.000Z", "langs": ["fr"],
                       "text": "toujours en panne ?",
                       "reply": {"root": {"uri": "at://did:plc:root/app.bsky.feed.post/3root", "cid": recorded_post["cid"]},
                                 "parent": {"uri": recorded_post["uri"], "cid": recorded_post["cid"]}}}
    return reply


@pytest.fixture
def bsky(local_server):
    local_server.routes[("POST", LOGIN)] = Reply(200, {
        "accessJwt": _jwt(int(time.time()) + 3600), "refreshJwt": _jwt(int(time.time()) + 86400),
        "handle": "hotline-test.bsky.social", "did": "did:plc:hotlinetest"})
    return local_server


def _client(server, **kwargs):
    return BlueskyClient(handle="hotline-test.bsky.social", app_password="app-pass", base_url=server.url, **kwargs)


def test_it_searches_posts_and_maps_replies_to_their_conversation(bsky, recorded_post, reply_post):
    bsky.routes[("GET", SEARCH)] = Reply(200, {"posts": [reply_post, recorded_post]})
    result = _client(bsky).fetch(kind="search", query="@ondine", since_id="")

    reply, original = result.posts
    assert original.platform == "bluesky" and original.platform_id == recorded_post["uri"]
    assert original.author_handle == "test.marshal.dev" and original.author_id == "did:plc:kvwvcn5iqfooopmyzvb4qzba"
    assert original.created_at == datetime(2023, 9, 28, 12, 49, 36, 735000, tzinfo=UTC)
    assert original.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert original.lang == "en" and original.in_reply_to_id == "" and original.conversation_id == ""
    assert reply.in_reply_to_id == recorded_post["uri"]
    assert reply.in_reply_to_author_id == "did:plc:kvwvcn5iqfooopmyzvb4qzba"
    assert reply.conversation_id == "at://did:plc:root/app.bsky.feed.post/3root"
    # The cursor is Bluesky's sortAt (the earlier of createdAt and indexedAt), what search's since filters on.
    assert result.cursor == "2023-09-28T12:59:59.000Z"
    login, search = bsky.seen
    assert login.path == LOGIN and search.query["q"] == ["@ondine"] and search.query["sort"] == ["latest"]


def test_it_passes_the_cursor_as_since_and_drops_posts_not_newer(bsky, recorded_post, reply_post):
    bsky.routes[("GET", SEARCH)] = Reply(200, {"posts": [reply_post, recorded_post]})
    result = _client(bsky).fetch(kind="search", query="ondine", since_id="2023-09-28T12:55:00Z")
    assert [p.platform_id for p in result.posts] == [reply_post["uri"]]
    assert bsky.seen[-1].query["since"] == ["2023-09-28T12:55:00.000Z"]

    again = _client(bsky).fetch(kind="search", query="ondine", since_id=result.cursor)
    assert again.posts == [] and again.cursor == result.cursor


def test_it_follows_search_pages_once_each(bsky, recorded_post, reply_post):
    bsky.routes[("GET", SEARCH)] = [Reply(200, {"posts": [reply_post], "cursor": "p2"}),
                                    Reply(200, {"posts": [recorded_post], "cursor": "p2"})]
    result = _client(bsky).fetch(kind="search", query="ondine", since_id="")
    cursors = [s.query.get("cursor", [""])[0] for s in bsky.seen if s.path == SEARCH]
    assert cursors == ["", "p2"]  # the repeated cursor is not followed again
    assert len(result.posts) == 2


def test_it_reads_an_official_author_feed_without_reposts(bsky, recorded_post, reply_post):
    repost = {"post": reply_post, "reason": {"$type": "app.bsky.feed.defs#reasonRepost",
                                             "by": recorded_post["author"], "indexedAt": "2023-09-28T13:01:00.000Z"}}
    bsky.routes[("GET", AUTHOR_FEED)] = Reply(200, {"feed": [repost, {"post": recorded_post}]})
    result = _client(bsky).fetch(kind="account_posts", account_handle="test.marshal.dev")
    assert [p.platform_id for p in result.posts] == [recorded_post["uri"]]
    assert bsky.seen[-1].query["actor"] == ["test.marshal.dev"]


def test_it_turns_a_429_into_a_wait_until_the_reset_header(bsky):
    bsky.routes[("GET", SEARCH)] = Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                         {"ratelimit-remaining": "0", "ratelimit-reset": "4102444800"})
    with pytest.raises(SourceError) as caught:
        _client(bsky).fetch(kind="search", query="ondine", since_id="")
    assert not caught.value.permanent
    assert caught.value.retry_at == datetime(2100, 1, 1, tzinfo=UTC)


def test_it_stops_for_good_when_the_login_is_refused(local_server):
    local_server.routes[("POST", LOGIN)] = Reply(401, {"error": "AuthenticationRequired",
                                                       "message": "Invalid identifier or password"})
    with pytest.raises(SourceError) as caught:
        _client(local_server).fetch(kind="search", query="ondine", since_id="")
    assert caught.value.permanent and "BLUESKY_APP_PASSWORD" in str(caught.value)


def test_it_retries_a_server_error_later(bsky):
    bsky.routes[("GET", SEARCH)] = Reply(500, {"error": "InternalServerError"})
    with pytest.raises(SourceError) as caught:
        _client(bsky).fetch(kind="search", query="ondine", since_id="")
    assert not caught.value.permanent and "500" in str(caught.value)


def test_it_gives_up_on_a_slow_answer_at_the_timeout(bsky):
    bsky.routes[("GET", SEARCH)] = Reply(200, {"posts": []}, delay=1.5)
    with pytest.raises(SourceError) as caught:
        _client(bsky, timeout=0.3).fetch(kind="search", query="ondine", since_id="")
    assert not caught.value.permanent and "0.3 s" in str(caught.value)


@pytest.mark.parametrize("body", [b'{"posts": [{"uri": ', b'{"posts": [{"uri": "at://x/app.bsky.feed.post/1"}]}'])
def test_it_reports_a_malformed_payload(bsky, body):
    bsky.routes[("GET", SEARCH)] = Reply(200, body, {"Content-Type": "application/json"})
    with pytest.raises(SourceError) as caught:
        _client(bsky).fetch(kind="search", query="ondine", since_id="")
    assert "malformed" in str(caught.value) and not caught.value.permanent


def test_it_shows_bluesky_as_not_configured_without_an_app_password(settings):
    settings.BLUESKY_HANDLE = "brand.bsky.social"
    settings.BLUESKY_APP_PASSWORD = ""
    assert configuration_status("bluesky") == (False, "not configured: needs BLUESKY_APP_PASSWORD")
