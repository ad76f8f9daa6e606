"""Each platform read as it really is, end to end: the real client library over HTTP (local servers shaped as the
platforms document, or recorded responses), then ingestion, then what a comms team would see (one post, one
mention, answered or not; the brand's broadcasts).
"""
from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from incidents.figures import incident_figures
from incidents.models import Incident
from socialfeed.clients.bluesky import BlueskyClient
from socialfeed.clients.mastodon import MastodonClient, status_to_post
from socialfeed.clients.statusfeed import StatusFeedClient
from socialfeed.clients.x import XClient
from socialfeed.models import Mention, Post, PostAlias, Source
from socialfeed.services import posts_ingest
from tests.clients.conftest import Reply
from tests.platform_servers import MastodonServer, XServer, iso_ms, snowflake

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data" / "platforms"
NOW = timezone.now()


@pytest.fixture
def x():
    server = XServer().start()
    server.add_user("900", "ondine_mobile")
    server.add_user("c1", "nadia_c")
    yield server
    server.stop()


@pytest.fixture
def ondine(make_brand):
    return make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile", user_id="900")


def _x_fetch(server, kind="mentions", user="900", **kwargs):
    return XClient(bearer_token="t", api_host=server.url).fetch(kind=kind, account_user_id=user, **kwargs)


# --- X ---------------------------------------------------------------------------------------------------------

def test_x_an_edited_post_stays_one_post_with_its_latest_text_and_a_reply_to_any_version_answers_it(x, ondine):
    first_at = NOW - timedelta(minutes=20)
    original = x.post(author_id="c1", text="@ondine_mobile pas de réseau", at=first_at, mention_of="900")
    posts_ingest(posts=_x_fetch(x).posts)
    edited_at = first_at + timedelta(minutes=3)
    v2 = snowflake(edited_at, 7)
    x.post(id=v2, author_id="c1", text="@ondine_mobile pas de réseau à Lyon depuis 9 h", at=edited_at,
           mention_of="900", conversation_id=original["id"], edit_history_tweet_ids=[original["id"], v2])
    x.mentions["900"].remove(original)  # timelines show the latest version only
    reply = x.post(author_id="900", text="@nadia_c nous regardons", at=edited_at + timedelta(minutes=10),
                   conversation_id=original["id"], in_reply_to_user_id="c1",
                   referenced_tweets=[{"type": "replied_to", "id": v2}])

    posts_ingest(posts=_x_fetch(x, since_id=original["id"]).posts)
    posts_ingest(posts=_x_fetch(x, kind="account_posts").posts)

    customer = Post.objects.get(author_id="c1")
    assert customer.platform_id == original["id"] and customer.text.endswith("à Lyon depuis 9 h")
    assert customer.edited_at is not None and customer.created_at == datetime.fromisoformat(
        original["created_at"].replace("Z", "+00:00"))
    assert PostAlias.objects.get(alias_id=v2).post == customer
    mention = Mention.objects.get(brand=ondine)
    assert mention.answered and mention.first_response.platform_id == reply["id"]
    assert mention.frt_seconds == pytest.approx(13 * 60, abs=1)


def test_x_a_reply_to_an_edit_stored_before_the_edit_itself_is_linked_once_the_edit_arrives(x, ondine):
    first_at = NOW - timedelta(minutes=20)
    original = x.post(author_id="c1", text="@ondine_mobile coupure", at=first_at, mention_of="900")
    v2 = snowflake(first_at + timedelta(minutes=1), 9)
    reply = x.post(author_id="900", text="@nadia_c désolés", at=first_at + timedelta(minutes=5),
                   conversation_id=original["id"], in_reply_to_user_id="c1",
                   referenced_tweets=[{"type": "replied_to", "id": v2}])
    posts_ingest(posts=_x_fetch(x).posts)                      # the original
    posts_ingest(posts=_x_fetch(x, kind="account_posts").posts)  # the brand's reply to the edit, before the edit
    assert not Mention.objects.get().answered
    x.post(id=v2, author_id="c1", text="@ondine_mobile coupure totale", at=first_at + timedelta(minutes=1),
           mention_of="900", conversation_id=original["id"], edit_history_tweet_ids=[original["id"], v2])

    posts_ingest(posts=_x_fetch(x, since_id=original["id"]).posts)

    assert Post.objects.get(platform_id=reply["id"]).in_reply_to_id == original["id"]
    mention = Mention.objects.get()
    assert mention.answered and mention.first_response.platform_id == reply["id"]


