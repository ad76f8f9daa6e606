"""Complete polls: a burst bigger than one poll's page budget is stored whole, each post once, over a few polls.

The real tweepy and Mastodon.py clients poll local servers that page exactly as X API v2 and Mastodon document
(tests/platform_servers.py). Remove the gap (let the cursor jump to the newest post) and these tests fail: a
700-post burst then leaves 200 (X) or 500 (Mastodon) posts unread forever.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import OfficialAccount
from socialfeed.clients import mastodon as mastodon_client
from socialfeed.clients import x as x_client
from socialfeed.models import Mention, Post, Source, SourceGap
from socialfeed.polling import PollStatus, source_poll, sources_due
from tests.platform_servers import snowflake
from tests.polling.conftest import BRAND_X_ID

pytestmark = pytest.mark.django_db


def _x_mentions_source(brand):
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile",
                                             platform_user_id=BRAND_X_ID)
    return Source.objects.create(name="Ondine mentions on X", platform="x", kind="mentions", brand=brand,
                                 official_account=account)


def _poll_until_complete(source, *, limit=8):
    outcomes = []
    for _ in range(limit):
        outcomes.append(source_poll(source_id=source.pk))
        source.refresh_from_db()
        if not source.backfill_cursor:
            break
    return outcomes


def test_a_burst_of_700_x_mentions_is_stored_whole_and_once_over_two_polls(x_server, brand, client, make_user):
    source = _x_mentions_source(brand)
    now = timezone.now()
    x_server.burst(20, mention_of=BRAND_X_ID, start=now - timedelta(minutes=50))
    first = source_poll(source_id=source.pk)
    assert (first.status, first.stored) == (PollStatus.POLLED, 20)
    source.refresh_from_db()
    cursor_before = source.cursor

    burst = x_server.burst(700, mention_of=BRAND_X_ID, start=now - timedelta(minutes=40), author_prefix="b")
    x_server.requests.clear()
    during = source_poll(source_id=source.pk)

    # The page budget (5 pages of 100) stops the poll: the 500 newest are stored, the rest is an open gap, and
    # the cursor has not moved past what is missing.
    assert (during.stored, during.gap_open) == (500, True)
    source.refresh_from_db()
    assert source.cursor == cursor_before and source.backfill_cursor
    gap = SourceGap.objects.get(source=source, closed_at__isnull=True)
    assert gap.recoverable and gap.ends_at is not None
    user = make_user(username="comms", role="comms", teams=("Ondine comms",))
    brand.teams.add(user.teams.get())
    client.force_login(user)
    page = client.get(reverse("socialfeed:sources")).content.decode()
    assert "catching up" in page and "open gap:" in page and "still being read back" in page
    assert source.pk in sources_due(now=timezone.now() + timedelta(seconds=16))  # resumed at the next beat tick

    after = _poll_until_complete(source)

    assert [o.stored for o in after] == [200]
    source.refresh_from_db()
    assert source.backfill_cursor == "" and source.cursor == max((t["id"] for t in burst), key=int)
    assert source.complete_up_to is not None
    assert not SourceGap.objects.filter(source=source, closed_at__isnull=True).exists()
    assert Post.objects.filter(platform="x").count() == 720
    assert Post.objects.values("platform_id").distinct().count() == 720
    assert Mention.objects.filter(brand=brand).count() == 720
    # No page was paid for twice.
    asked = [(path, tuple(sorted((k, tuple(v)) for k, v in query.items()))) for _m, path, query in x_server.requests]
    assert len(asked) == len(set(asked)) == 5 + 2 + 1
    page = client.get(reverse("socialfeed:sources")).content.decode()
    assert "complete up to" in page and "still being read back" not in page


def test_posts_arriving_while_a_gap_is_read_back_are_read_right_after_it(x_server, brand):
    source = _x_mentions_source(brand)
    now = timezone.now()
    x_server.burst(5, mention_of=BRAND_X_ID, start=now - timedelta(minutes=55))
    source_poll(source_id=source.pk)
    x_server.burst(650, mention_of=BRAND_X_ID, start=now - timedelta(minutes=45), author_prefix="b")
    assert source_poll(source_id=source.pk).gap_open

    x_server.burst(30, mention_of=BRAND_X_ID, start=now - timedelta(minutes=5), author_prefix="late")
    closing = source_poll(source_id=source.pk)

    # The gap (150) is read first, then what is new (30), within the same page budget.
    assert (closing.stored, closing.gap_open) == (180, False)
    assert Post.objects.count() == 685


def test_a_rate_limit_mid_burst_keeps_what_was_read_and_resumes_after_the_reset(x_server, brand):
    source = _x_mentions_source(brand)
    now = timezone.now()
    x_server.burst(3, mention_of=BRAND_X_ID, start=now - timedelta(minutes=55))
    source_poll(source_id=source.pk)
    x_server.burst(450, mention_of=BRAND_X_ID, start=now - timedelta(minutes=45), author_prefix="b")
    x_server.remaining = 2  # two requests left in X's window

    limited = source_poll(source_id=source.pk)

    assert (limited.status, limited.stored, limited.gap_open) == (PollStatus.POLLED, 200, True)
    source.refresh_from_db()
    assert source.rate_limited_until is not None and source.rate_limited_until > timezone.now()
    assert source.pk not in sources_due(now=timezone.now() + timedelta(seconds=60))

    x_server.remaining = 450  # the window has reset
    Source.objects.filter(pk=source.pk).update(rate_limited_until=None)
    _poll_until_complete(source)
    assert Post.objects.count() == 453


def test_a_burst_of_700_mastodon_mentions_is_stored_whole_and_once(mastodon_server, brand):
    account = OfficialAccount.objects.create(brand=brand, platform="mastodon", handle="ondine",
                                             platform_user_id="7")
    source = Source.objects.create(name="Ondine mentions on Mastodon", platform="mastodon", kind="mentions",
                                   brand=brand, official_account=account)
    now = timezone.now()
    mastodon_server.burst(10, mention="7", start=now - timedelta(minutes=55))
    assert source_poll(source_id=source.pk).stored == 10

    mastodon_server.burst(700, mention="7", start=now - timedelta(minutes=45))
    mastodon_server.requests.clear()
    outcomes = _poll_until_complete(source)

    # 5 pages of 40 per poll: 200, 200, 200, then the last 100 and the gap closes.
    assert [o.stored for o in outcomes] == [200, 200, 200, 100]
    assert [o.gap_open for o in outcomes] == [True, True, True, False]
    assert Post.objects.filter(platform="mastodon").count() == 710
    assert Post.objects.values("platform_id").distinct().count() == 710
    assert Mention.objects.filter(brand=brand).count() == 710  # from each status's mentions list
    # Every page after the first followed the max_id Mastodon's Link header gave, with since_id kept.
    pages = [q for _m, path, q in mastodon_server.requests if path == "/api/v1/notifications"]
    assert all("since_id" in q for q in pages)
    # (all but the burst's first page, and the read of what is new once the gap has closed)
    assert sum("max_id" in q for q in pages) == len(pages) - 2
    source.refresh_from_db()
    assert source.cursor == str(len(mastodon_server.notifications))  # the newest notification id


def test_an_x_search_cursor_older_than_7_days_falls_back_to_the_window_and_records_the_gap(x_server, brand):
    OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile", platform_user_id=BRAND_X_ID)
    old = timezone.now() - timedelta(days=9)
    source = Source.objects.create(name="Ondine on X search", platform="x", kind="search", brand=brand,
                                   query="@ondine_mobile", cursor=snowflake(old), complete_up_to=old)
    x_server.burst(30, mention_of=BRAND_X_ID, start=timezone.now() - timedelta(hours=2))

    outcome = source_poll(source_id=source.pk)

    assert (outcome.status, outcome.stored) == (PollStatus.POLLED, 30)
    source.refresh_from_db()
    assert not source.error_is_permanent and source.consecutive_failures == 0
    lost = SourceGap.objects.get(source=source, recoverable=False)
    assert "7 days" in lost.reason
    assert abs((lost.starts_at - old).total_seconds()) < 1
    assert lost.ends_at > timezone.now() - timedelta(days=7)
    sent = [q for _m, path, q in x_server.requests if path == "/2/tweets/search/recent"]
    assert "since_id" not in sent[0] and "start_time" in sent[0]
    again = source_poll(source_id=source.pk)
    assert again.stored == 0 and SourceGap.objects.filter(source=source, recoverable=False).count() == 1


def test_an_x_search_refused_for_an_old_since_id_reads_the_window_instead_of_stopping(x_server, brand):
    # X's clock runs 5 minutes ahead of ours: a cursor just inside our 7 days is outside X's, which answers 400.
    x_server.now = timezone.now() + timedelta(minutes=5)
    source = Source.objects.create(name="Ondine on X search", platform="x", kind="search", brand=brand,
                                   query="ondine", cursor=snowflake(timezone.now() - timedelta(days=7, minutes=-3)))
    x_server.add_user("c1", "cust")
    x_server.post(author_id="c1", text="ondine en panne", at=timezone.now() - timedelta(hours=3))

    outcome = source_poll(source_id=source.pk)

    assert outcome.status == PollStatus.POLLED and outcome.stored == 1
    source.refresh_from_db()
    assert not source.error_is_permanent
    lost = SourceGap.objects.get(source=source, recoverable=False)
    assert "since_id" in lost.reason


def test_the_official_account_id_is_looked_up_once_and_stored(x_server, brand):
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile")
    source = Source.objects.create(name="Ondine's own posts", platform="x", kind="account_posts", brand=brand,
                                   official_account=account)
    x_server.post(author_id=BRAND_X_ID, text="Nous rétablissons le service.", at=timezone.now() - timedelta(minutes=3))

    source_poll(source_id=source.pk)
    source_poll(source_id=source.pk)

    account.refresh_from_db()
    assert account.platform_user_id == BRAND_X_ID
    assert x_server.paths().count("/2/users/by/username/ondine_mobile") == 1
    post = Post.objects.get()
    assert post.official_brand == brand and post.official_kind == "broadcast"


def test_mastodon_pages_stay_within_the_page_size_it_documents():
    assert mastodon_client.PAGE_SIZE == 40 and x_client.MAX_RESULTS == 100
    assert datetime.now(tz=UTC) > datetime(2024, 1, 1, tzinfo=UTC)
