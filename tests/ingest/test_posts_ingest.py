"""posts_ingest: storing once, matching mentions (METRICS.md §2) and first responses (§3) in any arrival order."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialfeed.models import Mention, Post
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post(pid, author, minutes, text="", reply_to="", reply_to_author="", conv="", repost=False, handle=None):
    return NormalisedPost(platform="x", platform_id=str(pid), author_id=author, author_handle=handle or author,
                          created_at=T0 + timedelta(minutes=minutes), text=text, in_reply_to_id=str(reply_to or ""),
                          in_reply_to_author_id=reply_to_author, conversation_id=conv, is_repost=repost)


@pytest.fixture
def ondine(make_brand):
    return make_brand(name="Ondine Mobile", slug="ondine", handle="OndineMobile", user_id="900",
                      terms=["ondine"])


def test_it_stores_a_post_seen_twice_once_and_treats_new_text_as_an_edit(ondine):
    first = posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile plus de réseau")])
    again = posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile plus de réseau")])
    edited = posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile plus de réseau depuis ce matin")])
    assert (first.stored, again.stored, again.duplicates, edited.updated) == (1, 0, 1, 1)
    stored = Post.objects.get()
    assert stored.text.endswith("depuis ce matin") and stored.edited_at is not None
    assert Mention.objects.count() == 1


def test_it_matches_handles_replies_and_terms_but_not_reposts_or_the_brand_itself(ondine):
    posts_ingest(posts=[
        post(1, "c1", 0, "@ondinemobile is anyone there?"),              # handle, any case
        post(2, "c2", 1, "@OndineMobileFan hello"),                     # not a whole handle
        post(3, "c3", 2, "Panne chez #Ondine ce matin"),                  # tracking term as a whole word
        post(4, "c4", 3, "Ondinesque weather"),                          # not a whole word
        post(5, "c5", 4, "RT @OndineMobile news", repost=True),           # a repost is never a mention
        post(6, "900", 5, "We are looking into it", handle="OndineMobile"),  # the brand's own broadcast
        post(7, "c6", 6, "thanks", reply_to=6, reply_to_author="900"),    # reply to an official post
    ])
    matched = dict(Mention.objects.values_list("post__platform_id", "matched_by"))
    assert matched == {"1": "handle", "3": "term", "7": "reply"}
    official = Post.objects.get(platform_id="6")
    assert official.official_brand == ondine and official.official_kind == "broadcast"


def test_it_times_the_first_response_and_counts_a_burst_answered_once(ondine):
    posts_ingest(posts=[
        post(1, "c1", 0, "@OndineMobile no signal", conv="1"),
        post(2, "c1", 5, "@OndineMobile still nothing??", reply_to=1, conv="1"),
        post(3, "900", 12, "@c1 sorry, we are on it", reply_to=2, reply_to_author="c1", conv="1",
             handle="OndineMobile"),
    ])
    by_post = {m.post.platform_id: m for m in Mention.objects.select_related("post", "first_response")}
    assert by_post["1"].answered and by_post["1"].frt_seconds == 12 * 60
    assert by_post["2"].frt_seconds == 7 * 60
    assert by_post["1"].first_response.platform_id == "3"


def test_first_response_ignores_replies_before_the_mention(ondine):
    posts_ingest(posts=[
        post(1, "c1", 0, "@OndineMobile down?", conv="1"),
        post(2, "900", 3, "@c1 checking", reply_to=1, reply_to_author="c1", conv="1", handle="OndineMobile"),
        post(3, "c1", 10, "@OndineMobile still down", reply_to=2, conv="1"),
    ])
    later = Mention.objects.get(post__platform_id="3")
    assert not later.answered and later.frt_seconds is None


def test_it_gives_the_same_answer_when_the_reply_arrives_before_the_mention(ondine):
    posts_ingest(posts=[post(3, "900", 12, "@c1 sorry", reply_to=1, reply_to_author="c1", handle="OndineMobile")])
    posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile no signal")])
    mention = Mention.objects.get()
    assert mention.answered and mention.frt_seconds == 720


def test_it_follows_stored_reply_links_when_the_platform_gives_no_conversation(ondine):
    # Mastodon-like: no conversation ids. The customer's follow-up arrives first, then the root, then the reply.
    posts_ingest(posts=[post(2, "c1", 5, "@OndineMobile hello??", reply_to=1)])
    posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile panne")])
    posts_ingest(posts=[post(3, "900", 20, "@c1 fixed", reply_to=2, handle="OndineMobile")])
    assert set(Post.objects.filter(author_id="c1").values_list("conversation_id", flat=True)) == {"1"}
    first = Mention.objects.get(post__platform_id="1")
    assert first.answered and first.frt_seconds == 20 * 60


def test_it_joins_a_waiting_chain_to_its_conversation_when_the_missing_ancestor_arrives(ondine):
    # c1 complains (1); c2 answers c1 (2); c1 follows up under c2's reply (3); the brand answers that (4).
    # Arrival: 3, then 2, then 1, then 4: the chain must end in one conversation, so 4 answers mention 1.
    posts_ingest(posts=[post(3, "c1", 6, "@OndineMobile anyone?", reply_to=2)])
    posts_ingest(posts=[post(2, "c2", 3, "same here", reply_to=1)])
    posts_ingest(posts=[post(1, "c1", 0, "@OndineMobile panne")])
    posts_ingest(posts=[post(4, "900", 30, "@c1 on it", reply_to=3, handle="OndineMobile")])
    assert set(Post.objects.values_list("conversation_id", flat=True)) == {"1"}
    first = Mention.objects.get(post__platform_id="1")
    assert first.answered and first.frt_seconds == 30 * 60
