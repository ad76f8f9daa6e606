"""A poller that meets a bad post keeps the others and says so on the source; a poller that cannot store at all
records why, and the sources page shows it failing, never "waiting for its first poll"."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import OfficialAccount, Team
from socialfeed import services
from socialfeed.models import Post, RejectedPost, Source
from socialfeed.polling import PollStatus, source_poll
from tests.polling.conftest import BRAND_X_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def mentions_source(brand):
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile",
                                             platform_user_id=BRAND_X_ID)
    return Source.objects.create(name="Ondine mentions on X", platform="x", kind="mentions", brand=brand,
                                 official_account=account)


@pytest.fixture
def comms(client, make_user, brand):
    user = make_user(username="comms", role="comms", teams=("Ondine comms",))
    Team.objects.get(name="Ondine comms").brands.add(brand)
    client.force_login(user)
    return client


def test_a_batch_with_poisoned_posts_keeps_the_others_and_the_source_shows_them(x_server, mentions_source, comms):
    now = timezone.now()
    x_server.burst(40, mention_of=BRAND_X_ID, start=now - timedelta(minutes=30))
    x_server.add_user("nul", "c" * 300)
    x_server.post(author_id="nul", text="@ondine_mobile réseau\u0000 coupé", at=now - timedelta(minutes=2),
                  mention_of=BRAND_X_ID)
    x_server.post(author_id="c1", text="@ondine_mobile from the future", at=now - timedelta(minutes=1),
                  mention_of=BRAND_X_ID, created_at="9999-12-31T23:59:59.000Z")

    outcome = source_poll(source_id=mentions_source.pk)

    assert (outcome.status, outcome.stored, outcome.rejected) == (PollStatus.POLLED, 41, 1)
    assert Post.objects.get(text="@ondine_mobile réseau coupé").author_handle == "c" * 255
    rejected = RejectedPost.objects.get()
    assert rejected.source == mentions_source and "created_at" in rejected.reason
    assert rejected.raw["created_at"] == "9999-12-31T23:59:59.000Z"  # the platform's own payload, for replay
    mentions_source.refresh_from_db()
    assert mentions_source.posts_rejected == 1 and mentions_source.consecutive_failures == 0
    assert mentions_source.cursor  # the cursor moved past the batch: the bad post does not block the source
    page = comms.get(reverse("socialfeed:sources")).content.decode()
    assert "1 post set aside" in page and "polling" in page

    again = source_poll(source_id=mentions_source.pk)
    assert again.status == PollStatus.POLLED and again.fetched == 0


def test_a_source_that_cannot_store_shows_the_error_and_is_retried_with_backoff(x_server, mentions_source, comms,
                                                                               monkeypatch):
    x_server.burst(5, mention_of=BRAND_X_ID, start=timezone.now() - timedelta(minutes=10))

    def broken(**kwargs):
        raise RuntimeError("the rollups table is missing")

    monkeypatch.setattr(services, "_ingest_batch", broken)
    outcomes = [source_poll(source_id=mentions_source.pk) for _ in range(3)]

    assert [o.status for o in outcomes] == [PollStatus.FAILED] * 3
    mentions_source.refresh_from_db()
    assert mentions_source.consecutive_failures == 3 and "rollups table is missing" in mentions_source.last_error
    assert mentions_source.cursor == "" and Post.objects.count() == 0
    page = comms.get(reverse("socialfeed:sources")).content.decode()
    assert "failing (3 in a row), retrying" in page and "waiting for its first poll" not in page
    assert "rollups table is missing" in page

    monkeypatch.undo()
    assert source_poll(source_id=mentions_source.pk).stored == 5