def test_x_a_long_post_is_read_whole_so_a_handle_past_280_characters_is_seen(x, ondine):
    start = "Depuis ce matin plus rien ne marche, ni les appels ni les SMS ni les données mobiles. " * 4
    full = f"{start}Quelqu'un chez @ondine_mobile peut-il enfin répondre ?"
    x.post(author_id="c1", text=start[:277] + "…", at=NOW - timedelta(minutes=5), note_tweet={"text": full},
           mention_of="900")

    result = _x_fetch(x)
    posts_ingest(posts=result.posts)

    assert len(full) > 280 and result.posts[0].text == full
    assert Mention.objects.filter(brand=ondine).count() == 1
    asked = [q for _m, path, q in x.requests if path.endswith("/mentions")][0]
    assert "note_tweet" in asked["tweet.fields"][0]  # the server only sends note_tweet when it is asked for


def test_x_the_brands_own_retweets_are_not_official_updates(x, ondine):
    incident = Incident.objects.create(brand=ondine, title="Panne réseau", started_at=NOW - timedelta(hours=3))
    x.post(author_id="900", text="Nos équipes sont mobilisées sur la panne.", at=NOW - timedelta(hours=2))
    x.post(author_id="900", text="RT @nadia_c: toujours rien à Lyon", at=NOW - timedelta(minutes=30),
           referenced_tweets=[{"type": "retweeted", "id": "1"}])

    posts_ingest(posts=_x_fetch(x, kind="account_posts").posts)

    retweet = Post.objects.get(is_repost=True)
    assert retweet.official_brand is None and retweet.official_kind == ""
    assert Post.objects.get(is_repost=False).official_kind == "broadcast"
    figures = incident_figures(incident=incident, now=NOW)
    assert figures["longest_silence_s"] == pytest.approx(2 * 3600, abs=5)  # the retweet did not break it


def test_x_link_destinations_replace_the_short_links(x, ondine):
    x.post(author_id="900", text="Point sur la panne : https://t.co/AbCdEf12", at=NOW - timedelta(minutes=2),
           entities={"urls": [{"start": 20, "end": 43, "url": "https://t.co/AbCdEf12",
                               "expanded_url": "https://status.ondine.example/incidents/42",
                               "display_url": "status.ondine.example/incidents/42"}]})
    post, = _x_fetch(x, kind="account_posts").posts
    assert post.text == "Point sur la panne : https://status.ondine.example/incidents/42"


# --- Mastodon --------------------------------------------------------------------------------------------------

@pytest.fixture
def masto(settings):
    server = MastodonServer().start()
    server.add_account("7", "ondine")
    server.add_account("8", "client")
    yield server
    server.stop()


def _masto(server):
    return MastodonClient(api_base_url=server.url, access_token="t")


def test_mastodon_direct_and_followers_only_statuses_are_not_mentions(masto, make_brand):
    brand = make_brand(name="Ondine", slug="ondine", handle="ondine", platform="mastodon", user_id="7")
    for visibility in ("public", "unlisted", "private", "direct"):
        masto.status(account_id="8", content=f"<p>@ondine panne ({visibility})</p>", mentions=["7"],
                     at=NOW - timedelta(minutes=5), visibility=visibility)

    posts_ingest(posts=_masto(masto).fetch(kind="mentions", account_handle="ondine").posts)

    assert Post.objects.filter(platform="mastodon").count() == 4
    assert set(Mention.objects.filter(brand=brand).values_list("post__text", flat=True)) == {
        "@ondine panne (public)", "@ondine panne (unlisted)"}
    assert set(Post.objects.filter(is_public=False).values_list("text", flat=True)) == {
        "@ondine panne (private)", "@ondine panne (direct)"}


def test_mastodon_handles_come_from_the_mentions_list_not_the_html(masto, make_brand):
    brand = make_brand(name="Ondine", slug="ondine", handle="ondine", platform="mastodon", user_id="7")
    masto.add_account("99", "ondine", domain="other.example")  # another "ondine", on another instance
    masto.status(account_id="8", content='<p><a class="mention" href="https://other.example/@ondine">@ondine</a> '
                                         "salut</p>", mentions=["99"], at=NOW - timedelta(minutes=3))
    masto.status(account_id="8", content="<p>toujours rien</p>", mentions=["7"], at=NOW - timedelta(minutes=2))

    posts_ingest(posts=_masto(masto).fetch(kind="account_posts", account_user_id="8").posts)

    assert list(Mention.objects.filter(brand=brand).values_list("post__text", flat=True)) == ["toujours rien"]


