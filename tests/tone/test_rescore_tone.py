"""manage.py rescore_tone updates stored posts and their mentions."""
from __future__ import annotations

from datetime import UTC, datetime

from django.core.management import call_command

from socialfeed.models import Mention, Post


def test_it_rescores_posts_categories_and_mention_complaints(make_brand):
    brand = make_brand()
    when = datetime(2025, 3, 1, 9, tzinfo=UTC)
    customer = Post.objects.create(platform="x", platform_id="1", created_at=when, text="ma box est en panne, toujours rien",
                                   sentiment_label="positive", tone_analyser="old/0")
    official = Post.objects.create(platform="x", platform_id="2", created_at=when, official_brand=brand,
                                   official_kind="reply", text="Une rupture de fibre perturbe le service, une équipe est sur place")
    old = Post.objects.create(platform="x", platform_id="3", created_at=datetime(2024, 1, 1, tzinfo=UTC), text="great!",
                              tone_analyser="old/0")
    Mention.objects.create(post=customer, brand=brand, created_at=when, matched_by="handle")
    call_command("rescore_tone", since="2025-01-01", no_progress=True)
    customer.refresh_from_db()
    official.refresh_from_db()
    old.refresh_from_db()
    mention = Mention.objects.get(post=customer)
    assert customer.sentiment_label == "negative" and customer.tone_analyser.startswith("hotline-linear/")
    assert mention.complaint and mention.sentiment_label == "negative"
    assert official.category == "status_update"
    assert customer.category == ""
    assert old.tone_analyser == "old/0"
