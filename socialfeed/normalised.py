"""The one shape every platform client, importer and the demo replay hands to ingestion."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class NormalisedPost:
    """A post as METRICS.md §1 describes it, independent of the platform it came from.

    ``created_at`` is timezone-aware UTC. ``in_reply_to_id`` and ``conversation_id`` are platform ids ("" when
    the platform gives none). ``raw`` is the platform's own payload, kept for audits and re-processing.
    """

    platform: str
    platform_id: str
    author_id: str
    author_handle: str
    created_at: datetime
    text: str
    lang: str = ""
    in_reply_to_id: str = ""
    in_reply_to_author_id: str = ""
    conversation_id: str = ""
    is_repost: bool = False
    url: str = ""
    raw: dict = field(default_factory=dict, hash=False, compare=False)