def test_mastodon_recorded_mention_notification_is_read_from_its_mentions_list(make_brand):
    notification, = json.loads((DATA / "mastodon_mention_notifications.json").read_text())
    listed, = notification["status"]["mentions"]
    brand = make_brand(name="Test brand", slug="tb", handle="mastodonpy_test", platform="mastodon",
                       user_id=listed["id"])
    post = status_to_post(notification["status"])
    assert post.mentioned_ids == (listed["id"],) and post.mentioned_handles == ("mastodonpy_test",)
    posts_ingest(posts=[post])
    assert Mention.objects.get().brand == brand


def test_mastodon_an_edit_keeps_the_post_and_takes_the_platforms_edit_time():
    recorded = json.loads((DATA / "mastodon_status_edit.json").read_text())
    posts_ingest(posts=[status_to_post(recorded["posted"])])
    posts_ingest(posts=[status_to_post(recorded["edited"])])
    posts_ingest(posts=[status_to_post(recorded["posted"])])  # an older copy seen again changes nothing

    post = Post.objects.get()
    assert post.text.endswith("it is the KDE Advanced Text Editor, Kate")
    assert post.edited_at == datetime(2026, 8, 1, 13, 54, 0, 695000, tzinfo=UTC)


# --- Bluesky ---------------------------------------------------------------------------------------------------

def _jwt(exp: int) -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'exp': exp, 'sub': 'did:plc:ondine'})}.c2ln"


SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"


def _session(access_in: int) -> Reply:
    return Reply(200, {"accessJwt": _jwt(int(time.time()) + access_in), "refreshJwt": _jwt(int(time.time()) + 86400),
                       "handle": "ondine.bsky.social", "did": "did:plc:ondine"})


def _notification(uri_key: str, text: str, *, reason: str, created: str, indexed: str, **record) -> dict:
    return {"uri": f"at://did:plc:client/app.bsky.feed.post/{uri_key}", "cid": "bafyreib" + "a" * 52,
            "author": {"did": "did:plc:client", "handle": "client.bsky.social"}, "reason": reason,
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": created, **record},
            "isRead": False, "indexedAt": indexed, "labels": []}


def _bsky(server):
    return BlueskyClient(handle="ondine.bsky.social", app_password="app-pass", base_url=server.url)


def test_bluesky_keeps_its_session_across_polls_and_refreshes_it_instead_of_logging_in(local_server):
    local_server.routes[("POST", SESSION)] = _session(access_in=3600)
    local_server.routes[("POST", REFRESH)] = _session(access_in=3600)
    local_server.routes[("GET", SEARCH)] = Reply(200, {"posts": []})

    for _ in range(3):  # three polls, each with a client of its own (as each Celery task builds one)
        _bsky(local_server).fetch(kind="search", query="ondine")
    assert [s.path for s in local_server.seen].count(SESSION) == 1

    local_server.routes[("POST", SESSION)] = _session(access_in=-60)  # an access token that has expired
    from django.core.cache import cache
    cache.delete(_bsky(local_server).session_key)
    _bsky(local_server).fetch(kind="search", query="ondine")
    _bsky(local_server).fetch(kind="search", query="ondine")
    paths = [s.path for s in local_server.seen]
    assert paths.count(SESSION) == 2 and paths.count(REFRESH) == 1


