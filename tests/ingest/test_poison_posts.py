"""One bad post never costs the others: it is made to fit, or set aside with its reason, and the batch is stored.

Each case is one a platform or a file really sends: a NUL character (PostgreSQL refuses it), an author id over
128 characters, a Mastodon ``acct`` of 259 characters, a Bluesky language tag such as ``en-GB-oxendict``, a date
that overflows on conversion to UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from socialfeed.models import Mention, Post, RejectedPost
from socialfeed.normalised import FIELD_SIZES, NormalisedPost
from socialfeed.services import posts_ingest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _post(pid, text="@OndineMobile plus de réseau", **changes):
    values = {"platform": "x", "platform_id": str(pid), "author_id": f"c{pid}", "author_handle": f"c{pid}",
              "created_at": T0 + timedelta(minutes=int(pid) % 50), "text": text}
    values.update(changes)
    return NormalisedPost(**values)


@pytest.fixture
def ondine(make_brand):
    return make_brand(name="Ondine Mobile", slug="ondine", handle="OndineMobile", user_id="900")


def test_it_makes_every_field_fit_and_keeps_the_full_values_in_raw(ondine):
    long_author = "a" * 300
    long_acct = "client_" + "x" * 240 + "@mastodon.example"  # 259 characters, as one instance sent it
    result = posts_ingest(posts=[
        _post(1, text="@OndineMobile panne\x00 depuis\x07 ce matin"),
        _post(2, author_id=long_author),
        _post(3, platform="mastodon", author_handle=long_acct, author_id="77"),
        _post(4, platform="bluesky", platform_id="at://did:plc:abc/app.bsky.feed.post/3k", lang="en-GB-oxendict"),
    ])

    assert (result.stored, result.rejected) == (4, 0)
    nul = Post.objects.get(platform_id="1")
    assert nul.text == "@OndineMobile panne depuis ce matin"
    long = Post.objects.get(platform_id="2")
    assert long.author_id == long_author[:128] and long.raw["hotline_full"]["author_id"] == long_author
    acct = Post.objects.get(platform="mastodon")
    assert len(acct.author_handle) == 255 and acct.raw["hotline_full"]["author_handle"] == long_acct
    tagged = Post.objects.get(platform="bluesky")
    assert tagged.lang == "en-GB"
    assert tagged.raw["hotline_full"]["lang"] == "en-GB-oxendict"
    assert Mention.objects.filter(brand=ondine).count() == 2  # the two X posts naming @OndineMobile
    assert FIELD_SIZES["author_handle"] == Post._meta.get_field("author_handle").max_length


def test_it_sets_aside_an_impossible_date_with_its_reason_and_stores_the_rest(ondine):
    overflow = datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    batch = [_post(n) for n in range(1, 21)]
    batch.insert(7, _post(99, created_at=overflow))
    batch.insert(3, _post(98, created_at=datetime(1900, 1, 1, tzinfo=UTC)))

    result = posts_ingest(posts=batch, origin="a test batch")

    assert (result.stored, result.rejected) == (20, 2)
    assert Post.objects.count() == 20
    reasons = dict(RejectedPost.objects.values_list("platform_id", "reason"))
    assert set(reasons) == {"99", "98"}
    assert "created_at" in reasons["99"] and "cannot be converted to UTC" in reasons["99"]
    assert "outside the dates Hotline stores" in reasons["98"]
    assert RejectedPost.objects.get(platform_id="99").origin == "a test batch"


def test_a_post_the_database_still_refuses_is_set_aside_and_its_batch_stored_post_by_post(ondine):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the refusal comes from a trigger of the real database")
    with connection.cursor() as cursor:
        # Whatever a post's data can still break in the database (a new constraint, a value an extension
        # refuses), the database says so with an error of the data class; here a trigger stands for it.
        cursor.execute("""
            CREATE FUNCTION hotline_test_refuse() RETURNS trigger AS $$
            BEGIN IF NEW.text LIKE '%poison%' THEN
              RAISE EXCEPTION 'value refused for text' USING ERRCODE = '22000'; END IF; RETURN NEW; END $$
            LANGUAGE plpgsql;
            CREATE TRIGGER hotline_test_refuse BEFORE INSERT ON socialfeed_post
              FOR EACH ROW EXECUTE FUNCTION hotline_test_refuse();""")
    batch = [_post(n) for n in range(1, 11)] + [_post(50, text="@OndineMobile poison")]

    result = posts_ingest(posts=batch)

    assert (result.stored, result.rejected) == (10, 1)
    assert not Post.objects.filter(platform_id="50").exists()
    rejected = RejectedPost.objects.get()
    assert rejected.platform_id == "50" and "value refused for text" in rejected.reason
    assert Mention.objects.count() == 10


def test_a_post_without_an_id_is_refused_and_named():
    result = posts_ingest(posts=[_post(1), _post(2, platform_id="  ")])
    assert (result.stored, result.rejected) == (1, 1)
    assert "platform_id is empty" in result.rejects[0].reason
