"""The board's §4 numbers are those of socialfeed.selectors.response_stats for the same window."""
from __future__ import annotations

import datetime as dt

import pytest

from incidents.figures import incident_figures
from incidents.models import Incident
from socialfeed.normalised import NormalisedPost
from socialfeed.rollups import rollups_rebuild
from socialfeed.selectors import response_stats
from socialfeed.services import posts_ingest

from .conftest import START

pytestmark = pytest.mark.django_db


def _post(n, minutes, author, text, reply_to="", conversation=""):
    return NormalisedPost(platform="x", platform_id=str(1000 + n), author_id=author, author_handle=f"user{author}",
                          created_at=START + dt.timedelta(minutes=minutes, seconds=n), text=text,
                          in_reply_to_id=reply_to, conversation_id=conversation or str(1000 + n), lang="en")


def test_it_agrees_with_response_stats_for_the_incident_window(brand):
    account = brand.official_accounts.first()
    account.platform_user_id = "99"
    account.save()
    posts = []
    for n in range(40):
        posts.append(_post(n, minutes=n * 3 - 10, author=str(n % 7), text="@ondine_mobile my data is down again"))
    for n in range(0, 40, 3):  # the brand answers a third of them, later and later
        posts.append(NormalisedPost(
            platform="x", platform_id=str(5000 + n), author_id="99", author_handle="ondine_mobile",
            created_at=START + dt.timedelta(minutes=n * 3 - 10 + n * 2, seconds=59), text="Sorry, we're on it",
            in_reply_to_id=str(1000 + n), in_reply_to_author_id=str(n % 7), conversation_id=str(1000 + n)))
    posts_ingest(posts=posts)
    rollups_rebuild(brand_id=brand.id)  # idempotent: harmless once ingestion refreshes rollups itself
    end = START + dt.timedelta(minutes=75, seconds=30)
    incident = Incident.objects.create(brand=brand, title="Data", started_at=START + dt.timedelta(seconds=20),
                                       ended_at=end)
    figures = incident_figures(incident=incident, now=end + dt.timedelta(hours=2))
    [stats] = response_stats(brands=[brand], start=incident.started_at, end=end, as_of=end + dt.timedelta(hours=2))
    assert stats.mentions > 10 and stats.answered > 3
    for key in ("mentions", "answered", "unanswered", "reply_rate", "median_frt_s", "p90_frt_s",
                "answered_within_target"):
        assert figures[key] == pytest.approx(getattr(stats, key)), key
