"""Mastodon client against Mastodon.py's recorded real server responses (mastodon_api_fixtures, copied into
tests/data/slices), replayed by vcrpy through Mastodon.py's own requests session. Error cases are modified copies."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialfeed.clients import SourceError, configuration_status
from socialfeed.clients.mastodon import MastodonClient
from tests.clients.conftest import Reply, derive, load_cassette, replay, response_json, write_cassette

BASE = "http://localhost:3000"


@pytest.fixture
def cassettes(data_slices):
    return data_slices / "mastodon_api_fixtures" / "cassettes"


def _recorded(cassettes, name):
    return load_cassette(cassettes / f"{name}.yaml")["interactions"]


def _client(**kwargs):
    client = MastodonClient(api_base_url=BASE, access_token="__MASTODON_PY_TEST_ACCESS_TOKEN", **kwargs)
    client.sent = []
    client.api.session.hooks["response"].append(lambda r, *a, **k: client.sent.append(r.request.url))
    return client


def _account_statuses(cassettes, tmp_path, statuses, *, account_id="117020566092212359", **changes):
    """Real recorded statuses served where account_statuses asks for them (no account timeline was recorded)."""
    template = _recorded(cassettes, "test_home_tl")[1]
    uri = f"{BASE}/api/v1/accounts/{account_id}/statuses"
    return write_cassette(tmp_path, "account", [derive(template, uri=uri, body=statuses, **changes)])


def test_it_reads_a_hashtag_timeline_as_plain_text(cassettes):
    with replay(cassettes / "test_hashtag_tl.yaml"):
        result = (client := _client()).fetch(kind="hashtag", query="#hoot")

    post, = result.posts
    assert post.platform == "mastodon" and post.platform_id == "117020593741189701"
    assert post.text == "#hoot (hashtag toot)"
    assert post.author_handle == "mastodonpy_test_2" and post.author_id == "117020566092212359"
    assert post.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert post.lang == "ja" and post.conversation_id == "" and not post.is_repost
    assert post.url == f"{BASE}/@mastodonpy_test_2/117020593741189701"
    assert result.cursor == "117020593741189701"
    assert result.rate_limit_remaining is not None
    assert client.sent[-1].startswith(f"{BASE}/api/v1/timelines/tag/hoot")


def test_it_reads_mentions_from_notifications_and_pages_on_the_notification_id(cassettes):
    with replay(cassettes / "test_notifications_mentions_only.yaml"):
        result = (client := _client()).fetch(kind="mentions", account_handle="mastodonpy_test")

    post, = result.posts
    assert post.author_handle == "admin" and post.platform_id == "117020577157693549"
    assert post.text.startswith("@mastodonpy_test")
    assert result.cursor == "21"  # the notification id, what since_id pages on next time
    assert "types%5B%5D=mention" in client.sent[0]


def test_it_needs_a_token_for_mentions():
    client = MastodonClient(api_base_url=BASE)
    with pytest.raises(SourceError) as caught:
        client.fetch(kind="mentions", account_handle="brand")
    assert caught.value.permanent and "MASTODON_ACCESS_TOKEN" in str(caught.value)


def test_it_keeps_the_cursor_when_a_search_finds_nothing(cassettes, tmp_path):
    empty = _recorded(cassettes, "test_search")[2]  # the recorded type=statuses search, no statuses
    path = write_cassette(tmp_path, "search", [empty])
    with replay(path):
        result = (client := _client()).fetch(kind="search", query="mastodonpy_test", since_id="117020000000000000")
    assert result.posts == [] and result.cursor == "117020000000000000"
    assert "type=statuses" in client.sent[0]


def test_it_maps_reply_links_from_an_account_timeline(cassettes, tmp_path):
    parent, reply = (response_json(i) for i in _recorded(cassettes, "test_status_reply") if i["request"]["method"] == "POST")
    path = _account_statuses(cassettes, tmp_path, [reply, parent], account_id="117020565693913441")
    with replay(path):
        result = _client().fetch(kind="account_posts", account_user_id="117020565693913441")

    answer, original = result.posts
    assert answer.in_reply_to_id == original.platform_id == "117020583245459824"
    assert answer.in_reply_to_author_id == "117020566092212359"
    assert answer.text == "@mastodonpy_test_2 same!"
    assert answer.conversation_id == ""  # Mastodon has none; ingestion follows the reply link
    assert result.cursor == "117020583258292382"


def test_it_drops_statuses_not_newer_than_the_cursor_and_flags_reblogs(cassettes, tmp_path):
    statuses = response_json(_recorded(cassettes, "test_home_tl")[1])
    boost = dict(statuses[1], id="117020599999999999", content="", reblog=statuses[2])
    path = _account_statuses(cassettes, tmp_path, [boost, *statuses])
    with replay(path):
        result = _client().fetch(kind="account_posts", account_user_id="117020566092212359",
                                 since_id=statuses[3]["id"])

    assert [p.platform_id for p in result.posts] == ["117020599999999999"] + [s["id"] for s in statuses[:3]]
    assert result.posts[0].is_repost and result.posts[0].text.startswith("@mastodonpy_test")


def test_it_turns_a_429_into_a_wait_until_the_reset_header(cassettes, tmp_path):
    path = _account_statuses(cassettes, tmp_path, {"error": "Too many requests"}, status=429,
                             headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T12:00:00.000Z",
                                      "Date": datetime.now(tz=UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")})
    with replay(path), pytest.raises(SourceError) as caught:
        _client().fetch(kind="account_posts", account_user_id="117020566092212359")
    assert not caught.value.permanent
    assert abs((caught.value.retry_at - datetime(2099, 1, 1, 12, tzinfo=UTC)).total_seconds()) < 5


@pytest.mark.parametrize(("status", "permanent"), [(401, True), (403, True), (404, True), (500, False),
                                                   (503, False)])
def test_it_says_whether_retrying_can_help(cassettes, tmp_path, status, permanent):
    path = _account_statuses(cassettes, tmp_path, {"error": f"recorded as {status}"}, status=status)
    with replay(path), pytest.raises(SourceError) as caught:
        _client().fetch(kind="account_posts", account_user_id="117020566092212359")
    assert caught.value.permanent is permanent


def test_it_reports_a_malformed_payload(cassettes, tmp_path):
    path = _account_statuses(cassettes, tmp_path, None, raw_body='[{"id": "1", "created_')
    with replay(path), pytest.raises(SourceError) as caught:
        _client().fetch(kind="account_posts", account_user_id="117020566092212359")
    assert "malformed" in str(caught.value) and not caught.value.permanent


def test_it_gives_up_on_a_slow_server_at_the_timeout(local_server):
    local_server.routes[("GET", "/api/v1/accounts/1/statuses")] = Reply(200, [], delay=1.5)
    client = MastodonClient(api_base_url=local_server.url, access_token="t", timeout=0.3)
    with pytest.raises(SourceError) as caught:
        client.fetch(kind="account_posts", account_user_id="1")
    assert not caught.value.permanent and "0.3 s" in str(caught.value)


def test_it_shows_mastodon_as_not_configured_without_a_server(settings):
    settings.MASTODON_API_BASE_URL = ""
    assert configuration_status("mastodon") == (False, "not configured: needs MASTODON_API_BASE_URL")
