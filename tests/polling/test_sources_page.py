"""The sources page: each source's polling state, only for the brands the user may see."""
from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import Team
from socialfeed.models import Source
from socialfeed.polling import source_poll

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_teams(make_user, make_brand):
    alice = make_user(username="alice", teams=("Ondine comms",))
    bob = make_user(username="bob", teams=("Brume comms",))
    ondine = make_brand(name="Ondine Mobile", team=Team.objects.get(name="Ondine comms"))
    brume = make_brand(name="Brume Energie", team=Team.objects.get(name="Brume comms"))
    return alice, bob, ondine, brume


def test_it_shows_what_a_source_needs_and_why_it_stopped(client, two_teams, feed_server, settings):
    settings.X_BEARER_TOKEN = ""
    alice, _bob, ondine, _brume = two_teams
    Source.objects.create(name="Ondine mentions on X", platform="x", kind="mentions", brand=ondine)
    server = feed_server()
    server.mode = "401"
    feed = Source.objects.create(name="Ondine status page", platform="feed", kind="status_feed", brand=ondine,
                                 query=server.url)
    source_poll(source_id=feed.pk)
    client.force_login(alice)

    page = client.get(reverse("socialfeed:sources")).content.decode()

    assert "Ondine mentions on X" in page
    assert "not configured — needs X_BEARER_TOKEN" in page
    assert "stopped: fix the cause, then reset it" in page
    assert "answered 401" in page


def test_it_shows_only_the_sources_of_the_users_brands(client, two_teams):
    alice, bob, ondine, brume = two_teams
    Source.objects.create(name="Ondine status page", platform="feed", kind="status_feed", brand=ondine,
                          query="https://status.example.test/ondine.atom")
    Source.objects.create(name="Brume status page", platform="feed", kind="status_feed", brand=brume,
                          query="https://status.example.test/brume.atom")
    client.force_login(bob)

    page = client.get(reverse("socialfeed:sources")).content.decode()

    assert "Brume status page" in page
    assert "Ondine" not in page


def test_it_asks_visitors_to_log_in(client):
    response = client.get(reverse("socialfeed:sources"))

    assert response.status_code == 302 and "/login/" in response["Location"]
