"""Helpers for the report tests: posts go in through posts_ingest, as in production."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


def at(text: str) -> datetime:
    """A UTC instant from "2026-11-10 09:00:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def ingest(db):
    """ingest(posts...) where each post is a NormalisedPost; returns the IngestResult."""
    from socialfeed.services import posts_ingest

    def _ingest(*posts):
        return posts_ingest(posts=list(posts))

    return _ingest


@pytest.fixture
def tweet():
    """tweet(id, when, text, author=..., reply_to=..., reply_to_author=...) -> NormalisedPost on X."""
    from socialfeed.normalised import NormalisedPost

    def _tweet(platform_id, when, text, *, author="customer1", author_id=None, reply_to="", reply_to_author="",
               conversation="", platform="x"):
        return NormalisedPost(
            platform=platform, platform_id=str(platform_id), author_id=author_id or f"id-{author}",
            author_handle=author, created_at=when if isinstance(when, datetime) else at(when), text=text,
            lang="en", in_reply_to_id=str(reply_to), in_reply_to_author_id=reply_to_author,
            conversation_id=conversation or str(platform_id), url=f"https://x.com/{author}/status/{platform_id}",
        )

    return _tweet


@pytest.fixture
def conversation(tweet, ingest):
    """conversation(brand_handle, brand_user_id, mention_at, reply_after_s or None, id, text) ingests a mention of
    the brand and, unless reply_after_s is None, the brand's reply that many seconds later."""

    def _conversation(*, handle, user_id, when, reply_after_s, pid, text=None, author="customer1"):
        mention = tweet(pid, when, text or f"@{handle} my line is down since this morning", author=author)
        posts = [mention]
        if reply_after_s is not None:
            posts.append(tweet(f"{pid}r", mention.created_at + timedelta(seconds=reply_after_s),
                               f"@{author} sorry about that, we are on it", author=handle, author_id=user_id,
                               reply_to=pid, reply_to_author=mention.author_id, conversation=str(pid)))
        return ingest(*posts)

    return _conversation
