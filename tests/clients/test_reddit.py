"""Reddit client through PRAW and prawcore's own requests session, against Reddit API responses recorded by PRAW's
integration tests (tests/data/platforms, cut from shared/data/reddit_praw_cassettes), replayed by vcrpy. Error
cases and the account listing are modified copies of those recordings."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialfeed.clients import SourceError, configuration_status
from socialfeed.clients.reddit import RedditClient
from socialfeed.models import Post
from socialfeed.services import posts_ingest
from tests.clients.conftest import replay, write_cassette

DATA = Path(__file__).resolve().parent.parent / "data" / "platforms"


def _betamax(name: str) -> list[dict]:
    """A betamax cassette's interactions in vcrpy's shape (same requests, same recorded responses)."""
    recorded = json.loads((DATA / name).read_text())
    out = []
    for interaction in recorded["interactions"]:
        request, response = interaction["request"], interaction["response"]
        out.append({
            "request": {"method": request["method"], "uri": request["uri"], "body": request.get("body") or None,
                        "headers": request["headers"]},
            "response": {"status": response["status"], "headers": response["headers"],
                         "body": {"string": response["body"].get("string", "")}},
        })
    return out


def _listing(interaction: dict) -> dict:
    return json.loads(interaction["response"]["body"]["string"])


def _with(interaction: dict, *, uri: str | None = None, status: int | None = None, body=None,
          headers: dict[str, str] | None = None) -> dict:
    copied = copy.deepcopy(interaction)
    if uri:
        copied["request"]["uri"] = uri
    if status is not None:
        copied["response"]["status"] = {"code": status, "message": str(status)}
    if body is not None:
        copied["response"]["body"]["string"] = json.dumps(body)
    for key, value in (headers or {}).items():
        copied["response"]["headers"][key] = [value]
    return copied


def _client(**kwargs) -> RedditClient:
    return RedditClient(client_id="id", client_secret="secret", user_agent="Hotline tests (by u/hotline)", **kwargs)


def test_it_searches_with_praw_and_maps_submissions(tmp_path):
    token, search = _betamax("reddit_testsubreddit_test_search.json")
    recorded = _listing(search)
    with replay(write_cassette(tmp_path, "search", [token, search])):
        result = _client().fetch(kind="search", query="praw oauth search")

    assert [p.platform_id for p in result.posts] == [c["data"]["name"] for c in recorded["data"]["children"]]
    first = result.posts[0]
    assert first.platform == "reddit" and first.author_handle == "dClauzel"
    assert first.text.startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert first.created_at == datetime.fromtimestamp(1439370514, tz=UTC)
    assert first.conversation_id == first.platform_id and first.in_reply_to_id == ""
    assert first.url.startswith("https://www.reddit.com/r/redditdev/comments/3gpbiu/")
    assert first.edited_at == datetime.fromtimestamp(1439447718, tz=UTC)  # Reddit's "edited" time
    assert result.complete  # the recorded listing has no "after": nothing older to read
    assert result.cursor == max(p.created_at for p in result.posts).isoformat().replace("+00:00", "Z")


def test_it_reads_an_accounts_comments_with_their_reply_links_and_pages_with_after(tmp_path):
    token, comments = _betamax("reddit_testsubredditlistings_test_comments.json")
    listing = _listing(comments)
    uri = "https://oauth.reddit.com/user/ondine_support/overview?sort=new&limit=100&raw_json=1"
    second = copy.deepcopy(listing)
    second["data"]["children"], second["data"]["after"] = [], None
    path = write_cassette(tmp_path, "overview", [token, _with(comments, uri=uri), _with(comments, uri=uri, body=second)])

    with replay(path):
        result = _client(max_pages=1).fetch(kind="account_posts", account_handle="ondine_support")

    reply = next(p for p in result.posts if p.platform_id == "t1_d4y8bdn")
    assert reply.in_reply_to_id == "t1_d4xrzgq" and reply.conversation_id == "t3_4r2hd3"
    assert not result.complete and result.resume == listing["data"]["after"]  # the gap resumes from "after"



@pytest.mark.django_db
def test_the_brands_u_mention_counts_as_its_handle(tmp_path, make_brand):
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_support", platform="reddit")
    token, comments = _betamax("reddit_testsubredditlistings_test_comments.json")
    listing = _listing(comments)
    listing["data"]["children"][0]["data"]["body"] = "Still no data here, u/ondine_support any news?"
    uri = "https://oauth.reddit.com/r/askreddit/search/?q=ondine&sort=new&restrict_sr=True&limit=100&raw_json=1"
    path = write_cassette(tmp_path, "mention", [token, _with(comments, uri=uri, body=listing)])
    with replay(path):
        result = _client().fetch(kind="search", query="r/askreddit ondine", since_id="")
    posts_ingest(posts=result.posts)
    assert Post.objects.get(platform_id="t1_d4y8bdp").mentions.get().brand == brand


@pytest.mark.parametrize(("status", "permanent"), [(403, True), (404, True), (503, False)])
def test_it_says_whether_retrying_can_help(tmp_path, status, permanent):
    token, search = _betamax("reddit_testsubreddit_test_search.json")
    failed = [_with(search, status=status, body={"message": "recorded error", "error": status})] * 3
    with replay(write_cassette(tmp_path, str(status), [token, *failed])), pytest.raises(SourceError) as caught:
        _client().fetch(kind="search", query="praw oauth search")
    assert caught.value.permanent is permanent


def test_it_stops_paging_before_the_rate_limit_runs_out(tmp_path):
    token, search = _betamax("reddit_testsubreddit_test_search.json")
    listing = _listing(search)
    listing["data"]["after"] = "t3_3b4erh"
    spent = _with(search, body=listing, headers={"x-ratelimit-remaining": "1.0", "x-ratelimit-used": "99",
                                                 "x-ratelimit-reset": "53"})
    with replay(write_cassette(tmp_path, "spent", [token, spent])):
        result = _client().fetch(kind="search", query="praw oauth search")
    assert not result.complete and result.rate_limit_remaining == 0
    assert result.rate_limit_reset is not None and result.resume == "t3_3b4erh"


def test_it_shows_reddit_as_not_configured_without_credentials(settings):
    settings.REDDIT_CLIENT_ID = ""
    ok, message = configuration_status("reddit")
    assert not ok and "REDDIT_CLIENT_ID" in message
