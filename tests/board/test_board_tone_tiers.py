"""The board says which tone tier it shows: the accurate tier's reading where the background re-read has reached
a mention, the fast tier's inline reading otherwise."""
from __future__ import annotations

import pytest
from django.urls import reverse

from socialfeed.models import Post

pytestmark = pytest.mark.django_db


def test_it_says_how_many_mentions_the_accurate_tier_has_read(comms_client, outage):
    url = reverse("incidents:board", kwargs={"pk": outage.pk})
    in_window = Post.objects.filter(mentions__brand=outage.brand, created_at__gte=outage.started_at,
                                    created_at__lt=outage.ended_at)
    total = in_window.count()
    Post.objects.filter(pk__in=list(in_window.values_list("pk", flat=True)[:2])).update(
        tone_analyser="hotline-e5/1.test+3.test")
    body = comms_client.get(url).content.decode()
    assert f"Tone read by the accurate tier for 2 of {total} mentions" in body
    french = comms_client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"niveau précis pour 2 mentions sur {total}" in french
