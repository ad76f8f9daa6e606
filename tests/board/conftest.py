"""A small hand-built outage of Ondine Mobile, 10:00–12:00 UTC on 4 March 2025, whose figures are worked out by
hand in the tests from METRICS.md."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

UTC = dt.UTC
START = dt.datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
END = dt.datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, 4, hh, mm, ss, tzinfo=UTC)


@pytest.fixture
def comms(make_user):
    return make_user(username="camille", role="comms", teams=["Ondine comms"])


@pytest.fixture
def brand(make_brand, comms):
    from incidents.models import Team

    return make_brand(name="Ondine Mobile", slug="ondine", handle="ondine_mobile",
                      team=Team.objects.get(name="Ondine comms"))


def official(brand, when, *, kind="broadcast", category="status_update", text="Update"):
    from socialfeed.models import Post

    account = brand.official_accounts.first()
    return Post.objects.create(platform="x", platform_id=f"o{next(_ids)}", author_id="100",
                               author_handle=account.handle, created_at=when, text=text, official_account=account,
                               official_brand=brand, official_kind=kind, category=category,
                               sentiment_label="neutral", sentiment_score=0.0)


def mention(brand, when, *, response=None, complaint=False, label="neutral", text="@ondine_mobile hello"):
    from socialfeed.models import Mention, Post

    post = Post.objects.create(platform="x", platform_id=f"c{next(_ids)}", author_id=f"u{next(_ids)}",
                               author_handle=f"customer{next(_ids)}", created_at=when, text=text,
                               url="https://x.example/status/1", sentiment_label=label)
    frt = (response.created_at - when).total_seconds() if response else None
    return Mention.objects.create(post=post, brand=brand, created_at=when, matched_by="handle",
                                  first_response=response, first_response_at=response.created_at if response else None,
                                  frt_seconds=frt, answered=response is not None, complaint=complaint,
                                  sentiment_label=label)


@pytest.fixture
def outage(brand):
    """Official posts and mentions around the window; rollups rebuilt as ingestion would keep them."""
    from incidents.models import Incident
    from socialfeed.rollups import rollups_rebuild

    official(brand, at(9, 50))  # before the window: neither acknowledges nor breaks the silence
    official(brand, at(10, 5), category="promotional", text="Black Friday: 50% off!")  # off-message
    apology = official(brand, at(10, 12), kind="reply", category="apology", text="Sorry, we are on it")
    official(brand, at(10, 30), text="Mobile data is down in Lyon, we are working on it")
    late = official(brand, at(11, 50), kind="reply", category="workaround", text="Try wifi calling")
    official(brand, at(11, 0), category="resolution", text="Service is back")
    mention(brand, at(9, 30))  # before the window
    mention(brand, at(10, 1, 30), response=apology, label="negative", complaint=True)  # FRT 630 s
    mention(brand, at(10, 2, 10), complaint=True, label="negative", text="@ondine_mobile still down")  # unanswered
    mention(brand, at(10, 40), response=late, label="positive")  # FRT 4200 s: answered, but not within 1 h
    mention(brand, END)  # the window is [start, end): not counted
    rollups_rebuild(brand_id=brand.id)
    return Incident.objects.create(brand=brand, title="Mobile data outage", started_at=START, ended_at=END)


@pytest.fixture
def comms_client(client, comms):
    client.force_login(comms)
    return client