def test_bluesky_mentions_come_from_the_accounts_notifications_quotes_included_and_indexed_time_wins(local_server,
                                                                                                  make_brand):
    brand = make_brand(name="Ondine", slug="ondine", handle="ondine.bsky.social", platform="bluesky",
                       user_id="did:plc:ondine")
    local_server.routes[("POST", SESSION)] = _session(access_in=3600)
    quoted = "at://did:plc:ondine/app.bsky.feed.post/3official"
    local_server.routes[("GET", NOTIFICATIONS)] = Reply(200, {"notifications": [
        _notification("3q", "toujours en panne", reason="quote", created="2026-03-02T09:10:00.000Z",
                      indexed="2026-03-02T09:10:01.000Z",
                      embed={"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "bafy"}}),
        _notification("3m", "@ondine.bsky.social rien ne marche", reason="mention",
                      created="2019-01-01T00:00:00.000Z", indexed="2026-03-02T09:05:00.000Z",
                      facets=[{"index": {"byteStart": 0, "byteEnd": 19},
                               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:ondine"}]}]),
        _notification("3l", "j'aime", reason="like", created="2026-03-02T09:00:00.000Z",
                      indexed="2026-03-02T09:00:00.000Z"),
    ]})

    result = _bsky(local_server).fetch(kind="mentions", account_handle="ondine.bsky.social")
    posts_ingest(posts=result.posts)

    asked = next(s for s in local_server.seen if s.path == NOTIFICATIONS)
    assert set(asked.query["reasons"]) == {"mention", "reply", "quote"}
    assert {p.text for p in result.posts} == {"toujours en panne", "@ondine.bsky.social rien ne marche"}
    backdated = Post.objects.get(platform_id__endswith="/3m")
    assert backdated.created_at == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # indexedAt, not the 2019 createdAt
    assert Mention.objects.get(brand=brand).post == backdated  # from its mention facet
    assert Post.objects.filter(platform_id__endswith="/3q").exists()  # the quote post is read, not dropped


def test_bluesky_mentions_of_another_account_use_searchs_mentions_filter(local_server):
    local_server.routes[("POST", SESSION)] = _session(access_in=3600)
    local_server.routes[("GET", SEARCH)] = Reply(200, {"posts": []})
    _bsky(local_server).fetch(kind="mentions", account_handle="brisant.bsky.social")
    asked = next(s for s in local_server.seen if s.path == SEARCH)
    assert asked.query["mentions"] == ["brisant.bsky.social"] and asked.query["q"] == ["*"]


# --- Status feeds ----------------------------------------------------------------------------------------------

STATUSPAGE = (Path(__file__).resolve().parent.parent / "data" / "statuspage" / "ondine_history.atom").read_bytes()


def test_a_statuspage_entry_with_three_updates_is_three_broadcasts_of_the_feeds_brand(local_server, make_brand):
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile")
    local_server.routes[("GET", "/history.atom")] = Reply(200, STATUSPAGE, {"Content-Type": "application/atom+xml"})
    source = Source.objects.create(name="Ondine status page", platform="feed", kind="status_feed", brand=brand,
                                   query=f"{local_server.url}/history.atom")
    incident = Incident.objects.create(brand=brand, title="Panne SMS", started_at=datetime(2024, 3, 12, 6, 0, tzinfo=UTC),
                                       ended_at=datetime(2024, 3, 12, 11, 0, tzinfo=UTC))

    result = StatusFeedClient().fetch(kind="status_feed", query=source.query)
    posts_ingest(posts=result.posts, source=source)

    updates = list(Post.objects.filter(platform="feed").order_by("created_at"))
    assert [(p.created_at.hour, p.text.split("\n\n")[1].split(" - ")[0]) for p in updates] == [
        (7, "Investigating"), (9, "Identified"), (10, "Resolved")]
    # No "feed" official account was created: the source's brand owns its entries.
    assert all(p.official_brand == brand and p.official_kind == "broadcast" for p in updates)
    assert not brand.official_accounts.filter(platform="feed").exists()
    assert Mention.objects.count() == 0
    figures = incident_figures(incident=incident, now=datetime(2024, 3, 12, 12, 0, tzinfo=UTC))
    assert figures["longest_silence_s"] == 2 * 3600  # 07:00 → 09:00; one post per entry read 5 h
    assert figures["first_update_s"] == 3600


# --- IBM customer care import ----------------------------------------------------------------------------------

def test_ibm_the_final_reply_of_a_dialog_is_credited_to_the_dialogs_company(tmp_path):
    from django.core.management import call_command

    dialog = {
        "dialogHeader": {"company": "AppleSupport", "conversationDateTime": "2020-03-02T09:00:00.000Z",
                         "duration": "00:20:00.0", "messageCount": "4", "sessionID": "test"},
        "dialogContent": [
            {"client": "a_customer", "datetime": "2020-03-02T09:00:00.000Z",
             "message": "@AppleSupport @AmazonHelp my order's iPad won't start", "tweet_ID": "1234456891111111111"},
            {"agent": "AmazonHelp", "datetime": "2020-03-02T09:05:00.000Z",
             "message": "@a_customer for the device itself, Apple can help", "tweet_ID": "1234458149999999999"},
            {"client": "a_customer", "datetime": "2020-03-02T09:10:00.000Z", "message": "@AppleSupport ok?",
             "tweet_ID": "1234459408888888888"}],
        "agentURL": {"tweet_ID": "1234461925555555555", "turn": "4", "url": "https://support.apple.com/ipad",
                     "url_utterance": "@a_customer Here is how to restart it: https://support.apple.com/ipad"},
    }
    path = tmp_path / "dialogs.json"
    path.write_text(json.dumps([dialog]))
    call_command("import_posts", "--format", "ibm-cdp", str(path), "--no-progress")

    final = Post.objects.get(platform_id="1234461925555555555")
    assert final.official_brand.name == "AppleSupport" and final.official_kind == "reply"
    assert Post.objects.get(platform_id="1234458149999999999").official_brand.name == "AmazonHelp"


def test_iso_helper_is_the_platforms_millisecond_form():
    assert iso_ms(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)) == "2026-03-02T09:00:00.000Z"
